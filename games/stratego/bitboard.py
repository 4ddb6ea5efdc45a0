"""Legal moves as row bitboards: one 16-bit word per (plane, rank).

Bit c of word `[plane, r]` is action `plane * S + r * W + c` (see `tables`),
so a [4 * L, H] uint16 array holds a whole legal-action set. Moving a
bitboard one rank is a slice of the word array and one file a bit shift,
which never wraps into the next rank; the move generator is a few dozen
operations on H-word arrays instead of thousands on squares.

Everything here is written for `vmap` on a CPU: no scatters (masks are
built with `where` over the whole [4 * L, H] array) and, outside `has`, no
gathers.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import config

#: One word per rank: boards up to 16 files wide.
WORD = jnp.uint16


def materialize(*xs: jax.Array):
  """Returns `xs` unchanged (one array: that array), computed once per game.

  XLA fuses cheap elementwise ops into every consumer, so a few scalars of a
  game feeding a where over a [4 * L, H] or [S] array get recomputed for each
  of its elements. A reduce is never duplicated that way: this one takes the
  max of each value and the smallest value of its type, which leaves it
  unchanged. Arrays of one shape share one (variadic) reduce, since every
  XLA op has a fixed cost besides its work.
  """
  def lowest(x):
    return False if x.dtype == jnp.bool_ else jnp.iinfo(x.dtype).min

  def pair_max(a, b):
    n = len(a)
    return tuple(jnp.maximum(x, y) for x, y in zip(a[:n], b[:n]))

  out = list(xs)
  shapes = {}
  for i, x in enumerate(xs):
    shapes.setdefault(x.shape, []).append(i)
  for idx in shapes.values():
    pairs = [jnp.concatenate([xs[i][..., None],
                              jnp.full_like(xs[i], lowest(xs[i]))[..., None]],
                             axis=-1) for i in idx]
    inits = [jnp.array(lowest(xs[i]), xs[i].dtype) for i in idx]
    done = jax.lax.reduce(pairs, inits, pair_max, (xs[idx[0]].ndim,))
    for i, x in zip(idx, done):
      out[i] = x
  return out[0] if len(xs) == 1 else tuple(out)


def pack(variant: config.Variant, squares: jax.Array) -> jax.Array:
  """[..., S] bool -> [..., H] uint16, bit c of word r is square r * W + c."""
  h, w = variant.height, variant.width
  bits = jnp.left_shift(WORD(1), jnp.arange(w, dtype=WORD))
  grid = squares.reshape(*squares.shape[:-1], h, w)
  return jnp.sum(jnp.where(grid, bits, WORD(0)), axis=-1, dtype=WORD)


def unpack(variant: config.Variant, words: jax.Array) -> jax.Array:
  """[P, H] uint16 -> [P * S] bool.

  Reads the bits of each byte from a 256-entry table: on a CPU, XLA runs
  this gather several times faster than shifting each word by each file.
  """
  w = variant.width
  table = jnp.asarray(_BYTE_BITS)
  bits = table[(words & 0xFF).astype(jnp.int32)][..., :min(w, 8)]
  if w > 8:
    high = table[(words >> 8).astype(jnp.int32)][..., :w - 8]
    bits = jnp.concatenate([bits, high], axis=-1)
  return bits.reshape(-1)


#: [256, 8] bool: the bits of each byte, lowest first.
_BYTE_BITS = ((np.arange(256).reshape(-1, 1) >> np.arange(8)) & 1).astype(bool)


def full(variant: config.Variant, num_planes: int) -> jax.Array:
  """[P, H] uint16 with every square's bit set (every action legal)."""
  return jnp.full((num_planes, variant.height), (1 << variant.width) - 1, WORD)


def lakes(variant: config.Variant) -> np.ndarray:
  """[H] uint16 constant: the lake squares."""
  words = np.zeros(variant.height, np.uint16)
  for r, c in variant.lakes:
    words[r] |= np.uint16(1 << c)
  return words


def pack_board(variant: config.Variant, rank: jax.Array,
               owner: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """The packed board: `occupied`, `movable` and `scouts`, [2, H] uint16."""
  players = jnp.arange(2, dtype=owner.dtype).reshape(2, 1)
  mine = owner.reshape(1, -1) == players  # [2, S]
  rank = rank.reshape(1, -1)
  movable_rank = (rank >= config.SPY) & (rank <= config.MARSHAL)
  return (pack(variant, mine), pack(variant, mine & movable_rank),
          pack(variant, mine & (rank == config.SCOUT)))


def divmod_(x: jax.Array, d: int) -> tuple[jax.Array, jax.Array]:
  """`divmod` for x >= 0 (int32): C division, without the sign fix-ups of
  Python's floor division that `jnp.divmod` emits."""
  return jax.lax.div(x, jnp.int32(d)), jax.lax.rem(x, jnp.int32(d))


def square_bit(variant: config.Variant,
               square: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(rank, bit): the word of `square` ([] int32, in range) and its bit."""
  row, col = divmod_(square, variant.width)
  return row, jnp.left_shift(WORD(1), col.astype(WORD))


def square_words(variant: config.Variant, row: jax.Array,
                 bit: jax.Array) -> jax.Array:
  """[H] uint16 with only `bit` of word `row` set (see `square_bit`)."""
  return jnp.where(jnp.arange(variant.height) == row, bit, WORD(0))


def _empty(variant: config.Variant, occupied: jax.Array) -> jax.Array:
  """[H] uint16: empty squares (no piece, no lake)."""
  row_mask = WORD((1 << variant.width) - 1)
  return ~(occupied[0] | occupied[1] | jnp.asarray(lakes(variant))) & row_mask


def _open_or_enemy(variant: config.Variant, occupied: jax.Array,
                   player: jax.Array) -> jax.Array:
  """[H] uint16: squares `player` may move onto (not lakes, not its own)."""
  own = jnp.where(player == 0, occupied[0], occupied[1])
  row_mask = WORD((1 << variant.width) - 1)
  return ~(own | jnp.asarray(lakes(variant))) & row_mask


def move_words(variant: config.Variant, occupied: jax.Array,
               movable: jax.Array, scouts: jax.Array,
               player: jax.Array) -> jax.Array:
  """[4 * L, H] uint16: moves allowed by piece movement alone.

  Plane (d, k) has the bit of square s set when the piece on s may move k
  squares in direction d: it is the player's and movable, the squares on the
  way are empty (and k > 1 only for a Scout), and the destination is empty
  or holds an enemy piece. The boards are the state's packed ones, [2, H].
  """
  mine = lambda x: jnp.where(player == 0, x[0], x[1])
  # Each plane below is its own XLA fusion: computing these once saves
  # recomputing them in each.
  movable, scout, open_or_enemy, empty = materialize(
      mine(movable), mine(scouts), _open_or_enemy(variant, occupied, player),
      _empty(variant, occupied))
  planes = []
  for shift in _shifts(variant):  # Static unroll: 4 * L planes of H words.
    path = movable
    for k in range(1, variant.max_distance + 1):
      planes.append(path & shift(open_or_enemy, k))
      path = path & shift(empty, k) & scout
  return _stack(planes)


def can_move(variant: config.Variant, occupied: jax.Array,
             movable: jax.Array, player: jax.Array) -> jax.Array:
  """[] bool: `player` has a movable piece next to an empty or enemy square."""
  mine = jnp.where(player == 0, movable[0], movable[1])
  open_or_enemy = _open_or_enemy(variant, occupied, player)
  near = [shift(open_or_enemy, 1) for shift in _shifts(variant)]
  return jnp.any((mine & (near[0] | near[1] | near[2] | near[3])) != 0)


def _stack(rows: list[jax.Array]) -> jax.Array:
  """`jnp.stack(rows)` without the transpose `vmap` adds to `jnp.stack`."""
  return jnp.concatenate([r[None] for r in rows])


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
  plane, square = divmod_(action, variant.num_squares)
  row, col = divmod_(square, variant.width)
  return plane, row, col


def has(variant: config.Variant, words: jax.Array,
        action: jax.Array) -> jax.Array:
  """[] bool: whether `action` ([] int32, in range) is set in `words`."""
  plane, row, col = _locate(variant, action)
  return ((words[plane, row] >> col.astype(WORD)) & WORD(1)) == 1


def clear(variant: config.Variant, words: jax.Array, actions: jax.Array,
          where: jax.Array) -> jax.Array:
  """Clears `actions` ([M] int32) where `where` ([M] bool) is True.

  The selected actions must be distinct. A scatter-add of minus the bits
  still set, in place: cheaper on a CPU than building a [4 * L, H] mask.
  """
  plane, row, col = _locate(variant, jnp.maximum(actions, 0))
  bits = jnp.left_shift(WORD(1), col.astype(WORD))
  on = where & ((words[plane, row] & bits) != 0)
  plane = jnp.where(on, plane, words.shape[0])  # Dropped below.
  return words.at[plane, row].add(WORD(0) - bits, mode="drop")


def sample(variant: config.Variant, key: chex.PRNGKey,
           words: jax.Array) -> jax.Array:
  """A uniformly random action among the bits set in `words` ([4 * L, H]).

  Draws n uniform below the number of set bits and finds the n-th: its
  plane, rank and file by binary searches over the bit counts (XLA's CPU
  backend runs these much faster than `cumsum`). Returns an arbitrary
  action id when no bit is set.
  """
  counts = jax.lax.population_count(words).astype(jnp.int32)  # [P, H]
  per_plane = jnp.sum(counts, axis=1)
  n = uniform_below(key, jnp.sum(per_plane))
  plane, n = find_nth(per_plane, n)
  row, n = find_nth(counts[plane], n)
  word = words[plane, row].astype(jnp.int32)
  col = nth_bit(word, n, variant.width)
  return (plane * variant.num_squares + row * variant.width
          + col).astype(jnp.int32)


def uniform_below(key: chex.PRNGKey, total: jax.Array) -> jax.Array:
  """A uniform int32 in [0, total) ([] int32, 0 < total < 2**16); 0 if 0.

  floor(r * total / 2**32) for 32 random bits r: one draw of bits instead
  of `jax.random.randint`'s three, biased by less than total / 2**32.
  """
  r = jax.random.bits(key, (), jnp.uint32)
  t = total.astype(jnp.uint32)
  high = (r >> 16) * t + (((r & 0xFFFF) * t) >> 16)  # r * t / 2**16.
  return (high >> 16).astype(jnp.int32)


def find_nth(counts: jax.Array,
             n: jax.Array) -> tuple[jax.Array, jax.Array]:
  """The bucket holding unit `n` of `counts` ([N] int32), and n's rank in it.

  That is the largest m with sum(counts[:m]) <= n (a binary search: the
  prefix sums never decrease), clipped to N - 1.
  """
  size = counts.shape[0]
  index = jnp.arange(size)
  below = lambda m: jnp.sum(jnp.where(index < m, counts, 0))
  found = jnp.int32(0)
  step = 1 << (size - 1).bit_length()
  while step:  # Static unroll: log2(N) probes.
    probe = found + step
    found = jnp.where((probe <= size) & (below(probe) <= n), probe, found)
    step //= 2
  found = jnp.minimum(found, size - 1)
  return found, n - below(found)


def nth_bit(word: jax.Array, n: jax.Array, width: int) -> jax.Array:
  """Position of the `n`-th (from 0) set bit of `word` ([] int32)."""
  found = jnp.int32(0)
  step = 1 << (width - 1).bit_length()
  while step:  # Static unroll: the largest m with n set bits below m.
    probe = found + step
    below = jax.lax.population_count(word & ((1 << probe) - 1))
    found = jnp.where((probe <= width) & (below <= n), probe, found)
    step //= 2
  return found
