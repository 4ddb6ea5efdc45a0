"""The eight symmetries of the square board (the dihedral group D4).

Symmetry s maps point (row, col) to `point_permutation(N)[s][point]`; the
pass maps to itself. Symmetry 0 is the identity; 1-3 rotate by 90, 180 and
270 degrees; 4-7 are those rotations after a reflection of the columns.
Boards and per-point arrays are moved with `transform_points`, actions with
`transform_actions`; `inverse(s)` undoes s.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

NUM_SYMMETRIES = 8


@functools.cache
def point_permutation(board_size: int) -> np.ndarray:
  """[8, P] int32: the image of each point under each symmetry."""
  n = board_size
  rows, cols = np.divmod(np.arange(n * n), n)
  images = []
  for s in range(NUM_SYMMETRIES):
    r, c = rows, (n - 1 - cols) if s >= 4 else cols
    for _ in range(s % 4):
      r, c = c, n - 1 - r  # A quarter turn.
    images.append(r * n + c)
  perm = np.stack(images).astype(np.int32)
  perm.setflags(write=False)
  return perm


@functools.cache
def inverse_table(board_size: int) -> np.ndarray:
  """[8] int32: the symmetry that undoes each one."""
  perm = point_permutation(board_size)
  out = np.zeros(NUM_SYMMETRIES, np.int32)
  for s in range(NUM_SYMMETRIES):
    undone = [t for t in range(NUM_SYMMETRIES)
              if np.array_equal(perm[t][perm[s]], np.arange(perm.shape[1]))]
    out[s] = undone[0]
  return out


def inverse(symmetry: int, board_size: int) -> int:
  return int(inverse_table(board_size)[symmetry])


def transform_points(values: jax.Array | np.ndarray, symmetry,
                     board_size: int):
  """Moves per-point values [..., P, *rest]: `out[perm[p]] = values[p]`.

  Works on numpy arrays (returns numpy) and JAX arrays (traced `symmetry`
  allowed).
  """
  perm = point_permutation(board_size)
  if isinstance(values, np.ndarray):
    inv = np.argsort(perm[symmetry])
    return np.take(values, inv, axis=_point_axis(values, board_size))
  inv = jnp.argsort(jnp.asarray(perm)[symmetry])
  return jnp.take(values, inv, axis=_point_axis(values, board_size))


def _point_axis(values, board_size: int) -> int:
  p = board_size * board_size
  axes = [i for i, d in enumerate(values.shape) if d == p]
  if not axes:
    raise ValueError(f"no axis of size {p} in shape {values.shape}")
  return axes[-1]


def transform_actions(actions, symmetry, board_size: int):
  """Maps action ids (points and the pass, any shape) under `symmetry`."""
  p = board_size * board_size
  table = np.concatenate([point_permutation(board_size),
                          np.full((NUM_SYMMETRIES, 1), p, np.int32)], axis=1)
  if isinstance(actions, np.ndarray) or np.isscalar(actions):
    return table[symmetry][np.asarray(actions)]
  return jnp.asarray(table)[symmetry][actions]


def transform_policy(probs: jax.Array, symmetry, board_size: int) -> jax.Array:
  """Moves a distribution over actions [..., P + 1] (the pass stays last)."""
  points = transform_points(probs[..., :-1], symmetry, board_size)
  xp = np if isinstance(probs, np.ndarray) else jnp
  return xp.concatenate([points, probs[..., -1:]], axis=-1)


