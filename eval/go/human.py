"""A human against an agent at Go in the terminal (`arena play go`).

`play` runs one game on OpenSpiel's `go` (Tromp-Taylor rules: area scoring,
suicide illegal, simple ko): it reads the human's commands from `inp`,
writes to `out` (any text streams, so tests script both), and writes the
game as SGF (sgfmill) after every move. The agent is any player spec of
`eval.players` at a Go table: "random", "gnugo:L", "gtp:COMMAND", or a Go
agent's run directory or bundled name ("RUN:sims=N", "RUN:greedy"). What the
human sees and types is `games.go.human_view`'s; `arena/play.py` parses the
command line.

The game ends after two passes in a row (or OpenSpiel's move limit, 2 N^2
moves) and is scored by area on the board as it stands: dead stones must be
captured first. A move that repeats an earlier position ends it as a draw
(OpenSpiel's rule). `resign` loses at once (SGF result "B+R"/"W+R"); an agent
that resigns or plays an illegal move forfeits ("B+F"/"W+F");
`quit` or the end of the input leaves the game unfinished (no result in the
record). `undo` takes back the human's last move and the agent's answer.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import pathlib
from typing import Callable, TextIO

import numpy as np
import pyspiel
from sgfmill import sgf

from agents.core import checkpoint
from eval import players as players_lib
from games import terminal
from games.go import coords
from games.go import human_view as view

HUMAN = "human"
APP_VERSION = "0.1.0"
REPETITION = ("a move repeated an earlier position, which ends OpenSpiel's "
              "game as a draw")


@dataclasses.dataclass(frozen=True)
class PlayConfig:
  """One game of the human against `agent`.

  Attributes:
    agent: a player spec (`eval.players`): "random", "gnugo:5", RUN_DIR...
    board_size: N for an N x N board (2..25).
    komi: points added to White's area.
    human_colour: 0 (Black, moves first) or 1 (White).
    seed: seeds the agent (random moves, GNU Go's random seed).
  """

  agent: str
  board_size: int = 9
  komi: float = 7.5
  human_colour: int = 0
  seed: int = 0

  def __post_init__(self):
    coords.check_board_size(self.board_size)
    if isinstance(self.komi, bool) or not isinstance(
        self.komi, (int, float)) or not math.isfinite(self.komi):
      raise ValueError(f"komi must be a finite number, got {self.komi!r}")
    if self.human_colour not in (0, 1):
      raise ValueError(f"human_colour must be 0 (Black) or 1 (White), got "
                       f"{self.human_colour!r}")

  def game_params(self) -> dict:
    return {"board_size": self.board_size, "komi": float(self.komi)}


@dataclasses.dataclass(frozen=True)
class Outcome:
  """How the game ended."""

  history: tuple[int, ...]  # action ids, Black first
  board: np.ndarray  # [P] int8, the last position
  returns: tuple[float, float] | None  # per colour; None: unfinished
  result: str  # SGF's RE: "B+3.5", "W+R", "B+F", "0"; "" when unfinished
  reason: str


def board_of(state: pyspiel.State) -> np.ndarray:
  """[P] int8 board of an OpenSpiel go state (1 Black, -1 White)."""
  n = state.get_game().get_parameters()["board_size"]
  planes = np.asarray(state.observation_tensor(0)).reshape(-1, n * n)
  return (planes[0] - planes[1]).astype(np.int8)  # Black, White planes


def sgf_record(cfg: PlayConfig, history: tuple[int, ...], *, result: str = "",
               note: str = "", date: str = "") -> bytes:
  """The game as SGF: size, komi, rules, players, moves, and RE if over."""
  game = sgf.Sgf_game(size=cfg.board_size)
  root = game.get_root()
  root.set("KM", float(cfg.komi))
  root.set("RU", "Tromp-Taylor")
  root.set("AP", ("arena", APP_VERSION))
  names = [HUMAN, HUMAN]
  names[1 - cfg.human_colour] = cfg.agent
  root.set("PB", names[0])
  root.set("PW", names[1])
  if date:
    root.set("DT", date)
  comment = f"seed: {cfg.seed}" + (f"; {note}" if note else "")
  root.set("GC", comment)
  if result:
    root.set("RE", result)
  for i, action in enumerate(history):
    game.extend_main_sequence().set_move(
        "bw"[i % 2], coords.to_sgfmill(action, cfg.board_size))
  return game.serialise()


class _Screen:
  """Lines and prompts on a text stream."""

  def __init__(self, out: TextIO):
    self._out = out

  def line(self, text: str = "") -> None:
    self._out.write(text + "\n")
    self._out.flush()

  def ask(self, prompt: str, inp: TextIO, echo: bool) -> str | None:
    """Prompts and reads a line; None at the end of the input."""
    return terminal.ask(self._out, prompt, inp, echo)


class _Match:
  """The impure shell of one game: state, agent, record, screen."""

  def __init__(self, cfg: PlayConfig, path: pathlib.Path, screen: _Screen,
               inp: TextIO, echo: bool,
               make_bot: Callable[..., pyspiel.Bot]):
    self.cfg, self.path, self.screen = cfg, path, screen
    self.inp, self.echo = inp, echo
    self.seat, self.n = cfg.human_colour, cfg.board_size
    self.date = datetime.date.today().isoformat()
    self.game = pyspiel.load_game("go", cfg.game_params())
    self.bot = make_bot(cfg.agent, self.game, 1 - self.seat, cfg.seed)
    self.state = self.game.new_initial_state()
    self.forfeit: str | None = None  # why the agent gave up, if it did
    try:
      self.bot.restart_at(self.state)
      self.save()
    except BaseException:
      self.close()
      raise

  def close(self) -> None:
    """Ends what the agent holds open (a GTP engine's process)."""
    close = getattr(self.bot, "close", None)
    if close is not None:
      close()

  @property
  def history(self) -> tuple[int, ...]:
    return tuple(self.state.history())

  @property
  def board(self) -> np.ndarray:
    return board_of(self.state)

  @property
  def pass_action(self) -> int:
    return self.n * self.n

  def save(self, result: str = "", note: str = "") -> None:
    data = sgf_record(self.cfg, self.history, result=result, note=note,
                      date=self.date)
    try:
      checkpoint.write_atomic(self.path, lambda f: f.write(data))
    except OSError as e:
      raise ValueError(f"cannot write the record {str(self.path)!r}: "
                       f"{e.strerror or e}") from None

  def name(self, colour: int) -> str:
    who = "you" if colour == self.seat else self.cfg.agent
    return f"{view.SIDES[colour]} ({who})"

  def apply(self, action: int) -> int:
    """Plays `action` for the player to move; returns the stones it took.

    An agent that cannot follow the human's move (its engine refuses it)
    forfeits (`self.forfeit`); the move stands.
    """
    player = self.state.current_player()
    before = self.state.clone()
    taken = view.captured(self.board, self.history)[player]
    self.state.apply_action(action)
    self.save()
    if player == self.seat:
      try:
        self.bot.inform_action(before, player, action)
      except players_lib.Forfeit as e:
        self.forfeit = str(e) or f"{self.cfg.agent} forfeited"
    return view.captured(self.board, self.history)[player] - taken

  # --- Display.

  def show_status(self) -> None:
    history = self.history
    last = history[-1] if history else None
    for line in view.board_lines(self.board, last):
      self.screen.line(line)
    self.screen.line(view.captures_line(self.board, history))
    self.screen.line(view.score_line(self.board, self.cfg.komi))
    if history:
      colour = (len(history) - 1) % 2
      move = view.describe_move(history[-1], self.n)
      self.screen.line(f"Last move: {self.name(colour)} "
                       f"{'passed' if move == 'pass' else move}.")
    self.screen.line(f"Move {len(history) + 1}: your turn, "
                     f"{view.SIDES[self.seat]} "
                     f"({view.STONES[self.seat]}).")

  def took(self, stones: int) -> str:
    return "" if not stones else (
        f", capturing {stones} stone{'s' * (stones != 1)}")

  # --- Turns.

  def agent_turn(self) -> None:
    action = self.bot.step(self.state)  # May forfeit.
    stones = self.apply(action)
    who = self.name(1 - self.seat)
    if action == self.pass_action:
      self.screen.line(f"{who} passes.")
    else:
      self.screen.line(f"{who} plays "
                       f"{view.describe_move(action, self.n)}"
                       f"{self.took(stones)}.")

  def undo(self) -> bool:
    """Takes back the human's last move and what followed; False if none."""
    history = self.history
    mine = [i for i in range(len(history)) if i % 2 == self.seat]
    if not mine:
      return False
    state = self.game.new_initial_state()
    for action in history[:mine[-1]]:
      state.apply_action(action)
    self.state = state
    self.bot.restart_at(state)
    self.save()
    return True

  def human_turn(self) -> str | None:
    """Reads commands until a move is played; returns "quit"/"resign"/None."""
    self.show_status()
    side = view.SIDES[self.seat]
    while True:
      line = self.screen.ask(f"{side}> ", self.inp, self.echo)
      if line is None:
        return "quit"
      try:
        cmd = view.parse_command(line, self.n)
      except view.CommandError as e:
        self.screen.line(str(e))
        continue
      if cmd.kind in ("quit", "resign"):
        return cmd.kind
      if cmd.kind == "help":
        self.screen.line(view.HELP)
        self.screen.line(view.LEGEND)
      elif cmd.kind == "board":
        self.show_status()
      elif cmd.kind in ("moves", "empty"):
        self.screen.line(view.legal_points_line(self.state.legal_actions(),
                                                self.n))
      elif cmd.kind == "undo":
        if self.undo():
          self.screen.line("Taken back: your last move and the agent's "
                           "answer.")
          return None
        self.screen.line("Nothing to undo: you have not moved yet.")
      elif cmd.action not in self.state.legal_actions():
        why = view.explain_illegal(self.board, cmd.action, self.seat)
        self.screen.line(f"Illegal: {why}.")
      else:
        stones = self.apply(cmd.action)
        if cmd.action == self.pass_action:
          self.screen.line("You pass.")
        else:
          self.screen.line(f"You play "
                           f"{view.describe_move(cmd.action, self.n)}"
                           f"{self.took(stones)}.")
        return None

  def end_reason(self) -> str:
    history = self.history
    if len(history) >= 2 and history[-1] == history[-2] == self.pass_action:
      return "both players passed"
    if len(history) >= self.game.max_game_length():
      return (f"the move limit ({self.game.max_game_length()} moves) was "
              "reached")
    return REPETITION


def play(cfg: PlayConfig, record_path: str | os.PathLike[str], *,
         inp: TextIO, out: TextIO, echo: bool = False,
         make_bot: Callable[..., pyspiel.Bot] = players_lib.make_player
         ) -> Outcome:
  """Plays one game of the human (`inp`/`out`) against `cfg.agent`.

  Args:
    cfg: the board, komi, colours and the agent.
    record_path: the SGF record, rewritten (atomically) after every move.
    inp, out: the human's input and output streams.
    echo: write each input line to `out` (for transcripts of piped input).
    make_bot: `(spec, game, player_id, seed) -> pyspiel.Bot`.

  Returns:
    How the game ended.

  Raises:
    ValueError: a bad agent spec or an unwritable record.
    FileNotFoundError: "gnugo:L" without GNU Go installed.
    RuntimeError: the agent's engine died or hung (the record is saved,
      unfinished).
  """
  screen = _Screen(out)
  match = _Match(cfg, pathlib.Path(record_path), screen, inp, echo, make_bot)
  seat, sides = cfg.human_colour, view.SIDES
  try:
    screen.line(
        f"Go {cfg.board_size}x{cfg.board_size}, komi {float(cfg.komi):g}, "
        f"Tromp-Taylor rules (area scoring). You are {sides[seat]} "
        f"({view.STONES[seat]}) and move {'first' if seat == 0 else 'second'}"
        f", against {cfg.agent} ({sides[1 - seat]}, {view.STONES[1 - seat]}). "
        "Type help for commands. "
        f"Record: {record_path}")
    return _play_out(match)
  except RuntimeError as e:
    match.save(note=f"unfinished: the agent failed: {e}")
    raise RuntimeError(f"the agent {cfg.agent!r} failed: {e}") from None
  finally:
    match.close()


def _play_out(match: _Match) -> Outcome:
  cfg, screen, seat = match.cfg, match.screen, match.seat
  letters = ("B", "W")
  stop = None
  while (not match.state.is_terminal() and stop is None
         and match.forfeit is None):
    try:
      if match.state.current_player() != seat:
        match.agent_turn()
      else:
        stop = match.human_turn()
    except players_lib.Forfeit as e:
      match.forfeit = str(e) or f"{cfg.agent} forfeited"
  forfeit = match.forfeit
  board = match.board
  if stop == "quit":
    match.save(note="unfinished: the human quit")
    screen.line("Game stopped, unfinished.")
    for line in view.board_lines(board):
      screen.line(line)
    screen.line(view.score_line(board, cfg.komi))
    screen.line(f"Record saved to {match.path}.")
    return Outcome(match.history, board, None, "", "unfinished: the human "
                   "quit")
  if stop == "resign" or forfeit:
    winner = 1 - seat if stop == "resign" else seat
    result = f"{letters[winner]}+{'R' if stop == 'resign' else 'F'}"
    reason = (f"{view.SIDES[seat]} (you) resigned" if stop == "resign" else
              f"{view.SIDES[1 - seat]} forfeits: {forfeit}")
    returns = [-1.0, -1.0]
    returns[winner] = 1.0
  else:
    reason = match.end_reason()
    result = "0" if reason == REPETITION else view.result(board, cfg.komi)
    returns = [float(r) for r in match.state.returns()]
  match.save(result=result, note=reason)
  screen.line(f"Game over: {reason}.")
  for line in view.board_lines(board):
    screen.line(line)
  screen.line(view.captures_line(board, match.history))
  screen.line(view.score_line(board, cfg.komi,
                              final=stop is None and not forfeit))
  verdict = {1: "You win", -1: "You lose", 0: "Draw"}[int(returns[seat])]
  moves = len(match.history)
  screen.line(f"{verdict} ({result}), after {moves} move{'s' * (moves != 1)}."
              f" Record saved to {match.path}.")
  return Outcome(match.history, board, (returns[0], returns[1]), result,
                 reason)
