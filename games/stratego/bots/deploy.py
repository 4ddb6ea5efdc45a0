"""A heuristic deployment for Stratego's "phase" deployment.

Pieces come in the fixed order Flag, Bombs, Marshal, General, ..., Scout,
Spy, one action a piece; the action is the square. `deploy_scores` rates
every square for the piece placed next, given the pieces already placed:

- Flag: the back rank, edges and corners preferred.
- Bombs: next to the Flag first, in front of it before beside it (the
  front square closes the Flag's file to Scouts), the rest near the back.
- Marshal, General, Colonel: spread over the files, towards the front.
- Miners: kept back, to survive until they are needed against Bombs.
- Scouts: the front rank, to probe early.
- Spy: next to the General, which protects it.
- Others: anywhere, slightly forward.

Uniform noise makes setups vary from game to game (a fixed setup
is easy to exploit).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import config
from games.stratego.bots import beliefs

#: Range of the uniform noise: how freely the setup varies. Bounded noise
#: keeps the large preferences (Flag on the back rank, a Bomb next to it).
DEPLOY_NOISE = 1.5
_STRONG = 8  # Colonel and up are spread.
_GENERAL = 9


def deploy_scores(variant: config.Variant, view: beliefs.View,
                  uniform: jax.Array) -> jax.Array:
  """[S] float32: how good each square is for the piece placed next.

  Only the legal (empty home) squares matter; the caller masks the rest.

  Args:
    variant: the board.
    view: the deploying player's view.
    uniform: [S] float32 uniform draws in [0, 1), the noise.
  """
  geo = beliefs.geometry(variant)
  rows, cols = jnp.asarray(geo["rows"]), jnp.asarray(geo["cols"])
  manhattan, chebyshev = geo["manhattan"], geo["chebyshev"]
  depth = jnp.where(view.second, variant.height - 1 - rows, rows)  # [S]
  front = (variant.home_rows - 1 - depth).astype(jnp.float32)  # 0 at front
  edge = ((cols == 0) | (cols == variant.width - 1)).astype(jnp.float32)
  code = view.next_code

  def near(piece: jax.Array, metric: np.ndarray) -> jax.Array:
    """[S] bool: a square within distance 1 of a square where `piece` is."""
    return jnp.asarray(metric <= 1, jnp.float32) @ piece.astype(
        jnp.float32) > 0

  flag = view.own == config.FLAG
  strong = (view.own >= _STRONG) & (view.own <= config.MARSHAL)
  flag_side = near(flag, manhattan) & ~flag
  flag_corner = near(flag, chebyshev) & ~flag_side & ~flag
  flag_depth = jnp.sum(jnp.where(flag, depth, 0))
  # The square in front of the Flag first: it closes the file to Scouts.
  flag_front = flag_side & (depth == flag_depth + 1)

  flag_score = -4.0 * depth + 1.5 * edge
  bomb_score = (4.0 * flag_side + 2.0 * flag_front + 1.0 * flag_corner
                - 1.0 * depth)
  strong_score = -0.5 * front - 2.0 * near(strong, chebyshev)
  miner_score = -0.7 * depth
  scout_score = -1.0 * front
  spy_score = 3.0 * near(view.own == _GENERAL, manhattan)
  other_score = -0.3 * front
  score = jnp.select(
      [code == config.FLAG, code == config.BOMB, code >= _STRONG,
       code == config.MINER, code == config.SCOUT, code == config.SPY],
      [flag_score, bomb_score, strong_score, miner_score, scout_score,
       spy_score], other_score)
  return score.astype(jnp.float32) + DEPLOY_NOISE * uniform
