"""The AdA agent (`agents.ada`): the memories (a segment unrolled equals its
steps taken one by one, resets clear the memory, the key/value cache), the
PPO loss against hand-computed values, configs, and the shared learner's
epochs and carried batch source."""

import dataclasses
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from agents.ada import actor, losses, networks
from agents.ada.config import AdaConfig, NetworkConfig
from agents.core import make_mesh, make_update, runs
from agents.core.learner import init_train_state
from games.xland import trials

TRIALS = trials.TrialsConfig(layout="R1-9x9", num_trials=2, steps_per_trial=8)
SMALL = dict(width=16, embed_dim=4, layers=2, heads=2, memory_length=3,
             ffw_dim=16, head_hidden=8)


def _observations(key, t, b):
  """Random observations [T, B, ...] of the right dtypes and ranges."""
  spec = trials.observation_spec(TRIALS)
  leaves, tree = jax.tree.flatten(spec)
  out = []
  for i, s in enumerate(leaves):
    k = jax.random.fold_in(key, i)
    if s.dtype == jnp.bool_:
      out.append(jax.random.bernoulli(k, 0.3, (t, b, *s.shape)))
    elif s.dtype == jnp.float32:
      out.append(jax.random.uniform(k, (t, b, *s.shape)))
    else:
      out.append(jax.random.randint(k, (t, b, *s.shape), 0, 6).astype(
          s.dtype))
  return jax.tree.unflatten(tree, out)


def _batch_major(tree):
  return jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), tree)


@functools.lru_cache(maxsize=None)
def _jit(fn):
  """`jax.jit(fn)`, one per network function: compiled once per test."""
  return jax.jit(fn)


def _step_through(net, params, obs, reset, memory):
  logits, values = [], []
  step = _jit(net.step)
  for t in range(reset.shape[0]):
    l, v, memory = step(params, jax.tree.map(lambda x, t=t: x[t], obs),
                        reset[t], memory)
    logits.append(l)
    values.append(v)
  return jnp.stack(logits), jnp.stack(values), memory


@pytest.mark.parametrize("memory", ["transformer", "gru"])
def test_unroll_equals_steps_with_resets_and_a_wrapped_ring(memory):
  net = networks.make_networks(NetworkConfig(memory=memory, **SMALL), TRIALS)
  params = jax.jit(net.init)(jax.random.key(0))
  batch = 3
  # 7 steps into a 3-step ring first, so entries have been overwritten.
  warm = _observations(jax.random.key(1), 7, batch)
  warm_reset = jnp.zeros((7, batch), bool).at[0].set(True).at[4, 1].set(True)
  _, _, memory0 = _step_through(net, params, warm, warm_reset,
                                net.initial_memory(batch))
  obs = _observations(jax.random.key(2), 6, batch)
  reset = jnp.zeros((6, batch), bool).at[2, 0].set(True).at[5, 2].set(True)
  logits, values = _batch_major(_jit(net.unroll)(
      params, _batch_major(obs), _batch_major(reset), memory0))
  step_logits, step_values, _ = _step_through(net, params, obs, reset,
                                              memory0)
  np.testing.assert_allclose(logits, step_logits, atol=1e-5)
  np.testing.assert_allclose(values, step_values, atol=1e-5)


@pytest.mark.parametrize("memory", ["transformer", "gru"])
def test_reset_clears_the_memory_and_memory_matters_otherwise(memory):
  net = networks.make_networks(NetworkConfig(memory=memory, **SMALL), TRIALS)
  params = jax.jit(net.init)(jax.random.key(0))
  obs = _observations(jax.random.key(3), 4, 2)
  # Two different pasts, then the same step.
  pasts = [_observations(jax.random.key(k), 4, 2) for k in (4, 5)]
  mems = [_step_through(net, params, p, jnp.zeros((4, 2), bool),
                        net.initial_memory(2))[2] for p in pasts]
  now = jax.tree.map(lambda x: x[0], obs)
  kept = [_jit(net.step)(params, now, jnp.zeros(2, bool), m)[0] for m in mems]
  cleared = [_jit(net.step)(params, now, jnp.ones(2, bool), m)[0] for m in mems]
  fresh = _jit(net.step)(params, now, jnp.ones(2, bool),
                         net.initial_memory(2))[0]
  assert np.abs(np.asarray(kept[0] - kept[1])).max() > 1e-4
  np.testing.assert_allclose(cleared[0], cleared[1], atol=1e-6)
  np.testing.assert_allclose(cleared[0], fresh, atol=1e-6)


def test_refresh_recomputes_the_cache_under_new_parameters():
  net = networks.make_networks(NetworkConfig(**SMALL), TRIALS)
  init = jax.jit(net.init)
  old, new = init(jax.random.key(0)), init(jax.random.key(9))
  obs = _observations(jax.random.key(1), 5, 2)
  _, _, memory = _step_through(net, old, obs, jnp.zeros((5, 2), bool),
                               net.initial_memory(2))
  nxt = _observations(jax.random.key(2), 2, 2)
  no_reset = jnp.zeros((2, 2), bool)
  want = _batch_major(_jit(net.unroll)(new, _batch_major(nxt), no_reset,
                                      memory)[0])  # projects the states
  stale, _, _ = _step_through(net, new, nxt, no_reset, memory)
  fresh, _, _ = _step_through(net, new, nxt, no_reset,
                              _jit(net.refresh)(new, memory))
  np.testing.assert_allclose(fresh, want, atol=1e-5)
  assert np.abs(np.asarray(stale - want)).max() > 1e-4  # the cache matters


def test_a_policy_of_new_parameters_reuses_the_compiled_episodes():
  # Evaluation during training plays a new policy every time: its program
  # is keyed by the network, not the parameters.
  net = networks.make_networks(NetworkConfig(memory="gru", **SMALL), TRIALS)
  init = jax.jit(net.init)
  old, new = init(jax.random.key(0)), init(jax.random.key(9))
  a, b = actor.memory_policy(net, old), actor.memory_policy(net, new)
  assert a.params is old and b.params is new
  assert a._replace(params=None) == b._replace(params=None)
  assert actor.memory_policy(net, old, greedy=True)._replace(
      params=None) != a._replace(params=None)


def test_gae_advantages_by_hand():
  reward = jnp.array([1.0, 0.0, 2.0])
  discount = jnp.array([0.5, 0.0, 0.5])  # the episode ends after step 2
  value = jnp.array([0.5, 1.0, 1.0])
  advantage, target = losses.advantages(reward, discount, value,
                                        jnp.array(4.0), lambda_=0.5)
  # deltas: 1 + .5*1 - .5 = 1; 0 + 0 - 1 = -1; 2 + .5*4 - 1 = 3.
  # A2 = 3; A1 = -1 + 0 * .5 * 3 = -1; A0 = 1 + .5 * .5 * (-1) = 0.75.
  np.testing.assert_allclose(advantage, [0.75, -1.0, 3.0], rtol=1e-6)
  np.testing.assert_allclose(target, [1.25, 0.0, 4.0], rtol=1e-6)


def test_ppo_terms_by_hand_with_clipping_and_mask():
  logits = jnp.log(jnp.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]))
  action = jnp.array([0, 0, 1])
  behaviour = jnp.log(jnp.array([0.5, 0.5, 0.8]))
  advantage = jnp.array([2.0, 1.0, -1.0])
  value = jnp.array([1.0, 0.0, 3.0])
  target = jnp.array([0.0, 2.0, 0.0])
  mask = jnp.array([True, True, False])
  terms = losses.ppo_terms(logits, value, action, behaviour, advantage,
                           target, mask, clip_epsilon=0.2)
  # ratios 1 and 1.8 (clipped to 1.2): -(1 * 2 + 1.2 * 1); step 2 masked.
  np.testing.assert_allclose(terms.policy, -3.2, rtol=1e-5)
  np.testing.assert_allclose(terms.value, 0.5 * (1.0 + 4.0), rtol=1e-6)
  entropy = -2 * 0.5 * np.log(0.5) - (0.9 * np.log(0.9) + 0.1 * np.log(0.1))
  np.testing.assert_allclose(terms.entropy, entropy, rtol=1e-5)
  assert float(terms.clipped) == 1.0 and float(terms.count) == 2.0


@pytest.mark.parametrize("bad, match", [
    (dict(memory="lstm"), "memory"), (dict(width=10, heads=4), "heads"),
    (dict(memory_length=0), "memory_length")])
def test_network_config_errors(bad, match):
  with pytest.raises(ValueError, match=match):
    NetworkConfig(**bad)


@pytest.mark.parametrize("bad, match", [
    (dict(epochs=0), "epochs"), (dict(discount=1.5), "discount"),
    (dict(clip_epsilon=0.0), "clip_epsilon")])
def test_agent_config_errors(bad, match):
  with pytest.raises(ValueError, match=match):
    AdaConfig(**bad)


def test_learner_epochs_and_carry():
  """With `carry`, the batch source's state goes from call to call; with
  `epochs`, each batch takes that many optimizer steps (one learner step)."""
  optimizer = optax.sgd(0.1)

  def loss_fn(params, state, batch, key):
    del state, key
    return jnp.mean((params["w"] - batch) ** 2), {}

  def batch_fn(state, key, carry):
    del state, key
    return jnp.full((4,), carry), carry + 1.0, {"seen": carry}

  update = make_update(loss_fn, optimizer, make_mesh(1), batch_fn=batch_fn,
                       epochs=2, carry=True)
  state = init_train_state({"w": jnp.zeros(())}, optimizer, jax.random.key(0))
  state, carry, metrics = update(state, jnp.asarray(3.0))
  # Two SGD steps towards 3 from 0: 0 -> 0.6 -> 1.08.
  np.testing.assert_allclose(state.params["w"], 1.08, rtol=1e-6)
  assert int(state.step) == 1 and float(carry) == 4.0
  assert float(metrics["seen"]) == 3.0
  state, carry, _ = update(state, carry)
  assert int(state.step) == 2 and float(carry) == 5.0
  with pytest.raises(ValueError, match="carry needs a batch_fn"):
    make_update(loss_fn, optimizer, make_mesh(1), carry=True)
  with pytest.raises(ValueError, match="epochs"):
    make_update(loss_fn, optimizer, make_mesh(1), epochs=0)


def test_agent_loss_is_finite_and_masked_steps_do_not_count():
  from configs import ada_smoke  # pylint: disable=g-import-not-at-top
  from agents.ada import make_agent  # pylint: disable=g-import-not-at-top
  from agents.core.types import Segment  # pylint: disable=g-import-not-at-top
  config = ada_smoke.get_config()
  agent = make_agent(config)
  state = runs.fresh_state(agent, 0)
  b, t = 2, 5
  obs = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1),
                     _observations(jax.random.key(1), t, b))
  segment = Segment(
      obs=obs, reset=jnp.zeros((b, t), bool).at[:, 0].set(True),
      action=jnp.zeros((b, t), jnp.int32), log_prob=jnp.full((b, t), -1.8),
      value=jnp.zeros((b, t)), reward=jnp.ones((b, t)),
      done=jnp.zeros((b, t), bool), mask=jnp.ones((b, t), bool),
      memory=agent.initial_memory(b), bootstrap=jnp.zeros(b))
  loss_of = jax.jit(lambda segment: agent.loss_fn(
      state.params, state, agent.make_batch(segment), jax.random.key(0)))
  loss, metrics = loss_of(segment)
  assert np.isfinite(float(loss)) and float(metrics["trained_fraction"]) == 1
  # Changing a masked-out environment's data leaves the loss unchanged.
  masked = segment._replace(mask=segment.mask.at[1].set(False))
  poked = masked._replace(reward=masked.reward.at[1].set(100.0),
                          action=masked.action.at[1].set(3))
  a, _ = loss_of(masked)
  b_, _ = loss_of(poked)
  chex.assert_trees_all_close(a, b_, atol=1e-6)
  assert dataclasses.is_dataclass(config)


def test_the_mixed_config_mixes_depths_and_every_kind():
  """`configs/ada_xland9_mixed.py` is what its doc says: depths 0-2 per
  task, goals that need an object carried next to another among them, in
  its held-out split too, and trials of 32 steps."""
  from configs import ada_xland9_mixed  # pylint: disable=g-import-not-at-top
  from games import xland  # pylint: disable=g-import-not-at-top
  config = ada_xland9_mixed.get_config()
  assert (config.trials.num_trials, config.trials.steps_per_trial,
          config.trials.same_world) == (4, 32, False)
  for split in ("train", "test"):
    ts = xland.generate(config.tasks.generator, 2000, config.tasks.seed,
                        split=split)
    depths = ts.num_rules.astype(int) - 1  # one distractor rule
    assert set(depths) == {0, 1, 2}
    assert {4, 7, 8, 9, 10} <= set(ts.goals[:, 0].tolist())  # tile_near
    assert {3, 4, 5, 6, 7} <= set(ts.rules[..., 0].ravel().tolist())
