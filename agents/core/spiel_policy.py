"""Any agent's policy as an OpenSpiel policy, and its exploitability.

An agent's test-time policy (`policy_probs(params, obs, legal)`, see
`agents.core.registry`) is evaluated on observations computed from OpenSpiel
states by the game's `spiel_observation`, so the policy plays OpenSpiel's own
game and any OpenSpiel tool (exploitability, bots, evaluators, tournaments)
measures it independently of our game code.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
from open_spiel.python import policy as policy_lib
from open_spiel.python.algorithms import exploitability

from agents.core.types import Params
from games.api import Game

# (params, obs [N, *O], legal [N, A]) -> probs [N, A]
ProbsFn = Callable[[Params, jax.Array, jax.Array], jax.Array]


class NetworkPolicy(policy_lib.Policy):
  """Evaluates the agent's policy on each queried OpenSpiel state."""

  def __init__(self, spiel_game: pyspiel.Game, game: Game, params: Params,
               probs_fn: ProbsFn):
    super().__init__(spiel_game, list(range(spiel_game.num_players())))
    self._game, self._params, self._apply = game, params, probs_fn

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
                   probs_fn: ProbsFn) -> policy_lib.TabularPolicy:
  """Evaluates the agent's policy on every information state in one batch."""
  tab = policy_lib.TabularPolicy(spiel_game)
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
  probs = np.asarray(probs_fn(params, jnp.asarray(obs), jnp.asarray(legal)))
  table = np.zeros_like(tab.action_probability_array)
  table[rows, spiel_cols] = probs[rows, our_cols]
  tab.action_probability_array[:] = table
  return tab


def openspiel_policy(game: Game, params: Params,
                     probs_fn: ProbsFn) -> policy_lib.Policy:
  """An OpenSpiel policy for `game.spiel_game_string` playing `params`:
  a table over every information state for games small enough
  (`game.tabulable`), else evaluated state by state.

  Raises:
    ValueError: if the game has no OpenSpiel counterpart.
  """
  if game.spiel_game_string is None:
    raise ValueError(f"game {game.name!r} has no OpenSpiel counterpart")
  spiel_game = pyspiel.load_game(game.spiel_game_string)
  probs_fn = jax.jit(probs_fn)
  if game.tabulable:
    return tabular_policy(spiel_game, game, params, probs_fn)
  return NetworkPolicy(spiel_game, game, params, probs_fn)


def nash_conv(spiel_game: pyspiel.Game,
              policy: policy_lib.Policy) -> float:
  """NashConv of `policy` in `spiel_game` (OpenSpiel's best responses): the
  sum over players of what a best response gains; 0 exactly at a Nash
  equilibrium."""
  return float(exploitability.nash_conv(spiel_game, policy))


def load_policy(run_dir, step: int | None = None) -> policy_lib.Policy:
  """The test-time policy of a run directory or bundled agent, whatever its
  agent, as an OpenSpiel policy over the run's game (`policy.game`).

  Raises:
    agents.core.CheckpointError: for a missing or unreadable run directory.
    ValueError: the run's agent does not play a game with an OpenSpiel
      counterpart (e.g. a D4PG run).
  """
  from agents.core import runs  # pylint: disable=g-import-not-at-top
  run = runs.read_run(run_dir, step=step)
  if run.game is None or not hasattr(run.agent, "policy_probs"):
    raise ValueError(f"{str(run_dir)!r} holds a {type(run.config).__name__} "
                     "run, whose agent does not play a two-player game")
  return openspiel_policy(run.game, run.agent.test_params(run.state),
                          run.agent.policy_probs)
