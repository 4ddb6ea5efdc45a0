"""Batches of expert positions from a column store (`eval.go.positions`).

A batch is a dict of numpy arrays, one row per position: `board` [B, P]
int8, `player` [B] int8, `superko` [B, P] bool, `last_move` [B] int32,
`target` [B] int32 (the expert's move), `outcome` [B] float32 (for the
player to move), `row` [B] int32 (the row in the store; retrieval looks up
a position's game by it). With augmentation each position is shown under a
random one of the eight board symmetries (`games.go.symmetry`).
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from agents.core import columns
from games.go import symmetry

TRAIN, RETRIEVAL, TEST = 0, 1, 2  # as `eval.go.positions` writes them
_SPLITS = {"train": TRAIN, "retrieval": RETRIEVAL, "test": TEST}
REQUIRED = ("board", "player", "superko", "last_move", "next_moves",
            "outcome", "game", "split")


class PositionData:
  """Expert positions, sampled by split."""

  def __init__(self, directory: str | os.PathLike[str]):
    """Opens the store.

    Raises:
      ValueError: not a positions store, or one without training or test
        positions, with what to run.
    """
    try:
      store = columns.read_columns(directory)
    except ValueError as e:
      raise ValueError(f"{e}; build the positions with `arena go positions`"
                       ) from None
    missing = [c for c in REQUIRED if c not in store.arrays]
    if missing:
      raise ValueError(f"{directory} lacks the columns {missing}; build it "
                       "with `arena go positions`")
    self.arrays, self.meta = store.arrays, store.meta
    self.board_size = int(self.meta["board_size"])
    split = np.asarray(self.arrays["split"])
    self.rows = {name: np.flatnonzero(split == k)
                 for name, k in _SPLITS.items()}
    for name in ("train", "test"):
      if not len(self.rows[name]):
        raise ValueError(f"{directory} holds no {name} positions (too few "
                         "games?)")

  def batch(self, rows: np.ndarray, symmetries: np.ndarray | None = None
            ) -> dict[str, np.ndarray]:
    """The positions at `rows` ([B] ints), each under `symmetries` [B]."""
    rows = np.asarray(rows)
    order = np.argsort(rows)  # Memory-mapped reads in file order.
    back = np.argsort(order)
    take = lambda name: np.asarray(self.arrays[name][rows[order]])[back]
    out = dict(board=take("board"), player=take("player"),
               superko=take("superko"),
               last_move=take("last_move").astype(np.int32),
               target=take("next_moves")[:, 0].astype(np.int32),
               outcome=take("outcome").astype(np.float32),
               row=rows.astype(np.int32))
    if symmetries is not None:
      out = transform(out, symmetries, self.board_size)
    return out

  def sample(self, rng: np.random.Generator, batch_size: int,
             augment: bool, split: str = "train") -> dict[str, np.ndarray]:
    """A uniform sample of `split` (with replacement).

    Raises:
      ValueError: the split has no positions here.
    """
    if not len(self.rows[split]):
      raise ValueError(f"no {split} positions to sample (for a network "
                       "with neighbours: none in its neighbour table)")
    rows = rng.choice(self.rows[split], size=batch_size)
    syms = (rng.integers(0, symmetry.NUM_SYMMETRIES, size=batch_size)
            if augment else None)
    return self.batch(rows, syms)

  def fixed(self, split: str, count: int, batch_size: int
            ) -> Iterator[dict[str, np.ndarray]]:
    """The first `count` positions of a seeded permutation of `split`, in
    batches of `batch_size` (the last one full: rows repeat to fill it)."""
    rows = np.random.default_rng(0).permutation(self.rows[split])[:count]
    for start in range(0, len(rows), batch_size):
      chunk = rows[start:start + batch_size]
      valid = len(chunk)
      chunk = np.resize(chunk, batch_size)
      batch = self.batch(chunk)
      batch["weight"] = (np.arange(batch_size) < valid).astype(np.float32)
      yield batch


def transform(batch: dict[str, np.ndarray], symmetries: np.ndarray,
              board_size: int) -> dict[str, np.ndarray]:
  """Each row of a batch under its own symmetry (numpy)."""
  perm = symmetry.point_permutation(board_size)  # [8, P]
  inverse = np.argsort(perm, axis=1)  # out[perm[p]] = in[p]
  gather = inverse[symmetries]  # [B, P]
  out = dict(batch)
  for name in ("board", "superko"):
    out[name] = np.take_along_axis(batch[name], gather, axis=1)
  p = board_size * board_size
  table = np.concatenate([perm, np.full((len(perm), 1), p, np.int32)], axis=1)
  for name in ("target", "last_move"):
    moves = batch[name]
    mapped = table[symmetries, np.clip(moves, 0, p)]
    out[name] = np.where(moves < 0, moves, mapped).astype(np.int32)
  if "nb_boards" in batch:  # Neighbours move with their query.
    k = batch["nb_boards"].shape[1]
    out["nb_boards"] = np.take_along_axis(
        batch["nb_boards"], np.repeat(gather[:, None, :], k, axis=1), axis=2)
    moves = batch["nb_next_moves"]
    mapped = table[symmetries[:, None, None], np.clip(moves, 0, p)]
    out["nb_next_moves"] = np.where(moves < 0, moves, mapped).astype(np.int32)
  return out


class NeighbourData(PositionData):
  """Expert positions with their precomputed neighbours
  (`retrieval.neighbour_table`), read from the index's payload.

  A batch adds `nb_boards` [B, K, P] int8 (each from its mover's side),
  `nb_next_moves` [B, K, M] int32, `nb_outcomes` [B, K] float32 and
  `nb_distances` [B, K] float32; under a symmetry the neighbours move with
  the position. Only positions the table covers are sampled.
  """

  def __init__(self, positions: str | os.PathLike[str],
               table: str | os.PathLike[str], index: str | os.PathLike[str],
               k: int, next_moves: int):
    super().__init__(positions)
    from agents.core import ann  # pylint: disable=g-import-not-at-top
    try:
      store = columns.read_columns(table)
    except ValueError as e:
      raise ValueError(f"{e}; compute neighbours with `arena go neighbours`"
                       ) from None
    if store.meta.get("k", 0) < k:
      raise ValueError(f"{table} holds {store.meta.get('k')} neighbours per "
                       f"position, {k} asked")
    self._ids = store.arrays["ids"]
    self._dists = store.arrays["distances"]
    self._entries = ann.open(index, searchable=False)
    self._k, self._m = k, next_moves
    where = np.full(len(self.arrays["split"]), -1, np.int64)
    where[np.asarray(store.arrays["row"])] = np.arange(store.num_rows)
    self._where = where
    self.rows = {name: rows[where[rows] >= 0]
                 for name, rows in self.rows.items()}
    if not any(len(self.rows[name]) for name in ("train", "test")):
      raise ValueError(f"{table} has no neighbours for the train or test "
                       "split")

  def batch(self, rows: np.ndarray, symmetries: np.ndarray | None = None
            ) -> dict[str, np.ndarray]:
    out = super().batch(rows)
    at = self._where[np.asarray(rows)]
    if (at < 0).any():
      raise ValueError("rows without precomputed neighbours")
    order = np.argsort(at)
    back = np.argsort(order)
    ids = np.asarray(self._ids[at[order]])[back][:, :self._k]
    dists = np.asarray(self._dists[at[order]])[back][:, :self._k]
    payload = self._entries.gather(ids)
    out.update(
        nb_boards=payload["board"].astype(np.int8),
        nb_next_moves=payload["next_moves"][..., :self._m].astype(np.int32),
        nb_outcomes=payload["outcome"].astype(np.float32),
        nb_distances=np.where(np.isfinite(dists), dists, 0.0).astype(
            np.float32))
    if symmetries is not None:
      out = transform(out, symmetries, self.board_size)
    return out
