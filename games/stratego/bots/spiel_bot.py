"""The heuristic Stratego bot as an OpenSpiel `pyspiel.Bot`.

`StrategoHeuristicBot` plays in the pyspiel game "stratego"
(`games.stratego.spiel`): it computes the player's observation with the
game's observer (the JAX observation planes), the legal mask from
`state.legal_actions()`, and calls the jitted `heuristic_action` with the key
`fold_in(key(seed), move_number)`. Given the same position and key it plays
exactly what the JAX function plays (tested), so tables and tournaments see
the bot the training loop measures against.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import pyspiel

from games.stratego import env
from games.stratego import spiel
from games.stratego.bots import heuristic


@functools.lru_cache(maxsize=None)
def _jitted_action(game: env.Stratego):
  return jax.jit(functools.partial(heuristic.heuristic_action, game))


class StrategoHeuristicBot(pyspiel.Bot):
  """The heuristic player (`heuristic`) for one seat.

  Deterministic given the seed: the key of each decision is derived from
  `seed` and the state's move number, so the bot keeps no random state and
  `restart_at`/`inform_action` need not do anything.
  """

  def __init__(self, game: pyspiel.Game, player_id: int, seed: int):
    """Builds the bot.

    Args:
      game: a pyspiel "stratego" game.
      player_id: the seat, 0 or 1.
      seed: integer seed of the bot's tie-breaking and deployment noise.

    Raises:
      ValueError: `game` is not "stratego" or `player_id` is not a seat.
    """
    pyspiel.Bot.__init__(self)
    name = game.get_type().short_name
    if name != "stratego":
      raise ValueError(f"StrategoHeuristicBot plays 'stratego', not {name!r}")
    if player_id not in (0, 1):
      raise ValueError(f"player_id must be 0 or 1, got {player_id!r}")
    self._jax_game = spiel.jax_game(game.get_parameters())
    self._observer = game.make_py_observer()
    self._player_id = player_id
    self._key = jax.random.key(seed)
    self._act = _jitted_action(self._jax_game)

  def player_id(self) -> int:
    return self._player_id

  def provides_policy(self) -> bool:
    return False

  def restart_at(self, state: pyspiel.State) -> None:
    del state  # Stateless: every decision reads the state it is given.

  def inform_action(self, state: pyspiel.State, player_id: int,
                    action: int) -> None:
    del state, player_id, action

  def step(self, state: pyspiel.State) -> int:
    """The bot's action in `state`, where it is the player to move."""
    player = state.current_player()
    if player != self._player_id:
      raise ValueError(f"Bot for player {self._player_id} asked to move for "
                       f"player {player}")
    self._observer.set_from(state, player)
    obs = self._observer.dict["observation"]
    legal = np.zeros(self._jax_game.num_actions, bool)
    legal[state.legal_actions()] = True
    key = jax.random.fold_in(self._key, state.move_number())
    return int(self._act(obs, legal, key))
