"""Bots as fixed opponents: the rollout's fixed seat, the learner treating the
bot's moves as the environment's, and runs that use them."""

import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games
from agents.core import runs
from agents.rnad import learner as rnad_learner
from agents.rnad.config import NetworkConfig, RNaDConfig
from selfplay import anakin
from selfplay import config as config_lib
from selfplay.rollout import rollout, uniform_policy

_LEDUC = games.make("leduc_poker")


def _last_legal(obs, legal, key):
  del obs, key
  a = (legal.shape[-1] - 1 - jnp.argmax(legal[:, ::-1], -1)).astype(jnp.int32)
  return a, jax.nn.one_hot(a, legal.shape[-1])


_SEATS = jnp.array([-1, 0, 1, 0, 1, -1, 1, 0], jnp.int32)


def _bot_games(policy_fn=uniform_policy, key=0):
  return rollout(_LEDUC, policy_fn, jax.random.key(key), 8,
                 _LEDUC.max_episode_length, fixed_fn=_last_legal,
                 fixed_seat=_SEATS)


def test_bot_takes_exactly_its_seat_and_its_moves_are_marked():
  traj = _bot_games()
  valid = np.asarray(traj.valid)
  theirs = (np.asarray(traj.acting) == np.asarray(_SEATS)[None]) & valid
  assert theirs.any() and (valid & ~theirs).any()
  np.testing.assert_array_equal(np.asarray(traj.fixed) & valid, theirs)
  last = 2 - np.argmax(np.asarray(traj.legal)[..., ::-1], -1)
  np.testing.assert_array_equal(np.asarray(traj.action)[theirs], last[theirs])
  np.testing.assert_array_equal(np.asarray(traj.policy)[theirs].max(-1), 1.0)
  # Self-play rollouts carry no marks.
  assert rollout(_LEDUC, uniform_policy, jax.random.key(0), 2, 3).fixed is None
  with pytest.raises(ValueError, match="go together"):
    rollout(_LEDUC, uniform_policy, jax.random.key(0), 2, 3, fixed_fn=_last_legal)


def _agent_and_state():
  agent = rnad_learner.make_rnad(_LEDUC, RNaDConfig(
      batch_size=8, network=NetworkConfig(hidden_sizes=(16,))))
  state = runs.fresh_state(agent, 0)
  # Let the target and regularisation networks differ from the online one.
  state = state._replace(params=jax.tree.map(
      lambda x: x + 0.3 * jax.random.normal(jax.random.key(1), x.shape),
      state.params))
  return agent, state


def test_loss_ignores_the_network_at_the_bots_decisions():
  agent, state = _agent_and_state()
  traj = _bot_games(agent.make_policy_fn(state), key=4)
  theirs = np.asarray(traj.fixed & traj.valid)
  noise = jax.random.normal(jax.random.key(2), traj.obs.shape)
  moved = traj._replace(obs=jnp.where(theirs[..., None], traj.obs + noise,
                                      traj.obs))
  value_and_grad = jax.jit(jax.value_and_grad(
      lambda p, t: agent.loss_fn(p, state, t, None)[0]))
  loss, grad = value_and_grad(state.params, traj)
  moved_loss, moved_grad = value_and_grad(state.params, moved)
  # What the network would do in the bot's place changes nothing ...
  np.testing.assert_allclose(moved_loss, loss, rtol=1e-6)
  chex.assert_trees_all_close(moved_grad, grad, rtol=1e-5, atol=1e-7)
  # ... whereas without the marks those moves are an opponent's off-policy
  # decisions, learned from and corrected towards the network's policy.
  unmarked = value_and_grad(state.params, traj._replace(fixed=None))[0]
  unmarked_moved = value_and_grad(state.params, moved._replace(fixed=None))[0]
  assert not np.isclose(unmarked, unmarked_moved, rtol=1e-4)


def test_bot_games_report_the_learners_result():
  agent, state = _agent_and_state()
  traj = _bot_games(agent.make_policy_fn(state), key=5)
  _, metrics = agent.loss_fn(state.params, state, traj, None)
  seats = np.asarray(_SEATS)
  returns = np.asarray(traj.rewards).sum(0)  # [B, P]
  mine = [returns[b, 1 - s] for b, s in enumerate(seats) if s >= 0]
  np.testing.assert_allclose(metrics["vs_bots/return"], np.mean(mine),
                             rtol=1e-6)


@pytest.mark.parametrize("overrides, message", [
    (["run.bot_opponent_fraction=1.5"], "bot_opponent_fraction"),
    (["run.bot_opponents=('random',)", "run.bot_opponent_fraction=0.8",
      "run.past_opponents=2", "run.past_opponent_fraction=0.5"],
     "at most 1"),
])
def test_bad_bot_settings_are_rejected(overrides, message):
  with pytest.raises(ValueError, match=message):
    config_lib.load("kuhn_rnad", overrides)


def test_unknown_bot_is_named_before_the_run_starts(tmp_path):
  cfg = config_lib.load("kuhn_rnad", ["run.bot_opponents=('heuristic',)"])
  with pytest.raises(ValueError, match="no bot 'heuristic' for game"):
    anakin.train(cfg, tmp_path / "run", num_steps=2, progress="off")
  assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("policy_loss", ["neurd", "softmax_pg"])
def test_training_against_a_bot_learns_to_beat_it(tmp_path, policy_loss):
  # Kuhn poker against a uniformly random player, who folds the King as
  # often as the Jack: a best response wins about 0.5 a game, so the run's
  # result against the bot must climb, with either policy loss.
  cfg = config_lib.load("kuhn_rnad", [
      "run.bot_opponents=('random',)", "run.bot_opponent_fraction=1.0",
      "run.steps_per_call=10", "run.log_every=10", "run.eval_every=0",
      "agent.batch_size=64", f"agent.policy_loss={policy_loss}"])
  anakin.train(cfg, tmp_path, num_steps=400, progress="off")
  records = [json.loads(line) for line in
             (tmp_path / "metrics.jsonl").read_text().splitlines()]
  returns = [r["vs_bots/return"] for r in records if "vs_bots/return" in r]
  assert len(returns) == 40
  assert np.mean(returns[-10:]) > np.mean(returns[:5]) + 0.1
