"""Replaying a recorded Stratego game in the terminal (`arena play --replay`).

The record is checked whole before anything is shown
(`eval.stratego.record.replay`: every action legal, by the right player,
named as recorded, reaching the recorded final position). The board is
drawn from the human's side of the game (Red's when no human played), every
piece shown.
"""

from __future__ import annotations

import os
from typing import TextIO

from eval.stratego import record as record_lib
from games.stratego import human_view

_PROMPT = "Enter: next move, q: stop> "


def _check_game(rec: record_lib.GameRecord, path: str) -> None:
  name = rec.game.partition("(")[0]
  if name != "stratego":
    raise ValueError(f"record {path!r} is a game of {name!r}; arena play "
                     "replays stratego only")
  returns = rec.result.returns if rec.result else None
  if len(rec.players) != 2 or (returns is not None and len(returns) != 2):
    raise ValueError(f"record {path!r}: a Stratego record has 2 players and "
                     "2 returns")


def replay(path: str | os.PathLike[str], *, inp: TextIO, out: TextIO,
           pause: bool, color: bool = False,
           echo: bool = False) -> record_lib.GameRecord:
  """Shows the game recorded at `path`, one move at a time.

  Args:
    path: a record written by `eval.stratego.human.play`.
    inp, out: input (read only when pausing) and output streams.
    pause: wait for Enter after each move (`q` stops; the end of the input
      stops pausing).
    color: draw with colours.
    echo: write each input line to `out`.

  Returns:
    The record.

  Raises:
    ValueError: the file is missing, not a record, not Stratego, or its
      moves do not replay (one line, naming the file).
  """
  path = os.fspath(path)
  rec = record_lib.load(path)
  _check_game(rec, path)
  try:
    record_lib.final_state(rec)
  except ValueError as e:
    raise ValueError(f"record {path!r}: {e}") from None
  screen = human_view.Screen(out, color)
  viewer = (rec.players.index("human") if "human" in rec.players else 0)
  side = human_view.SIDES
  players = ", ".join(f"{side[i]}: {p}" for i, p in enumerate(rec.players))
  screen.line(f"Replay of {path}: {rec.game}; {players}; seed {rec.seed}; "
              f"{len(rec.moves)} actions; started {rec.started}.")
  jgame = record_lib.load_game(rec).jax_game
  v = jgame.variant
  shown_setup, prev = False, ([], [])
  for state, move in record_lib.replay(rec):
    pos = state.position
    if pos.deploy_step < jgame.deploy_total:
      continue
    marks, notes = frozenset(), []
    if not shown_setup:
      notes.append("The armies as deployed:")
      shown_setup = True
    elif move is not None:
      src = int(jgame.tables.action_from[move.action])
      dst = int(jgame.tables.action_to[move.action])
      marks = frozenset((src, dst))
      notes.append(f"Ply {pos.ply}: {side[move.player]} "
                   f"({rec.players[move.player]}) plays {move.text}.")
      battle = _battle(prev, pos, src, dst)
      if battle is not None:
        notes.append(human_view.describe_battle(v, battle, None))
    prev = (list(pos.rank), list(pos.owner))
    for note in notes:
      screen.line(note)
    for line in human_view.board_view(v, pos.rank, pos.owner, pos.revealed,
                                      viewer, reveal_all=True, marks=marks):
      screen.line(line)
    if pause and not state.is_terminal():
      answer = screen.ask(_PROMPT, inp, echo)
      if answer is None:
        pause = False
      elif answer.strip().lower() in ("q", "quit"):
        screen.line("Replay stopped.")
        return rec
  result = rec.result
  if result is None:
    screen.line("End of the record: the game was not finished.")
  else:
    returns = ("" if result.returns is None else " (returns " + ", ".join(
        f"{side[i]} {r:+g}" for i, r in enumerate(result.returns)) + ")")
    screen.line(f"Result: {result.reason}{returns}.")
  return rec


def _battle(prev: tuple[list[int], list[int]], pos, src: int,
            dst: int) -> human_view.Battle | None:
  rank, owner = prev
  return human_view.battle_of(rank, owner, pos.owner, src, dst)

