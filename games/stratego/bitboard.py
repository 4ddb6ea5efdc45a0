"""Legal moves as row bitboards: one 16-bit word per (plane, rank).

Bit c of word `[plane, r]` is action `plane * S + r * W + c` (see `tables`),
so a [4 * L, H] uint16 array holds a whole legal-action set. Moving a
bitboard one rank is a slice of the word array and one file a bit shift,
which never wraps into the next rank; the move generator is a few dozen
operations on H-word arrays instead of thousands on squares.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import config

#: One word per rank: boards up to 16 files wide.
WORD = jnp.uint16


def pack(variant: config.Variant, squares: jax.Array) -> jax.Array:
  """[S] bool -> [H] uint16, bit c of word r is square r * W + c."""
  h, w = variant.height, variant.width
  bits = jnp.left_shift(WORD(1), jnp.arange(w, dtype=WORD)).reshape(1, w)
  return jnp.sum(jnp.where(squares.reshape(h, w), bits, WORD(0)), axis=1,
                 dtype=WORD)


def unpack(variant: config.Variant, words: jax.Array) -> jax.Array:
  """[P, H] uint16 -> [P * S] bool."""
  h, w = variant.height, variant.width
  shifts = jnp.arange(w, dtype=WORD).reshape(1, 1, w)
  bits = (words.reshape(-1, h, 1) >> shifts) & WORD(1)
  return bits.astype(bool).reshape(-1)


def full(variant: config.Variant, num_planes: int) -> jax.Array:
  """[P, H] uint16 with every square's bit set (every action legal)."""
  return jnp.full((num_planes, variant.height), (1 << variant.width) - 1, WORD)


def lakes(variant: config.Variant) -> np.ndarray:
  """[H] uint16 constant: the lake squares."""
  words = np.zeros(variant.height, np.uint16)
  for r, c in variant.lakes:
    words[r] |= np.uint16(1 << c)
  return words


def move_words(variant: config.Variant, rank: jax.Array, owner: jax.Array,
               player: jax.Array) -> jax.Array:
  """[4 * L, H] uint16: moves allowed by piece movement alone.

  Plane (d, k) has the bit of square s set when the piece on s may move k
  squares in direction d: it is the player's and movable, the squares on the
  way are empty (and k > 1 only for a Scout), and the destination is empty
  or holds an enemy piece.
  """
  movable, scout, empty, open_or_enemy = _boards(variant, rank, owner, player)
  planes = []
  for shift in _shifts(variant):  # Static unroll: 4 * L planes of H words.
    path = movable
    for k in range(1, variant.max_distance + 1):
      planes.append(path & shift(open_or_enemy, k))
      path = path & shift(empty, k) & scout
  return jnp.stack(planes)


def can_move(variant: config.Variant, rank: jax.Array, owner: jax.Array,
             player: jax.Array) -> jax.Array:
  """[] bool: `player` has a movable piece next to an empty or enemy square."""
  movable, _, _, open_or_enemy = _boards(variant, rank, owner, player)
  near = [shift(open_or_enemy, 1) for shift in _shifts(variant)]
  return jnp.any((movable & (near[0] | near[1] | near[2] | near[3])) != 0)


def _boards(variant: config.Variant, rank: jax.Array, owner: jax.Array,
            player: jax.Array) -> tuple[jax.Array, ...]:
  """[H] uint16 each: movable pieces, Scouts, empty squares, targets."""
  own = owner == player
  movable = pack(variant, own & (rank >= config.SPY) & (rank <= config.MARSHAL))
  scout = pack(variant, own & (rank == config.SCOUT))
  empty = pack(variant, owner < 0) & ~jnp.asarray(lakes(variant))
  open_or_enemy = empty | pack(variant, (owner >= 0) & ~own)
  return movable, scout, empty, open_or_enemy


def _shifts(variant: config.Variant):
  """Up, down, left, right (as config.DIRECTIONS): shift(x, k)[r] has at bit
  c what x has on the square k steps from (r, c) in that direction."""
  h, row_mask = variant.height, WORD((1 << variant.width) - 1)

  def zeros(k):
    return jnp.zeros(min(k, h), WORD)

  return (
      lambda x, k: jnp.concatenate([x[k:], zeros(k)]) if k < h else zeros(h),
      lambda x, k: (jnp.concatenate([zeros(k), x[:h - k]]) if k < h
                    else zeros(h)),
      lambda x, k: (x << k) & row_mask,
      lambda x, k: x >> k,
  )


def _locate(variant: config.Variant,
            action: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """(plane, row, column) of action ids."""
  plane, square = jnp.divmod(action, variant.num_squares)
  row, col = jnp.divmod(square, variant.width)
  return plane, row, col


def has(variant: config.Variant, words: jax.Array,
        action: jax.Array) -> jax.Array:
  """[] bool: whether `action` ([] int32, in range) is set in `words`."""
  plane, row, col = _locate(variant, action)
  return ((words[plane, row] >> col.astype(WORD)) & WORD(1)) == 1


def clear(variant: config.Variant, words: jax.Array, actions: jax.Array,
          where: jax.Array) -> jax.Array:
  """Clears `actions` (any shape, int32) where `where` is True.

  The selected actions must be distinct: their bits are combined by a
  scatter-add.
  """
  plane, row, col = _locate(variant, jnp.maximum(actions, 0))
  bits = jnp.where(where, jnp.left_shift(WORD(1), col.astype(WORD)), WORD(0))
  plane = jnp.where(where, plane, words.shape[0])  # Dropped below.
  forbid = jnp.zeros_like(words).at[plane.reshape(-1), row.reshape(-1)].add(
      bits.reshape(-1), mode="drop")
  return words & ~forbid
