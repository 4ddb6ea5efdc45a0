"""Evaluation during training: exact NashConv, or win rates against bots.

Works for any agent that gives its test-time policy as
`policy_probs(params, obs, legal, raw=False)` (`agents.core.registry`).
Games OpenSpiel can enumerate (the poker games) get their exact NashConv
(and `nash_conv_raw` without test-time post-processing, for agents that
post-process). Others (Stratego) play `evaluation.games` games against each
bot named in `evaluation.opponents` (bots the game declares,
`games.bot_policy`), vectorised in JAX (`games.match`), seats alternated, in
each of `evaluation.modes`: "sample" plays the agent's test-time policy, logged
as `vs_<bot>/win`, `/draw`, `/loss` and `/score` (wins plus half the draws);
"greedy" its most likely move (drawn among equally likely ones), as the
`RUN_DIR:greedy` player of `arena tournament` plays, logged as
`vs_<bot>_greedy/...`.
"""

from __future__ import annotations

from typing import Any, Callable

import chex
import jax
import jax.numpy as jnp

import games
from agents.core import spiel_policy
from agents.core.spiel_policy import ProbsFn
from agents.core.types import Params
from games import match


def agent_policy(probs_fn: ProbsFn, params: Params, *, greedy: bool = False
                 ) -> Callable:
  """The agent's test-time policy as an `(obs, legal, key)` bot policy.

  Args:
    probs_fn: `(params, obs [N, *O], legal [N, A]) -> probs [N, A]`, e.g. an
      agent's `policy_probs`.
    params: its parameters.
    greedy: play one of the most likely legal actions, drawn uniformly among
      equal ones, instead of sampling the policy.
  """

  def agent(obs, legal, key: chex.PRNGKey):
    probs = probs_fn(params, obs[None], legal[None])[0]
    if greedy:
      probs = legal & (probs == jnp.max(jnp.where(legal, probs, -1.0)))
    logits = jnp.where(legal & (probs > 0), jnp.log(
        jnp.where(probs > 0, probs, 1.0)), -jnp.inf)
    return jax.random.categorical(key, logits).astype(jnp.int32)
  return agent


class Evaluator:
  """Evaluates parameters; returns the metrics to log (maybe none)."""

  def __init__(self, game: games.Game, agent: Any, config: Any):
    self._game, self._agent = game, agent
    self._seed = config.run.seed
    self._exact = game.tabulable and game.spiel_game_string is not None
    eval_cfg = config.evaluation
    self._bots = {} if self._exact or not eval_cfg.games else {
        name: games.bot_policy(game, name) for name in eval_cfg.opponents}
    self._modes = eval_cfg.modes
    self._matches = self._make_matches(eval_cfg.games)

  def _make_matches(self, num_games: int) -> Callable | None:
    if not self._bots:
      return None
    game, probs_fn = self._game, self._agent.policy_probs

    @jax.jit
    def matches(params, key):
      out = {}
      for i, (name, bot) in enumerate(sorted(self._bots.items())):
        for mode in self._modes:  # the same games' keys in either mode
          label = name if mode == "sample" else f"{name}_greedy"
          out[label] = match.play_games(
              game, agent_policy(probs_fn, params, greedy=mode == "greedy"),
              bot, jax.random.fold_in(key, i), num_games)
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
    return nash_conv(self._game, self._agent, params)


def nash_conv(game: games.Game, agent: Any, params: Params
              ) -> dict[str, float]:
  """Exact NashConv of `agent` playing `params` in a tabulable `game`:
  `nash_conv` for its test-time policy, and `nash_conv_raw` without test-time
  post-processing where the agent post-processes (`agent.post_processes`).

  Raises:
    ValueError: the game is too large to enumerate.
  """
  if not game.tabulable:
    raise ValueError(f"exact NashConv needs a game small enough to enumerate "
                     f"(e.g. kuhn_poker, leduc_poker), not {game.name}")
  out = {}
  raws = (False, True) if getattr(agent, "post_processes", False) else (False,)
  for raw in raws:
    policy = spiel_policy.openspiel_policy(
        game, params, lambda p, o, l, raw=raw: agent.policy_probs(p, o, l,
                                                                    raw=raw))
    out["nash_conv_raw" if raw else "nash_conv"] = spiel_policy.nash_conv(
        policy.game, policy)
  return out
