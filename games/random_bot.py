"""The bot every game has: "random", a uniformly random legal move.

As a JAX policy (`policy(game)`, for `games.match.play_games` and training)
and as OpenSpiel's `UniformRandomBot` (`spiel_bot`, for tournaments and
`arena play`). The registry (`games.registry`) gives it to every game.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games.api import Game
from games.match import Policy

if TYPE_CHECKING:
  import pyspiel


def uniform_action(obs: jax.Array, legal: jax.Array,
                   key: chex.PRNGKey) -> jax.Array:
  """[] int32: an action drawn uniformly from the legal ones ([A] bool)."""
  del obs
  return jax.random.categorical(key, jnp.where(legal, 0.0, -jnp.inf)).astype(
      jnp.int32)


def policy(game: Game) -> Policy:
  """`uniform_action`, the same object for every game (jit compiles once)."""
  del game
  return uniform_action


def spiel_bot(spiel_game: pyspiel.Game, player_id: int,
              seed: int) -> pyspiel.Bot:
  """OpenSpiel's `UniformRandomBot` for seat `player_id`, seeded by `seed`."""
  del spiel_game  # Any game: it reads the legal actions of each state.
  # Imported here: OpenSpiel's Python bots are needed by tournaments only.
  # pylint: disable-next=g-import-not-at-top
  from open_spiel.python.bots import uniform_random
  return uniform_random.UniformRandomBot(player_id,
                                         np.random.RandomState(seed))
