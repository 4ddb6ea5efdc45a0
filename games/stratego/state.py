"""The Stratego state: a frozen pytree of fixed-shape arrays."""

from __future__ import annotations

import chex
import jax

#: Moves remembered for the two-square rule (the mover's last three moves sit
#: at -2, -4, -6) and for the observation's history planes.
HISTORY = 8

#: Positions remembered for the more-squares rule: the chaser's last 16, so a
#: repetition within a 32-ply stretch of one chase is always caught.
CHASE_HISTORY = 16


@chex.dataclass(frozen=True)
class State:
  """A Stratego position plus what the rules need to remember.

  S is the number of squares, A the number of actions, H the number of
  ranks. `occupied`, `movable` and `scouts` are packed copies of the board
  (bit c of word r is square r * W + c), updated by each step rather than
  recomputed: the move generator works on them.
  """

  rank: jax.Array  # [S] int8: piece code, 0 empty (see config.py)
  owner: jax.Array  # [S] int8: -1 empty, else the owning player
  revealed: jax.Array  # [S] bool: the piece's rank is public
  moved: jax.Array  # [S] bool: the piece has moved (so is no Bomb or Flag)
  current_player: jax.Array  # [] int32
  ply: jax.Array  # [] int32: moves made since deployment ended
  deploy_step: jax.Array  # [] int32: pieces placed (2N once deployed)
  recent_from: jax.Array  # [HISTORY] int32: from-squares, newest last, -1 none
  recent_to: jax.Array  # [HISTORY] int32: to-squares, newest last, -1 none
  chase_square: jax.Array  # [] int32: square of the chased piece, -1 none
  chaser: jax.Array  # [] int32: player chasing, -1 none
  chase_hashes: jax.Array  # [CHASE_HISTORY, 2] uint32: chaser's positions
  chase_len: jax.Array  # [] int32: positions recorded in this chase
  position_hash: jax.Array  # [2] uint32: Zobrist hash of the board
  legal: jax.Array  # [4 * L, H] uint16: legal actions, bitboards (bitboard.py)
  occupied: jax.Array  # [2, H] uint16: each player's pieces, packed rows
  movable: jax.Array  # [2, H] uint16: each player's pieces that can move
  scouts: jax.Array  # [2, H] uint16: each player's Scouts
  terminated: jax.Array  # [] bool
  returns: jax.Array  # [2] float32
