"""Expert positions: game records turned into a column store for training.

`build_positions(sources, out_dir)` replays every game (`games.go.replay`,
batched and jitted) and writes one row per position at which the expert
chose the move (the random opening moves of generated games are skipped as
targets, their positions are not), with the columns

  board        [S, P] int8    0 empty, 1 Black, -1 White
  player       [S] int8       0 Black to move, 1 White
  superko      [S, P] bool    points barred only by (super)ko
  last_move    [S] int16      the previous action, -1 at the start
  next_moves   [S, M] int16   the actions played from here on, -1 past the end
  outcome      [S] int8       the game's result for the player to move: +1, -1, 0
  margin       [S] float32    the final area score for the player to move (komi in)
  game         [S] int32      index into meta["games"] (the game ids, GN)
  move_number  [S] int16      moves played before this position
  split        [S] int8       0 train, 1 retrieval, 2 test (by game, see below)

and metadata: the game ids, the board size and komi, counts, how often
GNU Go's recorded result and our Tromp-Taylor score of the final position
disagree, and the games left out for a move our rules forbid. The split
depends only on a hash of the game's id, so a game keeps its split when
games are added; no game is in two splits, so a position can
never retrieve neighbours from its own game through the split alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from typing import Iterable

import numpy as np

from agents.core import columns
from agents.core import progress as progress_lib
from eval.go import game_records
from games.go import coords, replay

TRAIN, RETRIEVAL, TEST = 0, 1, 2
SPLITS = ("train", "retrieval", "test")
_CHUNK_GAMES = 512
_LENGTH_BUCKET = 32  # Games are padded to a multiple: fewer compilations.


@dataclasses.dataclass(frozen=True)
class SplitFractions:
  """Shares of the games in each split (by a hash of the game id)."""

  train: float = 0.45
  retrieval: float = 0.45
  test: float = 0.10

  def __post_init__(self):
    values = (self.train, self.retrieval, self.test)
    if any(v < 0 for v in values) or not math.isclose(sum(values), 1.0):
      raise ValueError(f"split fractions must be >= 0 and sum to 1, got "
                       f"{values}")

  def of(self, game_id: str) -> int:
    """The split of a game: a fixed function of its id."""
    digest = hashlib.sha256(game_id.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "little") / 2.0**64
    if u < self.test:
      return TEST
    return RETRIEVAL if u < self.test + self.retrieval else TRAIN


def build_positions(sources: Iterable[str | os.PathLike] | str | os.PathLike,
                    out_dir: str | os.PathLike, *, next_moves: int = 8,
                    splits: SplitFractions = SplitFractions(),
                    progress: bool = True) -> columns.Columns:
  """Replays the games under `sources` into a column store at `out_dir`.

  Args:
    sources: directories or files of game records (`eval.go.game_records`).
    out_dir: the store, replaced atomically.
    next_moves: M, the moves kept per position.
    splits: how games are split.
    progress: show a progress bar.

  A game with a move that Tromp-Taylor rules with positional superko
  forbid (GNU Go, by default, enforces only simple ko; or a damaged record)
  is left out: its id and the move are in the store's
  `meta["skipped_games"]`, and it counts in no split.

  Raises:
    ValueError: no games, games of different board sizes or komi, or no
      game without an illegal move.
  """
  if next_moves < 1:
    raise ValueError(f"next_moves must be >= 1, got {next_moves}")
  records = list(game_records.read_games(sources))
  if not records:
    raise ValueError(f"no games in {sources}")
  sizes = {(r.board_size, r.komi) for r in records}
  if len(sizes) != 1:
    raise ValueError(f"games of different board sizes or komi: {sorted(sizes)}")
  (board_size, komi), = sizes
  ids = [r.game_id for r in records]
  if len(set(ids)) != len(ids):
    raise ValueError("two games share an id (GN); give each source its own "
                     "seed")
  parts, disagreements, skipped = [], 0, {}
  with progress_lib.bar(progress) as bar:
    task = bar.add_task("replaying games", total=len(records))
    for start in range(0, len(records), _CHUNK_GAMES):
      chunk = records[start:start + _CHUNK_GAMES]
      longest = max(len(r.actions) for r in chunk)
      width = max(_LENGTH_BUCKET,
                  -(-longest // _LENGTH_BUCKET) * _LENGTH_BUCKET)
      actions = np.full((len(chunk), width), replay.PAD, np.int32)
      for i, r in enumerate(chunk):
        actions[i, :len(r.actions)] = r.actions
      played = replay.replay(actions, board_size=board_size, komi=komi,
                             on_illegal="mark")
      for i, r in enumerate(chunk):
        bad = int(played.first_illegal[i])
        if bad >= 0:
          vertex = coords.to_gtp(int(r.actions[bad]), board_size)
          skipped[r.game_id] = f"move {bad + 1} ({vertex}) is illegal"
          continue
        ours = float(played.scores[i])
        if r.ended == "passes" and np.isfinite(r.black_score) and (
            ours != r.black_score):
          disagreements += 1
        parts.append(_rows(r, start + i, played, i, ours, next_moves,
                           splits.of(r.game_id)))
      bar.update(task, advance=len(chunk))
  if not parts:
    first = next(iter(skipped.items()))
    raise ValueError(f"no game without an illegal move in {sources} (e.g. "
                     f"game {first[0]}: {first[1]})")
  table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
  distinct = {}
  for split in range(len(SPLITS)):
    rows = table["split"] == split
    keys = np.concatenate([table["board"][rows],
                           table["player"][rows, None]], axis=1)
    distinct[SPLITS[split]] = int(len(np.unique(keys, axis=0))) if rows.any() else 0
  meta = dict(
      board_size=board_size, komi=komi, next_moves=next_moves,
      games=ids, splits=dataclasses.asdict(splits),
      positions={s: int((table["split"] == k).sum())
                 for k, s in enumerate(SPLITS)},
      distinct_positions=distinct,
      games_per_split={s: int(sum(splits.of(i) == k for i in ids
                                  if i not in skipped))
                       for k, s in enumerate(SPLITS)},
      result_disagreements=disagreements, skipped_games=skipped)
  columns.write_columns(out_dir, table, meta)
  return columns.read_columns(out_dir)


def skipped_message(meta: dict) -> str | None:
  """One line naming the games a store left out (`build_positions`), or
  None."""
  skipped = meta.get("skipped_games") or {}
  if not skipped:
    return None
  listed = "; ".join(f"{game}: {why}" for game, why in
                     list(skipped.items())[:5])
  more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
  return (f"left out {len(skipped)} game(s) with a move that Tromp-Taylor "
          f"rules with positional superko forbid: {listed}{more}")


def _rows(record: game_records.GameRecord, game: int,
          played: replay.Replayed, i: int, black_score: float,
          next_moves: int, split: int) -> dict[str, np.ndarray]:
  length = len(record.actions)
  t = np.arange(record.num_opening_moves, length)
  padded = np.concatenate([record.actions,
                           np.full(next_moves, replay.PAD, np.int32)])
  ahead = padded[t[:, None] + np.arange(next_moves)[None, :]]
  player = played.players[i, t].astype(np.int8)
  side = np.where(player == 0, 1.0, -1.0)
  return dict(
      board=played.boards[i, t],
      player=player,
      superko=played.superko[i, t],
      last_move=played.last_moves[i, t].astype(np.int16),
      next_moves=ahead.astype(np.int16),
      outcome=(np.sign(black_score) * side).astype(np.int8),
      margin=(black_score * side).astype(np.float32),
      game=np.full(len(t), game, np.int32),
      move_number=t.astype(np.int16),
      split=np.full(len(t), split, np.int8))
