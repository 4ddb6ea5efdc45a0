"""R-NaD learner options: the averaged test-time policy, compact network use,
the policy loss."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games
from agents.core import runs
from agents.rnad import learner as rnad_learner
from agents.rnad import networks as rnad_networks
from agents.rnad.config import NetworkConfig, PolicyLossConfig, RNaDConfig
from selfplay.rollout import rollout


def _mlp_apply(params, obs):
  h = jnp.tanh(obs @ params["w"])
  return rnad_networks.NetOutput(logits=h @ params["p"], value=h.sum(-1))


def _params():
  k1, k2 = jax.random.split(jax.random.key(0))
  return {"w": jax.random.normal(k1, (5, 8)), "p": jax.random.normal(k2, (8, 3))}


def test_compact_steps_takes_whole_games_in_order_within_the_budget():
  # Game lengths 3, 1, 4, 0, 2 over T = 5 (valid steps first in each game).
  lengths = np.array([3, 1, 4, 0, 2])
  valid = jnp.asarray(np.arange(5)[:, None] < lengths[None, :])
  budget = 9 / 25  # 9 of the 25 steps: games 0-3 fit (8 steps), game 4 not
  c = rnad_networks.compact_steps(valid, budget)
  assert c.rows.shape == (9,)
  np.testing.assert_array_equal(np.asarray(c.used), np.asarray(valid) & (
      np.arange(5) < 4)[None, :])
  # Every valid step of the games that fit is among the computed rows.
  flat_used = np.flatnonzero(np.asarray(c.used).reshape(-1))
  assert set(flat_used) <= set(np.asarray(c.rows).tolist())
  assert rnad_networks.compact_steps(valid, 1.0) is None
  everything = rnad_networks.compact_steps(valid, 0.6)  # 15 >= 10 valid steps
  np.testing.assert_array_equal(np.asarray(everything.used), np.asarray(valid))


def test_apply_on_steps_matches_full_apply_on_used_steps():
  obs = jax.random.normal(jax.random.key(1), (6, 5, 5))
  lengths = np.array([6, 2, 0, 3, 5])
  valid = jnp.asarray(np.arange(6)[:, None] < lengths[None, :])
  params = _params()
  c = rnad_networks.compact_steps(valid, 0.4)  # 12 of 30: games 0-3 fit

  def loss(p, compaction):
    out = rnad_networks.apply_on_steps(_mlp_apply, p, obs, compaction)
    return jnp.sum(jnp.where(c.used[..., None], out.logits ** 2, 0.0)) + \
        jnp.sum(jnp.where(c.used, out.value, 0.0)), out

  (full_loss, full), full_grad = jax.value_and_grad(loss, has_aux=True)(
      params, None)
  (part_loss, part), part_grad = jax.jit(jax.value_and_grad(
      loss, has_aux=True))(params, c)
  assert part.logits.shape == (6, 5, 3) and part.value.shape == (6, 5)
  np.testing.assert_allclose(part_loss, full_loss, rtol=1e-5)
  chex.assert_trees_all_close(part_grad, full_grad, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(np.where(c.used, part.value, 0),
                             np.where(c.used, full.value, 0), rtol=1e-5)
  assert np.count_nonzero(np.asarray(part.value)) == 12  # the rest not run


def _learner_step(config: RNaDConfig, game, steps: int):
  agent = rnad_learner.make_rnad(game, config)
  state = runs.fresh_state(agent, 0)

  @jax.jit
  def step(state):
    key, state_key = jax.random.split(state.key)
    traj = rollout(game, agent.make_policy_fn(state), key, 8,
                   game.max_episode_length)
    grads = jax.grad(lambda p: agent.loss_fn(p, state, traj, key)[0])(
        state.params)
    updates, opt_state = agent.optimizer.update(grads, state.opt_state,
                                                state.params)
    params = jax.tree.map(lambda p, u: p + u, state.params, updates)
    state = state._replace(params=params, opt_state=opt_state,
                           step=state.step + 1, key=state_key)
    return agent.after_update(state)

  for _ in range(steps):
    state = step(state)
  return agent, state


def test_compute_fraction_learns_from_exactly_the_games_that_fit():
  game = games.make("leduc_poker")
  base = RNaDConfig(batch_size=8, learning_rate=1e-3,
                    network=NetworkConfig(hidden_sizes=(16,)))
  agent = rnad_learner.make_rnad(game, base)
  state = runs.fresh_state(agent, 0)
  traj = rollout(game, agent.make_policy_fn(state), jax.random.key(3), 8,
                 game.max_episode_length)
  grad = jax.jit(jax.grad(lambda p, a, t: a.loss_fn(p, state, t, None)[0]),
                 static_argnums=1)
  full = grad(state.params, agent, traj)
  # Leduc games take 2-8 of the 8 possible decisions: a budget of 0.7 holds
  # all of this batch's games; 0.3 leaves some out.
  for fraction in (0.7, 0.3):
    used = rnad_networks.compact_steps(traj.valid, fraction).used
    part_agent = rnad_learner.make_rnad(
        game, RNaDConfig(**{**base.__dict__, "compute_fraction": fraction}))
    expected = full if np.array_equal(used, traj.valid) else grad(
        state.params, agent, traj._replace(valid=used))
    chex.assert_trees_all_close(grad(state.params, part_agent, traj),
                                expected, rtol=1e-4, atol=1e-6)
  assert np.array_equal(rnad_networks.compact_steps(traj.valid, 0.7).used,
                        traj.valid)
  assert not np.array_equal(rnad_networks.compact_steps(traj.valid, 0.3).used,
                            traj.valid)


def test_test_policy_is_a_polyak_average_of_the_online_parameters():
  game = games.make("kuhn_poker")
  rate = 0.25
  config = RNaDConfig(batch_size=8, learning_rate=1e-2, test_policy_avg=rate,
                      network=NetworkConfig(hidden_sizes=(8,)))
  agent = rnad_learner.make_rnad(game, config)
  state = runs.fresh_state(agent, 0)
  expected = state.params
  chex.assert_trees_all_equal(agent.test_params(state), expected)
  for i in range(3):
    online = jax.tree.map(lambda p, i=i: p + 0.1 * (i + 1), state.params)
    state = agent.after_update(state._replace(params=online))
    expected = jax.tree.map(lambda a, p: a + rate * (p - a), expected, online)
  chex.assert_trees_all_close(agent.test_params(state), expected, rtol=1e-6)
  # Without averaging the online parameters are the test-time policy, and
  # the extras keep their earlier (checkpoint) layout.
  plain = rnad_learner.make_rnad(game, RNaDConfig(
      batch_size=8, network=NetworkConfig(hidden_sizes=(8,))))
  plain_state = runs.fresh_state(plain, 0)
  assert plain.test_params(plain_state) is plain_state.params
  assert type(plain_state.extras) is rnad_learner.RNaDExtras


@pytest.mark.parametrize("field, value", [("test_policy_avg", 1.5),
                                          ("compute_fraction", 0.0)])
def test_bad_options_are_refused(field, value):
  with pytest.raises(ValueError, match=field):
    RNaDConfig(**{field: value})


def test_policy_section_picks_the_loss_and_its_settings():
  """`policy.loss` picks the loss; `neurd_beta` acts on NeuRD alone and
  `clip` on both."""
  game = games.make("kuhn_poker")
  base = RNaDConfig(batch_size=8, network=NetworkConfig(hidden_sizes=(8,)))
  state = rnad_learner.make_rnad(game, base).init(jax.random.key(0))
  traj = rollout(game, rnad_learner.make_rnad(game, base).make_policy_fn(
      state), jax.random.key(3), 8, game.max_episode_length)

  def loss_policy(**policy):
    agent = rnad_learner.make_rnad(game, RNaDConfig(
        **{**base.__dict__, "policy": PolicyLossConfig(**policy)}))
    return float(agent.loss_fn(state.params, state, traj, None)[1][
        "loss_policy"])

  neurd, pg = loss_policy(loss="neurd"), loss_policy(loss="softmax_pg")
  assert neurd != pg
  assert loss_policy(loss="neurd", neurd_beta=1e-6) != neurd
  assert loss_policy(loss="softmax_pg", neurd_beta=1e-6) == pg
  assert loss_policy(loss="neurd", clip=1e-6) != neurd
  assert loss_policy(loss="softmax_pg", clip=1e-6) != pg


@pytest.mark.parametrize("field, value, match", [
    ("loss", "pg", "agent.policy.loss must be 'neurd' or 'softmax_pg', "
     "got 'pg'"),
    ("neurd_beta", 0.0, "agent.policy.neurd_beta must be > 0"),
    ("clip", -1.0, "agent.policy.clip must be > 0"),
])
def test_bad_policy_loss_options_are_refused(field, value, match):
  with pytest.raises(ValueError, match=match):
    RNaDConfig(policy=PolicyLossConfig(**{field: value}))
