"""R-NaD policies as OpenSpiel policies, and `load_policy(run_dir)`.

The network is evaluated on observations computed from OpenSpiel states by
the game's `spiel_observation`, so the exported policy plays OpenSpiel's own
game and any OpenSpiel tool (exploitability, bots, evaluators) can measure it
independently of our game code.
"""

from __future__ import annotations

import os
import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
from open_spiel.python import policy as openspiel_policy

from agents.core.types import Params
from agents.rnad.actor import post_process_policy
from agents.rnad.config import FinetuneConfig
from agents.rnad.networks import Networks, legal_policy
from games.api import Game

def make_policy_apply(networks: Networks, finetune: FinetuneConfig,
                      post_process: bool):
  """Jitted `(params, obs [N, *O], legal [N, A]) -> probs [N, A]`."""
  def apply(params, obs, legal):
    pi = legal_policy(networks.apply(params, obs).logits, legal)
    return post_process_policy(pi, legal, finetune) if post_process else pi
  return jax.jit(apply)


class NetworkPolicy(openspiel_policy.Policy):
  """Evaluates the network on each queried OpenSpiel state."""

  def __init__(self, spiel_game: pyspiel.Game, game: Game, params: Params,
               apply_fn):
    super().__init__(spiel_game, list(range(spiel_game.num_players())))
    self._game, self._params, self._apply = game, params, apply_fn

  def action_probabilities(self, state, player_id=None):
    player = state.current_player() if player_id is None else player_id
    obs = self._game.spiel_observation(state, player)[None]
    legal_spiel = state.legal_actions(player)
    legal = np.zeros((1, self._game.num_actions), bool)
    ours = [self._game.our_action(state, a) for a in legal_spiel]
    legal[0, ours] = True
    probs = np.asarray(self._apply(self._params, jnp.asarray(obs),
                                   jnp.asarray(legal)))[0]
    return {a: float(probs[o]) for a, o in zip(legal_spiel, ours)}


def tabular_policy(spiel_game: pyspiel.Game, game: Game, params: Params,
                   apply_fn) -> openspiel_policy.TabularPolicy:
  """Evaluates the network on every information state in one batch."""
  tab = openspiel_policy.TabularPolicy(spiel_game)
  obs = np.stack([game.spiel_observation(s, s.current_player())
                  for s in tab.states])
  rows, spiel_cols, our_cols = [], [], []
  for i, s in enumerate(tab.states):
    for a in s.legal_actions():
      rows.append(i)
      spiel_cols.append(a)
      our_cols.append(game.our_action(s, a))
  legal = np.zeros((len(tab.states), game.num_actions), bool)
  legal[rows, our_cols] = True
  probs = np.asarray(apply_fn(params, jnp.asarray(obs), jnp.asarray(legal)))
  table = np.zeros_like(tab.action_probability_array)
  table[rows, spiel_cols] = probs[rows, our_cols]
  tab.action_probability_array[:] = table
  return tab


def openspiel_policy_for(game: Game, networks: Networks, params: Params,
                         finetune: FinetuneConfig, *,
                         post_process: bool) -> openspiel_policy.Policy:
  """An OpenSpiel policy for `game.spiel_game_string` playing `params`.

  Raises:
    ValueError: if the game has no OpenSpiel counterpart.
  """
  if game.spiel_game_string is None:
    raise ValueError(f"game {game.name!r} has no OpenSpiel counterpart")
  spiel_game = pyspiel.load_game(game.spiel_game_string)
  apply_fn = make_policy_apply(networks, finetune, post_process)
  if game.tabulable:
    return tabular_policy(spiel_game, game, params, apply_fn)
  return NetworkPolicy(spiel_game, game, params, apply_fn)


def load_policy(run_dir: str | os.PathLike[str], step: int | None = None,
                *, post_process: bool | None = None) -> openspiel_policy.Policy:
  """The policy of a training run, as an OpenSpiel policy.

  Args:
    run_dir: a directory written by `arena train`.
    step: which checkpoint (the latest when None).
    post_process: apply the test-time post-processing (threshold and
      discretisation); defaults to the run's `finetune.at_test_time`.

  Returns:
    An `open_spiel.python.policy.Policy` over the run's game as registered
    with OpenSpiel (`policy.game`).

  Raises:
    agents.core.CheckpointError: for a missing or unreadable run directory.
  """
  # Imported here: reading run directories is the driver's job, and selfplay
  # imports agents, not the other way round.
  from selfplay import anakin  # pylint: disable=g-import-not-at-top
  run = anakin.restore_run(run_dir, step=step)
  config = run.config.agent
  if post_process is None:
    post_process = config.finetune.at_test_time
  return openspiel_policy_for(run.game, run.agent.networks,
                              run.agent.test_params(run.state),
                              config.finetune, post_process=post_process)
