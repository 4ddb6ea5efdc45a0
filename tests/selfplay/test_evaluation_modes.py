"""Evaluation during training in both play modes: the sampled policy and the
greedy one (`evaluation.modes`)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents.core import runs
from agents.rnad import actor as rnad_actor
from selfplay import anakin
from selfplay import config as config_lib
from selfplay import evaluation


def _setup():
  """The smoke config evaluating against the random bot only, sampled."""
  config = config_lib.load("stratego_smoke")
  config = dataclasses.replace(config, evaluation=dataclasses.replace(
      config.evaluation, opponents=("random",)))
  game, agent = anakin.build(config)
  params = agent.test_params(runs.fresh_state(agent, 3))
  return config, game, agent, params


def _position(game, plies: int = 30):
  """The state after `plies` uniformly random moves (past deployment)."""
  def play(carry, _):
    state, key = carry
    key, k = jax.random.split(key)
    legal = game.legal_action_mask(state)
    return (game.step(state, jax.random.categorical(
        k, jnp.where(legal, 0.0, -jnp.inf))), key), None

  state = game.init(jax.random.key(0))
  return jax.jit(lambda s, k: jax.lax.scan(play, (s, k), length=plies)[0][0])(
      state, jax.random.key(1))


def test_greedy_plays_a_most_likely_action_and_draws_among_ties():
  config, game, agent, params = _setup()
  state = _position(game)
  obs = game.observe(state, state.current_player)
  legal = game.legal_action_mask(state)
  assert int(legal.sum()) > 2
  finetune = config.agent.finetune
  probs = np.asarray(jax.jit(lambda p, o, m: rnad_actor.policy_probs(
      agent.networks, p, o, m, finetune, finetune.at_test_time))(
          params, obs[None], legal[None])[0])
  keys = jax.random.split(jax.random.key(5), 64)
  greedy = jax.jit(jax.vmap(evaluation.agent_policy(
      agent.policy_probs, params, greedy=True), (None, None, 0)))
  sample = jax.jit(jax.vmap(evaluation.agent_policy(
      agent.policy_probs, params), (None, None, 0)))
  best = set(np.flatnonzero(probs == probs[np.asarray(legal)].max()))
  assert set(np.asarray(greedy(obs, legal, keys)).tolist()) <= best
  assert len(set(np.asarray(sample(obs, legal, keys)).tolist())) > len(best)
  # A flat policy (all parameters zero) ties every legal action: greedy
  # play then draws among all of them, never an illegal one.
  flat = jax.tree.map(jnp.zeros_like, params)
  greedy_flat = jax.jit(jax.vmap(evaluation.agent_policy(
      agent.policy_probs, flat, greedy=True), (None, None, 0)))
  drawn = set(np.asarray(greedy_flat(obs, legal, keys)).tolist())
  assert len(drawn) > 2 and drawn <= set(np.flatnonzero(np.asarray(legal)))


def test_evaluator_logs_greedy_games_beside_unchanged_sampled_ones():
  sample_only, game, agent, params = _setup()
  config = dataclasses.replace(sample_only, evaluation=dataclasses.replace(
      sample_only.evaluation, modes=("sample", "greedy")))
  sampled = evaluation.Evaluator(game, agent, sample_only)(params, 2)
  both = evaluation.Evaluator(game, agent, config)(params, 2)
  assert sorted(both) == sorted(
      [f"vs_random{m}/{k}" for m in ("", "_greedy")
       for k in ("win", "draw", "loss", "score")])
  for k in ("win", "draw", "loss", "score"):
    assert both[f"vs_random/{k}"] == sampled[f"vs_random/{k}"]
  rates = [both[f"vs_random_greedy/{k}"] for k in ("win", "draw", "loss")]
  assert sum(rates) == pytest.approx(1.0)
  assert both["vs_random_greedy/score"] == pytest.approx(
      rates[0] + rates[1] / 2)


@pytest.mark.parametrize("modes", [(), ("best",), "greedy"])
def test_bad_eval_modes_are_named(modes):
  with pytest.raises(ValueError, match="evaluation.modes"):
    config_lib.EvalConfig(modes=modes)
