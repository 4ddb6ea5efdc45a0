"""The more-squares rule (ISF 11): no endless chasing.

Interpretation, as implemented (and mirrored by `games/stratego/reference.py`):

- A move *threatens* when it goes to an empty square next to (in front of,
  behind or beside) an opponent's piece. An attack never threatens.
- The opponent *evades* when its very next move moves a piece away from a
  square next to the threatening piece's destination (not by attacking).
- A *chasing move* is a non-attacking move of the chaser, right after an
  evasion, to a square next to the evading piece's new square.
- A chase starts with a threat and goes on while evasions and chasing moves
  alternate. The positions the chaser's moves lead to (ranks and owners on
  the board, with the evader to move) are remembered, the last
  `CHASE_HISTORY` of them.
- The chaser may not play a chasing move that leads to a remembered position,
  except moving the chasing piece back to the square it came from on its
  directly preceding move (the two-square rule still applies to it). *So a
  position counts as repeated only with the same player to move.
- Any other move (and any attack, after which no earlier position can recur)
  ends the chase; a non-chasing threat starts a new one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import bitboard
from games.stratego import config
from games.stratego import state as state_lib
from games.stratego import tables as tables_lib


def _piece_index(rank: jax.Array, owner: jax.Array) -> jax.Array:
  """owner * 12 + code, 0 on empty squares (any shape)."""
  return jnp.where(owner < 0, 0, owner.astype(jnp.int32) * 12 + rank)


def position_hash(t: tables_lib.Tables, rank: jax.Array,
                  owner: jax.Array) -> jax.Array:
  """[2] uint32 Zobrist hash of the board (ranks and owners only)."""
  keys = (jnp.asarray(t.square_keys)
          * jnp.asarray(t.piece_keys)[_piece_index(rank, owner)])  # [S, 2]
  return jax.lax.reduce(keys, np.uint32(0), jax.lax.bitwise_xor, (0,))


def square_key(t: tables_lib.Tables, square: jax.Array, rank: jax.Array,
               owner: jax.Array) -> jax.Array:
  """[..., 2] uint32: the hash key of a piece (`rank`, `owner`) on `square`.

  Zero for an empty square, so updating `position_hash` after a move is an
  XOR of the keys of the squares it changed.
  """
  return (jnp.asarray(t.square_keys)[square]
          * jnp.asarray(t.piece_keys)[_piece_index(rank, owner)])


def _adjacent(width: int, a: jax.Array, b: jax.Array) -> jax.Array:
  """Whether squares `a` and `b` are orthogonal neighbours (if both >= 0)."""
  ra, ca = bitboard.divmod_(a, width)
  rb, cb = bitboard.divmod_(b, width)
  return jnp.abs(ra - rb) + jnp.abs(ca - cb) == 1


def update(variant: config.Variant, t: tables_lib.Tables,
           st: state_lib.State, player: jax.Array, src: jax.Array,
           dst: jax.Array, attack: jax.Array, new_owner: jax.Array,
           new_hash: jax.Array) -> dict[str, jax.Array]:
  """The chase fields after `player` moved `src`->`dst` (before the move).

  Args:
    variant: the board.
    t: the variant's tables.
    st: the state before the move.
    player: the mover, [] int32.
    src: from-square, [] int32.
    dst: to-square, [] int32.
    attack: whether the move attacked, [] bool.
    new_owner: [S] int8 owners after the move.
    new_hash: [2] uint32 hash after the move.

  Returns:
    The replacement values of the State's chase fields.
  """
  w = variant.width
  last_dst = st.recent_to[-1]
  evasion = ((st.chaser == 1 - player) & ~attack & (last_dst >= 0)
             & _adjacent(w, src, last_dst))
  chasing = ((st.chaser == player) & (st.chase_square >= 0) & ~attack
             & _adjacent(w, dst, st.chase_square))
  around = jnp.asarray(t.neighbours)[dst]  # [4], -1 off the board.
  threat = ~attack & jnp.any(
      (around >= 0) & (new_owner[jnp.maximum(around, 0)] == 1 - player))
  keep = evasion | chasing
  record = ~evasion & (chasing | threat)  # The chaser's positions only.
  length = jnp.where(keep, st.chase_len, 0)
  slot = jnp.where(record, length % state_lib.CHASE_HISTORY, -1)
  rows = jnp.arange(state_lib.CHASE_HISTORY).reshape(-1, 1)
  hashes = jnp.where(rows == slot, new_hash.reshape(1, 2),
                     jnp.where(keep, st.chase_hashes, jnp.uint32(0)))
  active = keep | threat
  return dict(
      chaser=jnp.where(evasion, st.chaser,
                       jnp.where(active, player, -1)).astype(jnp.int32),
      chase_square=jnp.where(evasion, dst, -1).astype(jnp.int32),
      chase_hashes=hashes,
      chase_len=(length + record).astype(jnp.int32))


def _highest_bit(x: jax.Array) -> jax.Array:
  """Index of the highest set bit of `x` (int32 > 0)."""
  return 31 - jax.lax.clz(x)


def _lowest_bit(x: jax.Array) -> jax.Array:
  """Index of the lowest set bit of `x` (int32 > 0)."""
  return jax.lax.population_count((x & -x) - 1)


def forbidden_moves(t: tables_lib.Tables, variant: config.Variant,
                    rank: jax.Array, owner: jax.Array, stops: jax.Array,
                    player: jax.Array,
                    st: state_lib.State) -> tuple[jax.Array, jax.Array]:
  """The chasing moves of `player` that would repeat a position.

  Returns (actions, forbidden), [16] each: the candidate chasing moves and
  which of them the rule forbids (to clear from the legal moves).

  `st` supplies the chase and history fields (taken after the last move);
  `rank`/`owner` are the current board and `stops` ([H] uint16) its packed
  occupied and lake squares. A chasing move lands on one of the four squares
  next to the chased piece X; for each such square and each direction only
  the first piece met looking back along that line can land there, so 16
  candidate moves are examined. That first piece is found with bit scans of
  the neighbour's rank and file words, not by walking the line.
  """
  h, w = variant.height, variant.width
  active = (st.chaser == player) & (st.chase_square >= 0)
  xr, xc = bitboard.divmod_(jnp.maximum(st.chase_square, 0), w)
  # The squares next to X, in direction order (up, down, left, right).
  dr, dc = (np.asarray(x) for x in zip(*config.DIRECTIONS))
  nr, nc = xr + dr, xc + dc  # [4]
  on_board = (nr >= 0) & (nr < h) & (nc >= 0) & (nc < w)
  nr, nc = jnp.clip(nr, 0, h - 1), jnp.clip(nc, 0, w - 1)
  around = nr * w + nc
  stops = stops.astype(jnp.int32)
  rank_word = stops[nr]  # [4]: bit c is (nr, c).
  file_word = jnp.sum(((stops.reshape(1, h) >> nc.reshape(4, 1)) & 1)
                      << jnp.arange(h).reshape(1, h), axis=1)  # bit r: (r, nc)
  free = ((rank_word >> nc) & 1) == 0
  # Stops behind each neighbour, for a move in each direction d: a move up
  # comes from below (lower ranks), down from above, left from the right,
  # right from the left.
  below = file_word & ((1 << nr) - 1)
  above = file_word >> (nr + 1)
  right = rank_word >> (nc + 1)
  left = rank_word & ((1 << nc) - 1)
  columns = lambda xs: jnp.concatenate([x[:, None] for x in xs], axis=1)
  found = columns([below, above, right, left]) != 0  # [4 nb, 4 d]
  dist = columns([nr - _highest_bit(below), _lowest_bit(above) + 1,
                  _lowest_bit(right) + 1, nc - _highest_bit(left)])
  step = np.asarray([w, -w, -1, 1]).reshape(1, 4)  # Square step of each d.
  src = around.reshape(4, 1) - dist * step
  safe_src = jnp.clip(src, 0, variant.num_squares - 1)
  src, safe_src, dist, found, around, free, on_board = bitboard.materialize(
      src, safe_src, dist, found, around, free, on_board)
  moving = jnp.asarray(t.piece_keys)[_piece_index(rank[safe_src],
                                                  owner[safe_src])]
  keys = jnp.asarray(t.square_keys)
  new_hash = bitboard.materialize(
      st.position_hash.reshape(1, 1, 2)
      ^ (keys[safe_src] * moving)
      ^ (keys[around].reshape(4, 1, 2) * moving))  # [4, 4, 2]
  ch = state_lib.CHASE_HISTORY
  valid = (jnp.arange(ch) < st.chase_len).reshape(1, 1, ch)
  same = jnp.all(new_hash.reshape(4, 4, 1, 2)
                 == st.chase_hashes.reshape(1, 1, ch, 2), axis=-1)
  seen = jnp.any(same & valid, axis=-1)  # [4, 4]
  back_home = ((around.reshape(4, 1) == st.recent_from[-2])
               & (src == st.recent_to[-2]))
  bad = (active & found & (on_board & free).reshape(4, 1) & seen
         & ~back_home)
  plane = np.arange(4).reshape(1, 4) * variant.max_distance + dist - 1
  return ((plane * variant.num_squares + safe_src).reshape(-1),
          bad.reshape(-1))
