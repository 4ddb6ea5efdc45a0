"""A GTP version 2 engine for our Go, generic over a player (`GoPlayer`).

GTP: Farnebäck, "GTP - Go Text Protocol, version 2, draft 2" (2002),
https://www.lysator.liu.se/~gunnar/gtp/gtp2-spec-draft2/gtp2-spec.html.
`GTPServer.handle(line)` answers one command line; `serve(inp, out)` runs
the loop over text streams until `quit` or the end of the input.

Framing: each input line is preprocessed as the spec says (control
characters other than tab and LF dropped, so CR goes; `#` comments cut;
tabs become spaces; empty lines ignored). An optional leading integer id is
echoed: `=12 D4` or `?12 illegal move: ...`; every reply ends with an empty
line. Every malformed, unknown or illegal command, and any error of the
player, gets a `?` answer saying what is wrong, and the loop goes on.
Colours are b / black / w / white and vertices D4 / d4 / pass, in any case.

The server owns the game record; the player only chooses moves. Choices:

- Rules: Tromp-Taylor with positional superko (`games.go.rules`): `play`
  and `genmove` check legality with `legal_action_mask` before stepping
  (an illegal `step` would end the game) and answer `? illegal move: ...`
  with the reason (occupied, suicide, ko).
- Either colour may move at any time (GTP allows consecutive moves of one
  colour): when the colour given is not the one to move, the position is
  rebuilt with `Go.from_board` for that colour, keeping every earlier
  position for superko; no pass is inserted, so `printsgf` shows the two
  moves of one colour in a row, as SGF allows.
- After the game has ended (two passes in a row, or the move limit), `play`,
  `genmove` and `undo` go on as in any position: the position is resumed
  the same way (same board and superko history), so a controller may keep
  playing, e.g. to settle a dispute; the end of the game is the
  controller's call.
- `final_score` is the Tromp-Taylor area score of the current board ("B+3.5",
  "W+7.5", "0"), at any time. With area scoring and no removal of dead
  stones, every stone on the board counts as alive: `final_status_list
  alive` lists every string (one per line), `dead` and `seki` are empty.
  Dead stones must be captured on the board, as GNU Go with
  `--capture-all-dead` does, for the score to be the usual one.
- Time (`eval.go.gtp_clock`): see `move_budget` for the per-move budget
  passed to the player.
  `time_settings` sets both clocks; `time_left` overrides a colour's clock;
  in between, the server charges the wall time of each `genmove` to its
  colour's clock (main time, then byo-yomi periods).
- `loadsgf FILE [MOVE_NUMBER]`: size, komi, setup stones (AB/AW, via
  `from_board`), the player to move (PL, else the first move's colour) and
  the main line's moves before move MOVE_NUMBER (1-based; all of them when
  it is larger or absent). `printsgf [FILE]` writes the record (setup,
  moves, and RE once two passes ended it) as SGF, in the reply or a file.
- Beyond the required commands: `reg_genmove` (the spec's regression
  subset) and `printsgf` (GNU Go's extension). No handicap commands yet
  (`fixed_handicap`, `place_free_handicap`, `set_free_handicap`); a loaded
  SGF file may hold handicap stones.

The game record, its stepping and its scores are `eval.go.gtp_record`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import pathlib
import time
from collections.abc import Callable
from typing import TextIO

import numpy as np
from sgfmill import sgf, sgf_moves

from eval.go.gtp_clock import Clock, TimeSettings, move_budget
from eval.go.gtp_record import (GameRecord, GTPFailure, area_margin,
                                format_score, strings)
from eval.go.players import RESIGN, GoPlayer, Move
from games.go import env as go_env
from games.go import Go, coords, render, rules

PROTOCOL_VERSION = "2"
_COLOURS = {"b": 0, "black": 0, "w": 1, "white": 1}
_COLOUR_NAMES = ("B", "W")


def _parse_colour(text: str) -> int:
  colour = _COLOURS.get(text.lower())
  if colour is None:
    raise GTPFailure(f"syntax error: invalid color {text!r} (b, black, w or "
                     "white)")
  return colour


def _parse_int(text: str, what: str, low: int | None = None) -> int:
  try:
    value = int(text)
  except ValueError:
    raise GTPFailure(f"syntax error: {what} must be an integer, got "
                     f"{text!r}") from None
  if low is not None and value < low:
    raise GTPFailure(f"syntax error: {what} must be >= {low}, got {value}")
  return value


def _preprocess(line: str) -> str:
  """The spec's section 3.1: drop control characters but HT and LF, cut
  comments, tabs to spaces, trim."""
  line = "".join(ch for ch in line if ch in "\t\n" or (
      ord(ch) >= 32 and ord(ch) != 127))
  return line.split("#", 1)[0].replace("\t", " ").strip()


def _reply(ok: bool, command_id: str, text: str) -> str:
  """`=id text` or `?id text` and the empty line that ends a reply. Lines
  of `text` after the first are kept only when not blank (a blank one would
  end the reply early). An empty answer is `= ` as GNU Go, the reference
  implementation, writes it."""
  lines = [line.rstrip() for line in text.split("\n")]
  body = "\n".join([lines[0]] + [line for line in lines[1:] if line])
  return f"{'=' if ok else '?'}{command_id} {body}\n\n"


class GTPServer:
  """A GTP engine over one `GoPlayer` (see the module doc).

  Args:
    player: chooses the moves `genmove` plays.
    board_size: N, until a `boardsize` or `loadsgf` command.
    komi: until a `komi` or `loadsgf` command.
    log: a stream every command and reply is copied to, or None.
    clock: monotonic seconds, read around each `genmove` to charge its time
      (tests fake it).

  Raises:
    ValueError: the player cannot play the board size, or a bad komi.
  """

  def __init__(self, player: GoPlayer, *, board_size: int = 9,
               komi: float = 7.5, log: TextIO | None = None,
               clock: Callable[[], float] = time.monotonic):
    coords.check_board_size(board_size)
    if not player.supports(board_size):
      raise ValueError(f"{player.name} cannot play on a {board_size}x"
                       f"{board_size} board")
    if not math.isfinite(komi):
      raise ValueError(f"komi must be a finite number, got {komi!r}")
    self.player = player
    self.finished = False  # Set by `quit`.
    self._board_size, self._komi = board_size, float(komi)
    self._log, self._now = log, clock
    self._time: TimeSettings | None = None
    self._record = GameRecord.new(board_size)
    self._clocks = [Clock.start(None), Clock.start(None)]
    self._commands: dict[str, Callable[[list[str]], str]] = {
        "protocol_version": self._no_args(lambda: PROTOCOL_VERSION),
        "name": self._no_args(lambda: self.player.name),
        "version": self._no_args(lambda: self.player.version),
        "known_command": self._known_command,
        "list_commands": self._no_args(lambda: "\n".join(self._commands)),
        "quit": self._no_args(self._quit),
        "boardsize": self._boardsize,
        "clear_board": self._no_args(self._clear_board),
        "komi": self._set_komi,
        "play": self._play,
        "genmove": functools.partial(self._genmove, commit=True),
        "reg_genmove": functools.partial(self._genmove, commit=False),
        "undo": self._no_args(self._undo),
        "showboard": self._no_args(self._showboard),
        "final_score": self._no_args(
            lambda: format_score(area_margin(self.board, self._komi))),
        "final_status_list": self._final_status_list,
        "time_settings": self._time_settings,
        "time_left": self._time_left,
        "loadsgf": self._loadsgf,
        "printsgf": self._printsgf,
    }

  # --- What a caller may read.

  @property
  def game(self) -> Go:
    """The game a player is given: the board size and komi set by GTP."""
    return dataclasses.replace(self._record.stepper, rules=dataclasses.replace(
        self._record.stepper.rules, komi=self._komi))

  @property
  def board(self) -> np.ndarray:
    """[P] int8: a copy of the current board (0 empty, 1 Black, -1 White)."""
    return self._record.boards[-1].copy()

  @property
  def moves(self) -> tuple[Move, ...]:
    return tuple(self._record.moves)

  @property
  def to_move(self) -> int:
    """0 when Black is to move (the other colour may still play)."""
    return self._record.to_move

  # --- The loop.

  def handle(self, line: str) -> str | None:
    """The full reply to one input line, or None for a line to ignore."""
    text = _preprocess(line)
    if not text:
      return None
    words = text.split()
    command_id = (words.pop(0) if words[0].isascii() and words[0].isdigit()
                  else "")
    if not words:
      reply = _reply(False, command_id, "syntax error: no command after the "
                     "id")
    else:
      reply = self._run(command_id, words[0], words[1:])
    if self._log is not None:
      self._log.write(f"> {text}\n< {reply.rstrip()}\n")
      self._log.flush()
    return reply

  def serve(self, inp: TextIO, out: TextIO) -> None:
    """Answers the lines of `inp` on `out` until `quit`, the end of the
    input, or the controller closing `out`."""
    while not self.finished:
      line = inp.readline()
      if not line:
        break
      reply = self.handle(line)
      if reply is not None:
        try:
          out.write(reply)
          out.flush()
        except BrokenPipeError:
          break  # The controller has gone: nobody is left to answer.

  def _run(self, command_id: str, name: str, args: list[str]) -> str:
    handler = self._commands.get(name)
    if handler is None:
      return _reply(False, command_id, f"unknown command: {name}")
    try:
      return _reply(True, command_id, handler(args))
    except GTPFailure as e:
      return _reply(False, command_id, str(e))
    except Exception as e:  # noqa: BLE001  # pylint: disable=broad-except
      # Never let a bug end the session: the controller sees what happened.
      return _reply(False, command_id,
                    f"internal error: {type(e).__name__}: {e}")

  # --- Commands: each takes its arguments and returns the answer text.

  def _no_args(self, fn: Callable[[], str]) -> Callable[[list[str]], str]:
    def command(args: list[str]) -> str:
      if args:
        raise GTPFailure(f"syntax error: no arguments expected, got "
                         f"{' '.join(args)!r}")
      return fn()
    return command

  @staticmethod
  def _arity(args: list[str], low: int, high: int, usage: str) -> None:
    if not low <= len(args) <= high:
      raise GTPFailure(f"syntax error: expected {usage}, got "
                       f"{len(args)} argument(s)")

  def _known_command(self, args: list[str]) -> str:
    self._arity(args, 1, 1, "a command name")
    return "true" if args[0] in self._commands else "false"

  def _quit(self) -> str:
    self.finished = True
    return ""

  def _new_game(self, record: GameRecord, komi: float) -> None:
    self._record, self._komi = record, komi
    self._board_size = record.stepper.board_size
    self._clocks = [Clock.start(self._time), Clock.start(self._time)]

  def _boardsize(self, args: list[str]) -> str:
    self._arity(args, 1, 1, "a board size")
    size = _parse_int(args[0], "the board size")
    if not 2 <= size <= coords.MAX_BOARD_SIZE:
      raise GTPFailure(f"unacceptable size: {size} (GTP boards are 2 to "
                       f"{coords.MAX_BOARD_SIZE} points wide)")
    if not self.player.supports(size):
      raise GTPFailure(f"unacceptable size: {size} ({self.player.name} "
                       "cannot play it)")
    self._new_game(GameRecord.new(size), self._komi)
    return ""

  def _clear_board(self) -> str:
    self._new_game(GameRecord.new(self._board_size), self._komi)
    return ""

  def _set_komi(self, args: list[str]) -> str:
    self._arity(args, 1, 1, "a komi")
    try:
      komi = float(args[0])
    except ValueError:
      raise GTPFailure(f"syntax error: komi must be a number, got "
                       f"{args[0]!r}") from None
    if not math.isfinite(komi):
      raise GTPFailure(f"syntax error: komi must be finite, got {args[0]!r}")
    self._komi = komi
    return ""

  def _play(self, args: list[str]) -> str:
    self._arity(args, 2, 2, "a color and a vertex")
    player = _parse_colour(args[0])
    try:
      action = coords.from_gtp(args[1], self._board_size)
    except ValueError as e:
      raise GTPFailure(f"syntax error: {e}") from None
    self._record.play(player, action)
    return ""

  def _genmove(self, args: list[str], *, commit: bool) -> str:
    self._arity(args, 1, 1, "a color")
    player = _parse_colour(args[0])
    record, game = self._record, self.game
    state = record.live_state(player)
    clock = self._clocks[player]
    budget = move_budget(self._time, clock.time_left, clock.stones_left,
                         int(np.sum(self.board == rules.EMPTY)))
    start = self._now()
    try:
      action = self.player.genmove(game, state, budget, tuple(record.moves))
    except Exception as e:  # pylint: disable=broad-except
      raise GTPFailure(f"player error: {type(e).__name__}: {e}") from e
    if commit:
      clock.charge(self._time, self._now() - start)
    if isinstance(action, (int, np.integer)) and int(action) == RESIGN:
      return "resign"
    legal = np.asarray(go_env.jit_legal(record.stepper, state))
    if not (isinstance(action, (int, np.integer))
            and 0 <= int(action) < game.num_actions and legal[int(action)]):
      raise GTPFailure(f"player error: {self.player.name} chose an illegal "
                       f"move {action!r}")
    if commit:
      record.play(player, int(action))
    return coords.to_gtp(int(action), self._board_size)

  def _undo(self) -> str:
    self._record.undo()
    return ""

  def _showboard(self) -> str:
    record = self._record
    last = record.moves[-1].action if record.moves else None
    if record.moves and last == record.stepper.pass_action:
      note = f"{_COLOUR_NAMES[record.moves[-1].player]} passed; "
    else:
      note = ""
    to_move = ("Black", "White")[record.to_move]
    return ("\n" + render.render(self.board, last_move=last) +
            f"\n{note}{to_move} to move; move {len(record.moves)}; "
            f"komi {self._komi:g}")

  def _final_status_list(self, args: list[str]) -> str:
    self._arity(args, 1, 1, "a status (alive, dead or seki)")
    status = args[0].lower()
    if status not in ("alive", "dead", "seki"):
      raise GTPFailure(f"syntax error: status must be alive, dead or seki, "
                       f"got {args[0]!r}")
    if status != "alive":  # Area scoring, no dead-stone removal.
      return ""
    n = self._board_size
    return "\n".join(" ".join(coords.to_gtp(p, n) for p in group)
                     for group in strings(self.board, n))

  def _time_settings(self, args: list[str]) -> str:
    self._arity(args, 3, 3, "main_time byo_yomi_time byo_yomi_stones")
    main, byo, stones = (_parse_int(a, what, 0) for a, what in zip(
        args, ("main_time", "byo_yomi_time", "byo_yomi_stones")))
    self._time = TimeSettings(main, byo, stones)
    self._clocks = [Clock.start(self._time), Clock.start(self._time)]
    return ""

  def _time_left(self, args: list[str]) -> str:
    self._arity(args, 3, 3, "a color, seconds and stones")
    player = _parse_colour(args[0])
    try:
      seconds = float(args[1])
    except ValueError:
      raise GTPFailure(f"syntax error: time must be a number, got "
                       f"{args[1]!r}") from None
    if not math.isfinite(seconds):
      raise GTPFailure(f"syntax error: time must be finite, got {args[1]!r}")
    stones = _parse_int(args[2], "stones", 0)
    self._clocks[player] = Clock(max(0.0, seconds), stones)
    return ""

  def _loadsgf(self, args: list[str]) -> str:
    self._arity(args, 1, 2, "a file name and an optional move number")
    until = _parse_int(args[1], "the move number", 1) if len(args) > 1 else None
    path = pathlib.Path(args[0])
    try:
      data = path.read_bytes()
    except OSError as e:
      raise GTPFailure(f"cannot load file: {e.strerror or e}: {args[0]}") from e
    try:
      game = sgf.Sgf_game.from_bytes(data)
      size, komi = game.get_size(), game.get_komi()
      setup, plays = sgf_moves.get_setup_and_moves(game)
      root = game.get_root()
      first = root.get("PL") if root.has_property("PL") else None
    except ValueError as e:
      raise GTPFailure(f"cannot load file: {str(e) or 'bad SGF'}: "
                       f"{args[0]}") from e
    if not 2 <= size <= coords.MAX_BOARD_SIZE or not self.player.supports(
        size):
      raise GTPFailure(f"cannot load file: unacceptable size {size}")
    if not math.isfinite(komi):
      raise GTPFailure(f"cannot load file: komi {komi}")
    board = np.zeros(size * size, np.int8)
    for colour, (row, col) in setup.list_occupied_points():
      board[row * size + col] = rules.BLACK if colour == "b" else rules.WHITE
    if first is None:
      first = plays[0][0] if plays else ("w" if setup.list_occupied_points()
                                         and root.has_property("HA") else "b")
    record = GameRecord.new(size, board, _COLOURS[first])
    if until is not None:
      plays = plays[:until - 1]
    for number, (colour, move) in enumerate(plays, start=1):
      try:
        action = coords.from_sgfmill(move, size)
        record.play(_COLOURS[colour], action)
      except (ValueError, GTPFailure) as e:
        raise GTPFailure(f"cannot load file: move {number} "
                         f"({colour.upper()}): {e}") from e
    self._new_game(record, komi)
    return ""

  def _printsgf(self, args: list[str]) -> str:
    self._arity(args, 0, 1, "an optional file name")
    record, n = self._record, self._board_size
    game = sgf.Sgf_game(n)
    root = game.get_root()
    root.set("KM", self._komi)
    root.set("AP", ("arena", self.player.version or "0"))
    black = {divmod(int(p), n) for p in np.flatnonzero(record.start_board > 0)}
    white = {divmod(int(p), n) for p in np.flatnonzero(record.start_board < 0)}
    if black or white:
      root.set_setup_stones(black, white)
    if black or white or record.start_player == 1:
      root.set("PL", "bw"[record.start_player])
    if record.ended:
      root.set("RE", format_score(area_margin(self.board, self._komi)))
    for move in record.moves:
      game.extend_main_sequence().set_move(
          "bw"[move.player], coords.to_sgfmill(move.action, n))
    text = game.serialise().decode("utf-8").strip()
    if args:
      try:
        pathlib.Path(args[0]).write_text(text + "\n")
      except OSError as e:
        raise GTPFailure(f"cannot write file: {e.strerror or e}: "
                         f"{args[0]}") from e
      return ""
    return text
