"""Game records: what was played, by whom, written as JSON and replayed.

A record is a frozen `GameRecord`; `with_move` and `with_result` return
updated copies, `save` writes one atomically (a temporary file and a rename,
so a crash leaves the previous version whole), `load` reads and checks one,
and `replay` plays its actions on a fresh OpenSpiel state, checking each.

The file (format `arena-record/1`):

  {"format": "arena-record/1",
   "game": "stratego(max_plies=0,...,variant=small)",  # pyspiel.load_game
   "players": ["human", "random"],                     # by seat
   "seed": 7, "started": "2026-01-01T12:00:00",
   "moves": [{"player": 0, "action": 21, "text": "F@d4"}, ...],
   "result": null | {"returns": [1.0, -1.0] | null, "reason": "..."},
   "final_state": "<str(state) after the last move>"}

`returns` is null when the game was left unfinished (the human quit).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import re
from typing import Any, Iterator

import pyspiel

from agents.core import write_json_atomic

FORMAT = "arena-record/1"
_GAME_RE = re.compile(r"^[a-z_0-9]+(\(.*\))?$")


@dataclasses.dataclass(frozen=True)
class Move:
  """One action of the game, with its text as OpenSpiel wrote it."""

  player: int
  action: int
  text: str


@dataclasses.dataclass(frozen=True)
class Result:
  """How the game ended: `returns` by seat (None: unfinished) and why."""

  returns: tuple[float, float] | None
  reason: str


@dataclasses.dataclass(frozen=True)
class GameRecord:
  """A game as played; see the module docstring for the file format."""

  game: str
  players: tuple[str, ...]
  seed: int
  started: str
  moves: tuple[Move, ...] = ()
  result: Result | None = None
  final_state: str = ""


def new_record(game: pyspiel.Game, players: tuple[str, ...],
               seed: int) -> GameRecord:
  """The record of a game about to start."""
  return GameRecord(
      game=str(game), players=tuple(players), seed=int(seed),
      started=datetime.datetime.now().isoformat(timespec="seconds"),
      final_state=str(game.new_initial_state()))


def with_move(rec: GameRecord, player: int, action: int, text: str,
              state_after: pyspiel.State) -> GameRecord:
  """`rec` plus `player`'s `action` (named `text` before it was applied).

  `state_after` is the state after the action: its `str` is kept so that a
  replay can check it reaches the same position.
  """
  move = Move(player=int(player), action=int(action), text=text)
  return dataclasses.replace(rec, moves=rec.moves + (move,),
                             final_state=str(state_after))


def with_result(rec: GameRecord, returns: tuple[float, float] | None,
                reason: str) -> GameRecord:
  """`rec` with its result set."""
  ret = None if returns is None else tuple(float(r) for r in returns)
  return dataclasses.replace(rec, result=Result(returns=ret, reason=reason))


def to_json(rec: GameRecord) -> dict[str, Any]:
  """The JSON object of `rec`."""
  return {
      "format": FORMAT, "game": rec.game, "players": list(rec.players),
      "seed": rec.seed, "started": rec.started,
      "moves": [dataclasses.asdict(m) for m in rec.moves],
      "result": (None if rec.result is None else
                 {"returns": (None if rec.result.returns is None
                              else list(rec.result.returns)),
                  "reason": rec.result.reason}),
      "final_state": rec.final_state,
  }


def save(rec: GameRecord, path: str | os.PathLike[str]) -> None:
  """Writes `rec` to `path` atomically (creating its directory)."""
  write_json_atomic(path, to_json(rec))


def _need(cond: bool, what: str) -> None:
  if not cond:
    raise ValueError(what)


def from_json(obj: Any) -> GameRecord:
  """Parses and checks the structure of a record's JSON object.

  Raises:
    ValueError: naming the first field that is missing or malformed.
  """
  _need(isinstance(obj, dict), "not a JSON object")
  _need(obj.get("format") == FORMAT,
        f"format is {obj.get('format')!r}, expected {FORMAT!r}")
  game = obj.get("game")
  _need(isinstance(game, str) and bool(_GAME_RE.match(game)),
        f"'game' is not a game string: {game!r}")
  players = obj.get("players")
  _need(isinstance(players, list) and all(isinstance(p, str)
                                          for p in players),
        "'players' must be a list of strings")
  _need(isinstance(obj.get("seed"), int), "'seed' must be an integer")
  moves = obj.get("moves")
  _need(isinstance(moves, list), "'moves' must be a list")
  parsed = []
  for i, m in enumerate(moves):
    ok = (isinstance(m, dict) and isinstance(m.get("player"), int)
          and isinstance(m.get("action"), int)
          and isinstance(m.get("text"), str))
    _need(ok, f"move {i + 1} is not {{player: int, action: int, text: str}}:"
          f" {m!r}"[:200])
    parsed.append(Move(player=m["player"], action=m["action"],
                       text=m["text"]))
  result = obj.get("result")
  if result is not None:
    returns = result.get("returns") if isinstance(result, dict) else 0
    _need(isinstance(result, dict) and isinstance(result.get("reason"), str)
          and (returns is None or (isinstance(returns, list) and all(
              isinstance(r, (int, float)) for r in returns))),
          "'result' must be null or {returns: [numbers] | null, reason: str}")
    result = Result(returns=None if returns is None else tuple(returns),
                    reason=result["reason"])
  final = obj.get("final_state", "")
  _need(isinstance(final, str), "'final_state' must be a string")
  return GameRecord(game=game, players=tuple(players), seed=obj["seed"],
                    started=str(obj.get("started", "")), moves=tuple(parsed),
                    result=result, final_state=final)


def load(path: str | os.PathLike[str]) -> GameRecord:
  """Reads the record at `path`.

  Raises:
    ValueError: the file is missing, not JSON or not a record (one line,
      naming the file).
  """
  path = pathlib.Path(path)
  try:
    text = path.read_text(encoding="utf-8")
  except FileNotFoundError:
    raise ValueError(f"record {str(path)!r} does not exist") from None
  except (OSError, UnicodeDecodeError) as e:
    raise ValueError(f"record {str(path)!r} is unreadable: {e}") from None
  try:
    obj = json.loads(text)
  except json.JSONDecodeError as e:
    raise ValueError(f"record {str(path)!r} is not valid JSON ({e})") from None
  try:
    return from_json(obj)
  except ValueError as e:
    raise ValueError(f"record {str(path)!r}: {e}") from None


def load_game(rec: GameRecord) -> pyspiel.Game:
  """The OpenSpiel game of `rec` (our games registered).

  Raises:
    ValueError: the game string names no game or has bad parameters.
  """
  # Registers our games with pyspiel.
  import games  # noqa: F401  # pylint: disable=g-import-not-at-top
  try:
    return pyspiel.load_game(rec.game)
  except (pyspiel.SpielError, ValueError) as e:
    first = str(e).splitlines()[0] if str(e) else type(e).__name__
    raise ValueError(f"cannot load game {rec.game!r}: {first}") from None


def replay(rec: GameRecord) -> Iterator[tuple[pyspiel.State, Move | None]]:
  """Plays `rec` on a fresh state: yields (state, None), then after each move
  (state, move). The same state object is yielded each time, updated.

  Raises:
    ValueError: a move is illegal, made by the wrong player or named
      differently than the record says, or the final position differs
      from the recorded one.
  """
  game = load_game(rec)
  state = game.new_initial_state()
  yield state, None
  for i, move in enumerate(rec.moves):
    where = f"move {i + 1} ({move.text!r}, action {move.action})"
    if state.is_terminal():
      raise ValueError(f"{where} comes after the end of the game")
    if move.player != state.current_player():
      raise ValueError(f"{where} is by player {move.player}, but player "
                       f"{state.current_player()} is to move")
    if move.action not in state.legal_actions():
      raise ValueError(f"{where} is illegal in the position")
    text = state.action_to_string(state.current_player(), move.action)
    if text != move.text:
      raise ValueError(f"{where}: the game calls that action {text!r}")
    state.apply_action(move.action)
    yield state, move
  if rec.final_state and str(state) != rec.final_state:
    raise ValueError("the moves do not lead to the recorded final position")


def final_state(rec: GameRecord) -> pyspiel.State:
  """The state after all of `rec`'s moves (checked as in `replay`)."""
  state = None
  for state, _ in replay(rec):
    pass
  return state
