"""Evaluation during training: exact NashConv, or win rates against bots.

Games OpenSpiel can enumerate (the poker games) get their exact NashConv.
Others (Stratego) play `run.eval_games` games against each bot named in
`run.eval_opponents`, vectorised in JAX (`eval.bots.match`), seats
alternated, in each of `run.eval_modes`: "sample" plays the agent's test-time
policy, logged as `vs_<bot>/win`, `/draw`, `/loss` and `/score` (wins plus
half the draws); "greedy" its most likely move (drawn among equally likely
ones), as the `RUN_DIR:greedy` player of `arena tournament` plays, logged as
`vs_<bot>_greedy/...`.
"""

from __future__ import annotations

from typing import Callable

import chex
import jax
import jax.numpy as jnp

import games
from agents.rnad import actor as rnad_actor
from agents.rnad import learner as rnad_learner
from agents.rnad import policy as rnad_policy
from eval import exploitability
from eval.bots import match
from selfplay import config as config_lib


def _uniform(obs: jax.Array, legal: jax.Array, key: chex.PRNGKey) -> jax.Array:
  del obs
  return jax.random.categorical(key, jnp.where(legal, 0.0, -jnp.inf)).astype(
      jnp.int32)


def bot_policy(game: games.Game, name: str) -> match.Policy:
  """The JAX policy of bot `name` for `game`.

  Raises:
    ValueError: for a bot `game` does not have.
  """
  if name == "random":
    return _uniform
  if name == "heuristic" and game.name == "stratego":
    from eval.bots import stratego_heuristic  # pylint: disable=g-import-not-at-top
    return stratego_heuristic.heuristic_policy(game)
  raise ValueError(f"no bot {name!r} for game {game.name!r}; bots: random"
                   + (", heuristic" if game.name == "stratego" else ""))


def agent_policy(networks, params, finetune, *, greedy: bool = False
                 ) -> match.Policy:
  """The agent's test-time policy as an `(obs, legal, key)` bot policy.

  It samples the (post-processed) policy, or with `greedy` plays one of the
  most likely legal actions, drawn uniformly among equal ones.
  """

  def agent(obs, legal, key):
    if not greedy:
      action, _ = rnad_actor.select_action(
          networks, params, obs[None], legal[None], key, finetune=finetune,
          post_process=finetune.at_test_time)
      return action[0]
    probs = rnad_actor.policy_probs(networks, params, obs[None], legal[None],
                                    finetune, finetune.at_test_time)[0]
    best = legal & (probs == jnp.max(jnp.where(legal, probs, -1.0)))
    return jax.random.categorical(key, jnp.where(best, 0.0, -jnp.inf)
                                  ).astype(jnp.int32)
  return agent


class Evaluator:
  """Evaluates parameters; returns the metrics to log (maybe none)."""

  def __init__(self, game: games.Game, agent: rnad_learner.RNaD,
               config: config_lib.RNaDExperiment):
    self._game, self._agent = game, agent
    self._finetune = config.agent.finetune
    self._seed = config.run.seed
    self._exact = game.tabulable and game.spiel_game_string is not None
    self._bots = {} if self._exact or not config.run.eval_games else {
        name: bot_policy(game, name) for name in config.run.eval_opponents}
    self._modes = config.run.eval_modes
    self._matches = self._make_matches(config.run.eval_games)

  def _make_matches(self, num_games: int) -> Callable | None:
    if not self._bots:
      return None
    game, networks, finetune = self._game, self._agent.networks, self._finetune

    @jax.jit
    def matches(params, key):
      out = {}
      for i, (name, bot) in enumerate(sorted(self._bots.items())):
        for mode in self._modes:  # the same games' keys in either mode
          label = name if mode == "sample" else f"{name}_greedy"
          out[label] = match.play_games(
              game, agent_policy(networks, params, finetune,
                                 greedy=mode == "greedy"), bot,
              jax.random.fold_in(key, i), num_games)
      return out
    return matches

  def __call__(self, params, step: int) -> dict[str, float]:
    if self._exact:
      return self._nash_conv(params)
    if self._matches is None:
      return {}
    key = jax.random.fold_in(jax.random.key(self._seed + 1), step)
    out = {}
    for name, result in self._matches(params, key).items():
      summary = match.summarize(result)
      out.update({f"vs_{name}/{k}": summary[k] for k in ("win", "draw",
                                                          "loss")})
      out[f"vs_{name}/score"] = summary["win"] + 0.5 * summary["draw"]
    return out

  def _nash_conv(self, params) -> dict[str, float]:
    out = {}
    for name, post in (("nash_conv", self._finetune.at_test_time),
                       ("nash_conv_raw", False)):
      if name == "nash_conv_raw" and not self._finetune.at_test_time:
        break
      policy = rnad_policy.openspiel_policy_for(
          self._game, self._agent.networks, params, self._finetune,
          post_process=post)
      out[name] = exploitability.nash_conv(policy.game, policy)
    return out
