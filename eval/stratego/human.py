"""A human against an agent or bot at Stratego in the terminal, and replays.

`play` runs one game: it reads the human's commands from `inp` and writes to
`out` (any text streams, so tests script both), writes the game record after
every action (`eval.stratego.record`), and returns the record and the final
state. `eval.stratego.replay` shows a recorded game again. Neither parses
arguments; the `arena play` command (`arena/play.py`) does that. What the
human sees and types is the game's: `games.stratego.human_view` and
`games.stratego.human_input`.

Deployment of the human's army: a random setup (default), placed piece by
piece by the human (`deploy="manual"`, with `auto` to fill the rest at
random), or `setup`: one setup half (the human's army only, in the notation
of `games.stratego.config.parse_setup`: from the human's back rank forward,
each rank from file a) or a full "first/second" setup, which fixes both
armies and makes the game one without a deployment phase. The agent deploys
with its own policy.

The record holds the agent's placements, so it is not to be read during the
game by a human who wants a fair one.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Callable, TextIO

import numpy as np
import pyspiel

import games  # noqa: F401  # pylint: disable=unused-import  # Registers.
from eval import players as players_lib
from eval.stratego import record as record_lib
from games.stratego import config as config_lib
from games.stratego import human_input
from games.stratego import human_view

DEPLOYS = ("random", "manual")
HUMAN = "human"

HELP = """Commands:
  e4-e5        move (also e4e5 or E4 E5); a Scout may go further: b2-b5
  moves        all your legal moves, by piece (an empty line does the same)
  moves e4     the legal moves of the piece on e4
  board        show the board again
  help         this text
  resign       give up the game (it counts as a loss)
  quit         stop now; the record is saved, the game left unfinished
During manual deployment: a square (b2) places the piece named in the prompt,
auto places the rest at random.
"""


@dataclasses.dataclass(frozen=True)
class PlayConfig:
  """One game against `agent` (a player spec, see `eval.players`).

  Attributes:
    agent: "random", "heuristic", RUN_DIR or RUN_DIR@STEP, maybe with
      ":greedy" (`eval.players`).
    variant: "classic", "barrage" or "small".
    human_seat: 0 (Red, moves first) or 1 (Blue).
    seed: seeds the agent and the human's random setup.
    deploy: "random" or "manual": how the human's army is placed.
    setup: None, one setup half (the human's army) or "first/second".
    max_plies: moves before a draw; None: the variant's.
  """

  agent: str
  variant: str = "classic"
  human_seat: int = 1
  seed: int = 0
  deploy: str = "random"
  setup: str | None = None
  max_plies: int | None = None

  def __post_init__(self):
    config_lib.get_variant(self.variant)  # Raises ValueError.
    if self.human_seat not in (0, 1):
      raise ValueError(f"human_seat must be 0 or 1, got {self.human_seat}")
    if self.deploy not in DEPLOYS:
      raise ValueError(f"deploy must be one of {', '.join(DEPLOYS)}, got "
                       f"{self.deploy!r}")
    if self.setup and self.deploy == "manual":
      raise ValueError("give either a setup or manual deployment, not both")
    if self.max_plies is not None and self.max_plies <= 0:
      raise ValueError(f"max_plies must be > 0, got {self.max_plies}")

  @property
  def full_setup(self) -> bool:
    return bool(self.setup) and "/" in self.setup

  def game_params(self) -> dict:
    return {"variant": self.variant, "max_plies": self.max_plies or 0,
            "setup": self.setup if self.full_setup else ""}


@dataclasses.dataclass(frozen=True)
class Outcome:
  record: record_lib.GameRecord
  state: pyspiel.State


class _Match:
  """The impure shell of one game: state, bot, record, screen."""

  def __init__(self, cfg: PlayConfig, record_path: pathlib.Path,
               screen: human_view.Screen, inp: TextIO, echo: bool,
               make_bot: Callable[..., pyspiel.Bot]):
    self.cfg, self.path, self.screen = cfg, record_path, screen
    self.inp, self.echo, self.seat = inp, echo, cfg.human_seat
    self.game = pyspiel.load_game("stratego", cfg.game_params())
    self.jgame = self.game.jax_game
    self.v = self.jgame.variant
    self.bot = make_bot(cfg.agent, self.game, 1 - self.seat, cfg.seed)
    names = [HUMAN, HUMAN]
    names[1 - self.seat] = cfg.agent
    self.rec = record_lib.new_record(self.game, tuple(names), cfg.seed)
    self.state = self.game.new_initial_state()
    self.army = None if self.deploying else self._counts()
    self.last: dict[int, tuple[str, human_view.Battle | None]] = {}
    self.save()

  @property
  def pos(self):
    return self.state.position

  @property
  def deploying(self) -> bool:
    return self.pos.deploy_step < self.jgame.deploy_total

  def _counts(self):
    return human_view.piece_counts(self.pos.rank, self.pos.owner)

  def save(self) -> None:
    try:
      record_lib.save(self.rec, self.path)
    except OSError as e:
      raise ValueError(f"cannot write the record {str(self.path)!r}: "
                       f"{e.strerror or e}") from None

  def apply(self, action: int) -> human_view.Battle | None:
    """Plays `action` for the player to move; updates and saves the record."""
    player = self.state.current_player()
    text = self.state.action_to_string(player, action)
    before_rank, before_owner = list(self.pos.rank), list(self.pos.owner)
    was_deploying = self.deploying
    if player == self.seat:
      self.bot.inform_action(self.state, player, action)
    self.state.apply_action(action)
    self.rec = record_lib.with_move(self.rec, player, action, text,
                                    self.state)
    self.save()
    if was_deploying:
      if not self.deploying:
        self.army = self._counts()
      return None
    src = int(self.jgame.tables.action_from[action])
    dst = int(self.jgame.tables.action_to[action])
    battle = human_view.battle_of(before_rank, before_owner, self.pos.owner,
                                  src, dst)
    self.last[player] = (text, battle)
    return battle

  # --- Display.

  def show_board(self, reveal_all: bool = False) -> None:
    marks = set()
    for text, _ in self.last.values():
      marks |= {config_lib.parse_square(self.v, s) for s in text.split("-")}
    for line in human_view.board_view(
        self.v, self.pos.rank, self.pos.owner, self.pos.revealed, self.seat,
        reveal_all=reveal_all, marks=frozenset(marks)):
      self.screen.line(line)

  def show_status(self) -> None:
    self.show_board()
    for who, side in (("Your", self.seat), ("Opponent's", 1 - self.seat)):
      if side in self.last:
        text, battle = self.last[side]
        extra = ("" if battle is None else " - " + human_view.describe_battle(
            self.v, battle, self.seat))
        self.screen.line(f"{who} last move: {text}{extra}")
    if self.army is not None:
      self.screen.line(human_view.describe_captures(
          self.army, self.pos.rank, self.pos.owner, self.seat))
    self.screen.line(
        f"Ply {self.pos.ply + 1} (draw after {self.jgame.max_plies}): your "
        f"move, {human_view.SIDES[self.seat]}.")

  def show_moves(self, only: int | None) -> None:
    t = self.jgame.tables
    pairs = [(int(t.action_from[a]), int(t.action_to[a]))
             for a in self.state.legal_actions()]
    if only is not None:
      pairs = [p for p in pairs if p[0] == only]
      if not pairs:
        why = ("no piece of yours there" if self.pos.owner[only] != self.seat
               else "that piece has no legal move now")
        self.screen.line(f"No legal moves from "
                         f"{config_lib.square_name(self.v, only)}: {why}.")
        return
    self.screen.line(f"Legal moves ({len(pairs)}):")
    for line in human_view.describe_moves(self.v, self.pos.rank, pairs):
      self.screen.line(line)

  # --- Turns.

  def agent_turn(self) -> None:
    was_deploying = self.deploying
    action = self.bot.step(self.state)
    battle = self.apply(action)
    side = human_view.SIDES[1 - self.seat]
    if was_deploying:
      if not self.deploying or self.pos.current_player == self.seat:
        self.screen.line(f"{side} ({self.cfg.agent}) has deployed its army.")
      return
    self.screen.line(f"{side} ({self.cfg.agent}) plays "
                     f"{self.rec.moves[-1].text}.")
    if battle is not None:
      self.screen.line(human_view.describe_battle(self.v, battle, self.seat))

  def human_deploy(self, plan: list[int] | None) -> str | None:
    """Places the human's whole army; returns "quit"/"resign" or None."""
    if plan is not None:
      for sq in plan[self.pos.deploy_step % self.v.num_pieces:]:
        self.apply(sq)
      how = "given" if self.cfg.setup else "random"
      self.screen.line(f"Your army is deployed ({how} setup).")
      return None
    rng = np.random.default_rng([self.cfg.seed, 1])
    self.show_board()
    order = self.jgame.tables.deploy_order
    while self.deploying and self.pos.current_player == self.seat:
      i = self.pos.deploy_step % self.v.num_pieces
      piece = human_view.piece_label(int(order[i]))
      line = self.screen.ask(f"Place your {piece} ({i + 1}/{len(order)}) on a "
                             "free home square, or auto> ", self.inp,
                             self.echo)
      if line is None:
        return "quit"
      try:
        cmd = human_input.parse_command(self.v, line)
      except human_input.CommandError as e:
        self.screen.line(str(e).replace("a move like e4-e5",
                                        "a square like b2, auto"))
        continue
      legal = self.state.legal_actions()
      if cmd.kind in ("quit", "resign"):
        return cmd.kind
      if cmd.kind == "help":
        self.screen.line(HELP + human_view.LEGEND)
      elif cmd.kind == "board":
        self.show_board()
      elif cmd.kind == "auto":
        for sq in rng.permutation(legal)[:len(order) - i]:
          self.apply(int(sq))
        self.screen.line("The rest of your army is placed at random.")
      elif cmd.kind == "square" and cmd.squares[0] in legal:
        self.apply(cmd.squares[0])
      elif cmd.kind == "square":
        name = config_lib.square_name(self.v, cmd.squares[0])
        self.screen.line(f"{name} is not a free square of your home ranks.")
      else:
        self.screen.line("You are deploying: type a square like b2, or auto.")
    return None

  def human_turn(self) -> str | None:
    """Reads commands until a move is played; returns "quit"/"resign"/None."""
    self.show_status()
    while True:
      line = self.screen.ask(f"{human_view.SIDES[self.seat]}> ", self.inp,
                             self.echo)
      if line is None:
        return "quit"
      try:
        cmd = human_input.parse_command(self.v, line)
      except human_input.CommandError as e:
        self.screen.line(str(e))
        continue
      if cmd.kind in ("quit", "resign"):
        return cmd.kind
      if cmd.kind == "help":
        self.screen.line(HELP + human_view.LEGEND)
      elif cmd.kind == "board":
        self.show_status()
      elif cmd.kind in ("moves", "empty"):
        self.show_moves(cmd.squares[0] if cmd.squares else None)
      elif cmd.kind == "move":
        legal = self.state.legal_actions()
        why = human_input.explain_illegal(
            self.v, self.pos, (self.jgame.two_square_rule,
                               self.jgame.more_squares_rule),
            self.jgame.deploy_total > 0, *cmd.squares, legal)
        if why:
          self.screen.line(f"Illegal: {why}.")
          continue
        battle = self.apply(human_input.action_of(self.v, *cmd.squares))
        self.screen.line(f"You play {self.rec.moves[-1].text}.")
        if battle is not None:
          self.screen.line(human_view.describe_battle(self.v, battle,
                                                      self.seat))
        return None
      else:
        self.screen.line("Type a move like e4-e5 (auto and squares are for "
                         "deployment).")

  def end_reason(self) -> str:
    pos, side = self.pos, human_view.SIDES
    mover = 1 - pos.current_player
    last = self.last.get(mover, ("", None))[1]
    if last is not None and last.defender == config_lib.FLAG and (
        last.removed == (1 - mover,)):
      return f"{side[mover]} captured the {side[1 - mover]} Flag"
    if pos.returns[0] != pos.returns[1]:
      return f"{side[0 if pos.returns[0] < 0 else 1]} has no legal move"
    if pos.ply >= self.jgame.max_plies:
      return f"the move limit ({self.jgame.max_plies} plies) was reached"
    return "neither side can move"


def play(cfg: PlayConfig, record_path: str | os.PathLike[str], *,
         inp: TextIO, out: TextIO, color: bool = False, echo: bool = False,
         make_bot: Callable[..., pyspiel.Bot] = players_lib.make_player
         ) -> Outcome:
  """Plays one game of the human (`inp`/`out`) against `cfg.agent`.

  Args:
    cfg: the game and the opponent.
    record_path: the JSON record, rewritten (atomically) after every action.
    inp, out: the human's input and output streams.
    color: draw with colours (rich); else plain text.
    echo: write each input line to `out` (for transcripts of piped input).
    make_bot: `(spec, game, player_id, seed) -> pyspiel.Bot`.

  Returns:
    The record and the final state.

  Raises:
    ValueError: bad `cfg` (variant, setup, agent spec) or unwritable record.
  """
  seat = cfg.human_seat
  plan = (None if cfg.deploy == "manual" or cfg.full_setup else
          human_input.deployment_plan(
              config_lib.get_variant(cfg.variant), seat, cfg.setup,
              np.random.default_rng([cfg.seed, 0])))
  match = _Match(cfg, pathlib.Path(record_path),
                 human_view.Screen(out, color), inp, echo, make_bot)
  side = human_view.SIDES
  match.screen.line(
      f"Stratego ({cfg.variant}): you are {side[seat]} and move "
      f"{'first' if seat == 0 else 'second'}, against {cfg.agent} "
      f"({side[1 - seat]}). Type help for commands. Record: {record_path}")
  stop = None
  while not match.state.is_terminal() and stop is None:
    if match.state.current_player() != seat:
      match.agent_turn()
    elif match.deploying:
      stop = match.human_deploy(plan)
    else:
      stop = match.human_turn()
  if stop == "quit":
    match.rec = record_lib.with_result(match.rec, None,
                                       "unfinished: the human quit")
    verdict = "Game stopped, unfinished"
  else:
    if stop == "resign":
      returns = [1.0, 1.0]
      returns[seat] = -1.0
      reason = f"{side[seat]} resigned"
    else:
      returns, reason = match.state.returns(), match.end_reason()
    match.rec = record_lib.with_result(match.rec, tuple(returns), reason)
    verdict = {1: "You win", -1: "You lose", 0: "Draw"}[int(returns[seat])]
    verdict += f": {reason}"
  match.save()
  plies = match.pos.ply
  match.screen.line(f"{verdict}, after {plies} move{'s' * (plies != 1)}. "
                    "The full board:")
  match.show_board(reveal_all=True)
  match.screen.line(f"Record saved to {record_path} (replay: arena play "
                    f"--replay {record_path}).")
  return Outcome(record=match.rec, state=match.state)
