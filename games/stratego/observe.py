"""Observations for learning, in the spirit of DeepNash.

`observe(rules, state, player)` is [H, W, C] float32 in board coordinates
(rank 1 in row 0, for both players; the action ids use the same squares).
Channels:

  0-11   own pieces, one plane per code 1..12 (Spy .. Flag)
  12-23  opponent pieces whose rank is revealed, one plane per code
  24     opponent pieces unrevealed and moved (so no Bomb or Flag)
  25     opponent pieces unrevealed and not moved
  26     own pieces the opponent has seen (revealed)
  27     own pieces that have moved
  28-39  constant planes: opponent pieces of each code not yet accounted for
         (on the board and unrevealed), divided by the variant's count
  40     lakes
  41-48  the last 8 moves, newest first: -1 on the from-square, +1 on the
         to-square (moves are public)
  49     1 if `player` is the second player
  50     1 during the deployment phase
  51     code / 12 of the piece the deployment places next (0 in play)
  52     plies played / max_plies

It never reads an unrevealed opponent rank except through counts that a
permutation of those ranks leaves unchanged (tested).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import config
from games.stratego import ruleset
from games.stratego import state as state_lib

NUM_CHANNELS = 41 + state_lib.HISTORY + 4


def observation_shape(variant: config.Variant) -> tuple[int, int, int]:
  return (variant.height, variant.width, NUM_CHANNELS)


def observe(rules: ruleset.Rules, st: state_lib.State,
            player: jax.Array) -> jax.Array:
  """[H, W, C] float32: what `player` knows (see the module docstring)."""
  v, t = rules.variant, rules.tables
  s = v.num_squares
  codes = jnp.arange(1, config.NUM_PIECE_TYPES + 1).reshape(1, -1)
  by_code = st.rank.reshape(s, 1) == codes  # [S, 12]
  own = (st.owner == player).reshape(s, 1)
  opp = (st.owner == 1 - player).reshape(s, 1)
  shown = st.revealed.reshape(s, 1)
  hidden_opp = opp[:, 0] & ~st.revealed
  army = np.maximum(np.asarray(v.army[1:], np.float32), 1.0)
  unaccounted = (jnp.sum(by_code & opp & ~shown, axis=0, keepdims=True)
                 / army.reshape(1, -1))  # [1, 12]
  squares = jnp.arange(s).reshape(1, s)
  history = (
      (st.recent_to[::-1].reshape(-1, 1) == squares).astype(jnp.float32)
      - (st.recent_from[::-1].reshape(-1, 1) == squares)).T  # [S, HISTORY]
  deploying = (st.deploy_step < rules.deploy_total if rules.deploy_total
               else jnp.bool_(False))
  if rules.deploy_total:
    order = jnp.asarray(t.deploy_order)
    next_code = jnp.where(
        deploying, order[st.deploy_step % v.num_pieces], 0) / 12.0
  else:
    next_code = jnp.float32(0.0)
  scalars = jnp.stack([
      (player == 1).astype(jnp.float32), deploying.astype(jnp.float32),
      next_code, st.ply / rules.max_plies]).reshape(1, 4)
  planes = jnp.concatenate([
      by_code & own,
      by_code & opp & shown,
      (hidden_opp & st.moved).reshape(s, 1),
      (hidden_opp & ~st.moved).reshape(s, 1),
      (own[:, 0] & st.revealed).reshape(s, 1),
      (own[:, 0] & st.moved).reshape(s, 1),
      jnp.broadcast_to(unaccounted, (s, config.NUM_PIECE_TYPES)),
      jnp.asarray(t.lakes).reshape(s, 1),
      history,
      jnp.broadcast_to(scalars, (s, 4)),
  ], axis=1, dtype=jnp.float32)
  return planes.reshape(v.height, v.width, NUM_CHANNELS)
