"""D4PG losses, n-step targets, acting and the target hook, against values
computed by hand."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents.core import make_mesh, make_update, replicate
from agents.d4pg import D4PGConfig, NetworkConfig, Transition, make_d4pg
from agents.d4pg import actor, losses

ATOMS = jnp.array([0.0, 1.0, 2.0])


def test_projection_splits_mass_between_neighbours_and_clips():
  # 0.5 -> half on 0, half on 1; 1.5 -> half on 1, half on 2; 3.0 is beyond
  # the support and lands on 2.
  out = losses.project(jnp.array([0.5, 1.5, 3.0]), jnp.array([0.2, 0.3, 0.5]),
                       ATOMS)
  np.testing.assert_allclose(out, [0.1, 0.1 + 0.15, 0.15 + 0.5], atol=1e-6)


def test_critic_loss_is_cross_entropy_to_the_projected_target():
  # Target atoms: 0.5 + 0.5 * [0, 1, 2] = [0.5, 1.0, 1.5] with probabilities
  # [0.25, 0.5, 0.25]; projected: [0.125, 0.125 + 0.5 + 0.125, 0.125].
  logits_t = jnp.log(jnp.array([0.25, 0.5, 0.25]))
  logits_tm1 = jnp.log(jnp.array([0.5, 0.25, 0.25]))
  loss = losses.critic_loss(logits_tm1, jnp.array(0.5), jnp.array(0.5),
                            logits_t, ATOMS)
  expected = -(0.125 * np.log(0.5) + 0.75 * np.log(0.25) +
               0.125 * np.log(0.25))
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  # No gradient reaches the target's logits.
  grad_t = jax.grad(lambda lt: losses.critic_loss(
      logits_tm1, jnp.array(0.5), jnp.array(0.5), lt, ATOMS))(logits_t)
  np.testing.assert_array_equal(grad_t, 0.0)
  # Gradient on the online logits: softmax - target.
  grad = jax.grad(lambda l: losses.critic_loss(
      l, jnp.array(0.5), jnp.array(0.5), logits_t, ATOMS))(logits_tm1)
  np.testing.assert_allclose(grad, [0.5 - 0.125, 0.25 - 0.75, 0.25 - 0.125],
                             atol=1e-6)


def test_critic_loss_with_zero_discount_targets_the_reward_alone():
  # Reward 1 exactly on an atom: all mass on atom 1, loss = -log p(1).
  logits_tm1 = jnp.log(jnp.array([0.2, 0.6, 0.2]))
  loss = losses.critic_loss(logits_tm1, jnp.array(1.0), jnp.array(0.0),
                            jnp.zeros(3), ATOMS)
  np.testing.assert_allclose(loss, -np.log(0.6), rtol=1e-5)


def test_expected_value():
  logits = jnp.log(jnp.array([[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]]) + 1e-30)
  np.testing.assert_allclose(losses.expected_value(logits, ATOMS),
                             [0.75, 2.0], atol=1e-5)


def test_policy_loss_value_gradient_and_clipping():
  a, dqda = jnp.array([0.2, -0.1]), jnp.array([0.3, 0.4])
  np.testing.assert_allclose(losses.policy_loss(a, dqda), 0.5 * 0.25,
                             rtol=1e-6)
  np.testing.assert_allclose(
      jax.grad(lambda x: losses.policy_loss(x, dqda))(a), [-0.3, -0.4],
      rtol=1e-6)
  # |dqda| = 0.5 clipped to 0.25: [0.15, 0.2].
  np.testing.assert_allclose(losses.policy_loss(a, dqda, dqda_clip=0.25),
                             0.5 * (0.15**2 + 0.2**2), rtol=1e-5)


def test_n_step_target():
  ret, disc = losses.n_step_target([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], 0.5)
  assert ret == pytest.approx(1 + 0.5 * 2 + 0.25 * 3)
  assert disc == pytest.approx(0.125)
  # A terminal second step: no bootstrap.
  ret, disc = losses.n_step_target([1.0, 2.0], [1.0, 0.0], 0.5)
  assert (ret, disc) == (pytest.approx(2.0), 0.0)
  with pytest.raises(ValueError, match="2 rewards but 1 discounts"):
    losses.n_step_target([1.0, 2.0], [1.0], 0.5)


CFG = D4PGConfig(batch_size=8, target_update_period=3,
                 network=NetworkConfig(policy_hidden_sizes=(8,),
                                       critic_hidden_sizes=(8,)))
LOW, HIGH = np.array([-1.0, 0.0], np.float32), np.array([1.0, 4.0], np.float32)


def _batch(key, n=8, obs=3):
  k = jax.random.split(key, 4)
  return Transition(
      obs=jax.random.normal(k[0], (n, obs)),
      action=jax.random.uniform(k[1], (n, 2), minval=LOW, maxval=HIGH),
      reward=jax.random.normal(k[2], (n,)), discount=jnp.full((n,), 0.9),
      next_obs=jax.random.normal(k[3], (n, obs)), weight=jnp.ones((n,)))


def test_actions_stay_within_bounds_and_sigma_zero_is_greedy():
  agent = make_d4pg(3, LOW, HIGH, CFG)
  params = jax.jit(agent.networks.init)(jax.random.key(0))["policy"]
  obs = jax.random.normal(jax.random.key(1), (64, 3)) * 10
  act = jax.jit(lambda p, o, k, sigma: actor.select_action(
      agent.networks, p, o, k, sigma), static_argnums=3)
  noisy = np.asarray(act(params, obs, jax.random.key(2), 5.0))
  assert noisy.shape == (64, 2)
  assert np.all(noisy >= LOW) and np.all(noisy <= HIGH)
  assert np.any(noisy == LOW) and np.any(noisy == HIGH)  # clipped
  greedy = act(params, obs, jax.random.key(3), 0.0)
  np.testing.assert_allclose(greedy, jax.jit(agent.networks.policy)(
      params, obs), rtol=1e-6)


def test_targets_are_copied_every_period_and_sharding_does_not_matter():
  """Three updates on a 1-device and on an 8-device mesh (period 3)."""
  agent = make_d4pg(3, LOW, HIGH, CFG)
  fresh = jax.jit(agent.init)(jax.random.key(0))
  initial = jax.device_get(fresh.params)
  finals = []
  for n in (1, 8):
    mesh = make_mesh(n)
    update = make_update(agent.loss_fn, agent.optimizer, mesh,
                         agent.after_update)
    state = replicate(fresh, mesh)
    for i in range(1, 4):
      state, metrics = update(state, _batch(jax.random.key(i)))
      assert np.isfinite(metrics["loss"])
      if i < 3:  # still the initial parameters
        chex.assert_trees_all_close(state.extras.target_params, initial)
    chex.assert_trees_all_equal(state.extras.target_params, state.params)
    finals.append(jax.device_get(state.params))
  chex.assert_trees_all_close(finals[0], finals[1], rtol=1e-4, atol=1e-5)


def test_policy_loss_does_not_move_the_critic():
  agent = make_d4pg(3, LOW, HIGH, CFG)
  state = jax.jit(agent.init)(jax.random.key(0))
  batch = _batch(jax.random.key(1))
  grads = jax.jit(jax.grad(lambda p: agent.loss_fn(p, state, batch, None)[1][
      "policy_loss"]))(state.params)
  assert all(np.all(g == 0) for g in jax.tree.leaves(grads["critic"]))
  assert any(np.any(g != 0) for g in jax.tree.leaves(grads["policy"]))


def test_config_errors():
  with pytest.raises(ValueError, match="batch_size"):
    D4PGConfig(batch_size=0)
  with pytest.raises(ValueError, match="v_min"):
    D4PGConfig(v_min=1.0, v_max=-1.0)
  with pytest.raises(ValueError, match="critic_hidden_sizes"):
    NetworkConfig(critic_hidden_sizes=())
