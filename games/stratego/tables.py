"""Static lookup tables of a variant: move targets, Zobrist keys, action ids.

Actions during play are `(direction * L + distance - 1) * S + from_square`,
with L = `variant.max_distance` and S the number of squares: one plane of S
from-squares per (direction, distance), directions as in `config.DIRECTIONS`.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from games.stratego import config


@dataclasses.dataclass(frozen=True, eq=False)
class Tables:
  """Numpy constants of one variant."""

  target: np.ndarray  # [4, L, S] int32: destination square, -1 off board
  action_from: np.ndarray  # [A] int32
  action_to: np.ndarray  # [A] int32: -1 when off board
  action_dir: np.ndarray  # [A] int32
  action_dist: np.ndarray  # [A] int32: 1..L
  neighbours: np.ndarray  # [S, 4] int32: adjacent squares, -1 off board
  back_rays: np.ndarray  # [S, 4, L] int32: square - k * step_d, -1 off board
  adjacent: np.ndarray  # [S, S] bool
  line_pos: np.ndarray  # [S, 4] int32: coordinate along each direction's axis
  zobrist: np.ndarray  # [S, 25, 2] uint32: key of (square, owner*12+code)
  square_keys: np.ndarray  # [S, 2] uint32
  piece_keys: np.ndarray  # [25, 2] uint32; zobrist = square_keys * piece_keys
  lakes: np.ndarray  # [S] bool
  home: np.ndarray  # [2, S] bool
  deploy_order: np.ndarray  # [N] int8: piece codes in deployment order


@functools.lru_cache(maxsize=None)
def get_tables(variant: config.Variant) -> Tables:
  """Builds (once) the tables of `variant`."""
  h, w, n = variant.height, variant.width, variant.max_distance
  s = variant.num_squares
  rows, cols = np.divmod(np.arange(s), w)
  target = np.full((4, n, s), -1, np.int32)
  for d, (dr, dc) in enumerate(config.DIRECTIONS):
    for k in range(1, n + 1):
      r, c = rows + k * dr, cols + k * dc
      ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
      target[d, k - 1] = np.where(ok, r * w + c, -1)
  planes = np.arange(4 * n * s) // s
  adjacent = np.zeros((s, s), bool)
  neighbours = target[:, 0, :].T.copy()
  for sq in range(s):
    for nb in neighbours[sq]:
      if nb >= 0:
        adjacent[sq, nb] = True
  line_pos = np.stack([rows, rows, cols, cols], axis=1).astype(np.int32)
  rng = np.random.default_rng(20260101)
  square_keys = rng.integers(0, 2**32, size=(s, 2), dtype=np.uint32)
  piece_keys = rng.integers(0, 2**32, size=(25, 2), dtype=np.uint32)
  piece_keys[0] = 0  # Empty squares do not change the hash.
  # Products (mod 2**32) let the chase rule compute a moved piece's keys from
  # a few slices instead of gathers; see chase.forbid.
  zobrist = square_keys[:, None, :] * piece_keys[None, :, :]
  home = np.zeros((2, s), bool)
  for p in range(2):
    home[p, config.home_squares(variant, p)] = True
  order = [config.FLAG, config.BOMB] + list(range(config.MARSHAL, 0, -1))
  deploy_order = np.array(
      [c for c in order for _ in range(variant.army[c])], np.int8)
  return Tables(
      target=target,
      action_from=(np.arange(4 * n * s) % s).astype(np.int32),
      action_to=target.reshape(-1),
      action_dir=(planes // n).astype(np.int32),
      action_dist=(planes % n + 1).astype(np.int32),
      neighbours=neighbours,
      back_rays=target[np.asarray(config.OPPOSITE)].transpose(2, 0, 1).copy(),
      adjacent=adjacent,
      line_pos=line_pos,
      zobrist=zobrist,
      square_keys=square_keys,
      piece_keys=piece_keys,
      lakes=config.lake_mask(variant),
      home=home,
      deploy_order=deploy_order)


def num_actions(variant: config.Variant) -> int:
  """4 * L * S; deployment reuses the first S ids as square ids."""
  return 4 * variant.max_distance * variant.num_squares
