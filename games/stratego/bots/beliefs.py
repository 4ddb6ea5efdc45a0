"""What a Stratego player knows, read back from its observation planes.

The heuristic bot decides from `games.stratego.observe` planes only, never
from the hidden state, so it cannot cheat. This module turns the planes into
a `View`: own piece codes, enemy squares and, for every enemy piece, a belief
over its code. An unrevealed piece that has moved is no Bomb or Flag; the
other unrevealed pieces share what is left of the unaccounted-for counts
(planes 28-39), with Bombs and the Flag made likelier on the enemy's back
rank, where sensible players put them.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import config
from games.stratego import observe as observe_lib

# Observation channels (see games/stratego/observe.py).
_OWN, _OPP_SHOWN, _OPP_MOVED, _OPP_STILL = 0, 12, 24, 25
_COUNTS, _HISTORY, _SECOND, _DEPLOYING, _NEXT_CODE = 28, 41, 49, 50, 51

#: How much likelier a Bomb or the Flag is on the enemy's back rank.
BACK_RANK_BOMB_ODDS = 1.5

_CODES = np.arange(1, config.NUM_PIECE_TYPES + 1)
_MOVABLE = (_CODES >= config.SPY) & (_CODES <= config.MARSHAL)  # [12]


class View(NamedTuple):
  """One player's knowledge of a position. S squares, codes 1..12."""

  own: jax.Array  # [S] int32: own piece code, 0 elsewhere
  enemy: jax.Array  # [S] bool: an enemy piece stands there
  hidden: jax.Array  # [S] bool: an enemy piece of unknown code
  belief: jax.Array  # [S, 12] float32: P(code) of the enemy piece, 0 if none
  second: jax.Array  # [] bool: the player moves second
  deploying: jax.Array  # [] bool: deployment phase
  next_code: jax.Array  # [] int32: code deployed next (0 in play)
  last_from: jax.Array  # [] int32: from-square of our last move, -1 none
  last_to: jax.Array  # [] int32: to-square of our last move, -1 none


@functools.lru_cache(maxsize=None)
def geometry(variant: config.Variant) -> dict[str, np.ndarray]:
  """Static tables: rows, cols [S]; Manhattan, Chebyshev distances [S, S]."""
  rows, cols = np.divmod(np.arange(variant.num_squares), variant.width)
  dr = np.abs(rows.reshape(-1, 1) - rows.reshape(1, -1))
  dc = np.abs(cols.reshape(-1, 1) - cols.reshape(1, -1))
  return {"rows": rows.astype(np.int32), "cols": cols.astype(np.int32),
          "manhattan": (dr + dc).astype(np.float32),
          "chebyshev": np.maximum(dr, dc).astype(np.float32)}


def _codes(planes: jax.Array) -> jax.Array:
  """[S, 12] one-hot planes -> [S] int32 codes (0 where none is set)."""
  return jnp.round(planes @ jnp.asarray(_CODES, jnp.float32)).astype(jnp.int32)


def _last_own_move(planes: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(from, to) squares of the player's last move, -1 when none.

  The history planes hold the last moves newest first; the newest is the
  opponent's, so the player's own last move is the second.
  """
  plane = planes[:, _HISTORY + 1]
  found = jnp.any(plane != 0)
  frm = jnp.where(found, jnp.argmin(plane), -1)
  to = jnp.where(found, jnp.argmax(plane), -1)
  return frm.astype(jnp.int32), to.astype(jnp.int32)


def read(variant: config.Variant, obs: jax.Array) -> View:
  """The `View` in observation `obs` ([H, W, C] float32)."""
  s = variant.num_squares
  x = obs.reshape(s, observe_lib.NUM_CHANNELS)
  own = _codes(x[:, _OWN:_OWN + 12])
  shown = _codes(x[:, _OPP_SHOWN:_OPP_SHOWN + 12])
  moved = x[:, _OPP_MOVED] > 0.5
  still = x[:, _OPP_STILL] > 0.5
  second = x[0, _SECOND] > 0.5

  army = np.maximum(np.asarray(variant.army[1:], np.float32), 1.0)
  counts = jnp.round(x[0, _COUNTS:_COUNTS + 12] * army)  # [12] unaccounted
  movable = jnp.asarray(_MOVABLE)
  # Unrevealed pieces that moved hold some of the movable codes; the others
  # (unmoved) hold the rest of them and every Bomb and Flag.
  num_movable = jnp.sum(jnp.where(movable, counts, 0.0))
  left = jnp.clip(
      (num_movable - jnp.sum(moved)) / jnp.maximum(num_movable, 1.0), 0.0, 1.0)
  p_moved = jnp.where(movable, counts, 0.0)
  p_still = jnp.where(movable, counts * left, counts)
  rows = jnp.asarray(geometry(variant)["rows"])
  enemy_back = jnp.where(second, rows == 0, rows == variant.height - 1)
  odds = jnp.where(enemy_back.reshape(s, 1) & ~movable.reshape(1, 12),
                   BACK_RANK_BOMB_ODDS, 1.0)  # [S, 12]
  p_still = p_still.reshape(1, 12) * odds
  p_moved = jnp.broadcast_to(p_moved.reshape(1, 12), (s, 12))
  weights = jnp.where(moved.reshape(s, 1), p_moved,
                      jnp.where(still.reshape(s, 1), p_still, 0.0))
  weights = weights / jnp.maximum(jnp.sum(weights, axis=1, keepdims=True),
                                  1e-6)
  revealed = jax.nn.one_hot(shown - 1, 12, dtype=jnp.float32)  # 0 -> zeros.
  hidden = moved | still
  last_from, last_to = _last_own_move(x)
  return View(
      own=own, enemy=hidden | (shown > 0), hidden=hidden,
      belief=jnp.where(hidden.reshape(s, 1), weights, revealed),
      second=second, deploying=x[0, _DEPLOYING] > 0.5,
      next_code=jnp.round(x[0, _NEXT_CODE] * 12).astype(jnp.int32),
      last_from=last_from, last_to=last_to)
