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
  """[S] int32: owner * 12 + code, 0 on empty squares."""
  return jnp.where(owner < 0, 0, owner.astype(jnp.int32) * 12 + rank)


def position_hash(t: tables_lib.Tables, rank: jax.Array,
                  owner: jax.Array) -> jax.Array:
  """[2] uint32 Zobrist hash of the board (ranks and owners only)."""
  keys = (jnp.asarray(t.square_keys)
          * jnp.asarray(t.piece_keys)[_piece_index(rank, owner)])  # [S, 2]
  return jax.lax.reduce(keys, np.uint32(0), jax.lax.bitwise_xor, (0,))


def update(t: tables_lib.Tables, st: state_lib.State, player: jax.Array,
           src: jax.Array, dst: jax.Array, attack: jax.Array,
           new_owner: jax.Array, new_hash: jax.Array) -> dict[str, jax.Array]:
  """The chase fields after `player` moved `src`->`dst` (before the move).

  Args:
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
  adjacent = jnp.asarray(t.adjacent)
  last_dst = st.recent_to[-1]
  evasion = ((st.chaser == 1 - player) & ~attack & (last_dst >= 0)
             & adjacent[src, jnp.maximum(last_dst, 0)])
  chasing = ((st.chaser == player) & (st.chase_square >= 0) & ~attack
             & adjacent[dst, jnp.maximum(st.chase_square, 0)])
  threat = ~attack & jnp.any(adjacent[dst] & (new_owner == 1 - player))
  keep = evasion | chasing
  record = ~evasion & (chasing | threat)  # The chaser's positions only.
  length = jnp.where(keep, st.chase_len, 0)
  hashes = jnp.where(keep, st.chase_hashes, jnp.zeros_like(st.chase_hashes))
  slot = jnp.where(record, length % state_lib.CHASE_HISTORY,
                   state_lib.CHASE_HISTORY)
  hashes = hashes.at[slot].set(new_hash, mode="drop")
  active = keep | threat
  return dict(
      chaser=jnp.where(evasion, st.chaser,
                       jnp.where(active, player, -1)).astype(jnp.int32),
      chase_square=jnp.where(evasion, dst, -1).astype(jnp.int32),
      chase_hashes=hashes,
      chase_len=(length + record).astype(jnp.int32))


def forbid(t: tables_lib.Tables, variant: config.Variant, words: jax.Array,
           rank: jax.Array, owner: jax.Array, player: jax.Array,
           st: state_lib.State) -> jax.Array:
  """Clears (in the legal-move bitboards `words`) the chasing moves of
  `player` that would repeat a position.

  `st` supplies the chase and history fields (taken after the last move);
  `rank`/`owner` are the current board. A chasing move lands on one of the
  four squares next to the chased piece X; for each such square and each
  direction only the first piece met looking back along that line can land
  there, so 16 candidate moves are examined.
  """
  s, n = variant.num_squares, variant.max_distance
  active = (st.chaser == player) & (st.chase_square >= 0)
  around = jnp.asarray(t.neighbours)[jnp.maximum(st.chase_square, 0)]  # [4]
  safe_around = jnp.maximum(around, 0)
  # The squares looking back from each neighbour: [4 nb, 4 dir, L] (-1 off).
  line = jnp.asarray(t.back_rays)[safe_around]
  lakes = jnp.asarray(t.lakes)
  stops = jnp.concatenate([(owner >= 0) | lakes, jnp.ones(1, bool)])
  hit = stops[jnp.where(line < 0, s, line)]  # [4, 4, L]
  first = jnp.argmax(hit, axis=-1).astype(jnp.int32)  # k - 1 of the move.
  src = jnp.take_along_axis(line, first[..., None], axis=-1)[..., 0]  # [4, 4]
  safe_src = jnp.maximum(src, 0)
  dst = jnp.broadcast_to(around.reshape(4, 1), src.shape)
  moving = jnp.asarray(t.piece_keys)[_piece_index(rank[safe_src],
                                                  owner[safe_src])]
  keys = jnp.asarray(t.square_keys)
  dst_keys = keys[safe_around].reshape(4, 1, 2)
  new_hash = (st.position_hash.reshape(1, 1, 2)
              ^ (keys[safe_src] * moving) ^ (dst_keys * moving))  # [4, 4, 2]
  ch = state_lib.CHASE_HISTORY
  valid = (jnp.arange(ch) < st.chase_len).reshape(1, 1, ch)
  same = jnp.all(new_hash.reshape(4, 4, 1, 2)
                 == st.chase_hashes.reshape(1, 1, ch, 2), axis=-1)
  seen = jnp.any(same & valid, axis=-1)  # [4, 4]
  back_home = (dst == st.recent_from[-2]) & (src == st.recent_to[-2])
  free = ((owner[safe_around] < 0) & ~lakes[safe_around]).reshape(4, 1)
  bad = (active & (src >= 0) & (around >= 0).reshape(4, 1) & free & seen
         & ~back_home)
  plane = np.arange(4).reshape(1, 4) * n + first
  return bitboard.clear(variant, words, plane * s + src, bad)
