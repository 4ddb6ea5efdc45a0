"""The shared learner: sharding equivalence, determinism, multi-step, tracing."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import games
from agents.core import init_train_state, make_mesh, make_update, replicate
from agents.core import runs
from agents.rnad import NetworkConfig, RNaDConfig, make_rnad
from selfplay.rollout import rollout

OPT = optax.adam(1e-2)
PARAMS = {"w": jnp.ones((3,)), "b": jnp.zeros(())}
BATCH = {"x": jax.random.normal(jax.random.key(1), (8, 3)),
         "y": jnp.arange(8.0)}


def _mse(params, state, batch, key):
  del state, key
  err = batch["x"] @ params["w"] + params["b"] - batch["y"]
  return jnp.mean(err * err), {"abs_err": jnp.mean(jnp.abs(err))}


def _fresh(mesh, seed=0):
  return replicate(init_train_state(PARAMS, OPT, jax.random.key(seed)), mesh)


def test_one_update_by_hand():
  # adam's first step moves every parameter by lr * sign(grad).
  state, metrics = make_update(_mse, OPT, make_mesh(1))(_fresh(make_mesh(1)),
                                                         BATCH)
  err = BATCH["x"] @ PARAMS["w"] - BATCH["y"]
  grad_w = 2 * err @ BATCH["x"] / 8
  np.testing.assert_allclose(state.params["w"], 1 - 1e-2 * np.sign(grad_w),
                             rtol=1e-5)
  np.testing.assert_allclose(metrics["loss"], jnp.mean(err * err), rtol=1e-5)
  assert int(state.step) == 1


@pytest.mark.parametrize("num_devices", [4, 8])
def test_sharded_update_equals_single_device(num_devices):
  out = {}
  for n in (1, num_devices):
    mesh = make_mesh(n)
    state, metrics = make_update(_mse, OPT, mesh)(_fresh(mesh), BATCH)
    out[n] = (state.params, metrics["loss"])
    assert state.params["w"].sharding.mesh.size == n
  chex.assert_trees_all_close(out[1], out[num_devices], rtol=1e-5)


@pytest.mark.parametrize("unroll", [False, True])
def test_k_steps_in_one_call_equal_k_single_calls(unroll):
  mesh = make_mesh(2)
  batches = jax.tree.map(lambda x: jnp.stack([x, 2 * x, 3 * x]), BATCH)
  many, m = make_update(_mse, OPT, mesh, steps_per_call=3,
                        unroll=unroll)(_fresh(mesh), batches)
  single = make_update(_mse, OPT, mesh)
  state = _fresh(mesh)
  losses = []
  for i in range(3):
    state, mi = single(state, jax.tree.map(lambda x, i=i: x[i], batches))
    losses.append(mi["loss"])
  chex.assert_trees_all_close(many.params, state.params, rtol=1e-5)
  np.testing.assert_allclose(m["loss"], np.mean(losses), rtol=1e-5)
  assert int(many.step) == 3


def test_after_update_hook_and_key_consumed():
  mesh = make_mesh(1)
  hook = lambda s: s._replace(extras=s.extras + 1)
  state = replicate(init_train_state(PARAMS, OPT, jax.random.key(0),
                                     extras=jnp.zeros(())), mesh)
  key_before = jax.random.key_data(state.key)
  state, _ = make_update(_mse, OPT, mesh, hook)(state, BATCH)
  assert float(state.extras) == 1.0
  assert not np.array_equal(jax.random.key_data(state.key), key_before)


def test_update_compiles_once():
  traces = []

  def loss(*args):
    traces.append(1)
    return _mse(*args)

  mesh = make_mesh(2)
  update = make_update(loss, OPT, mesh)
  state = _fresh(mesh)
  for _ in range(4):
    state, _ = update(state, BATCH)
  assert len(traces) == 1


def test_errors():
  with pytest.raises(ValueError, match="steps_per_call"):
    make_update(_mse, OPT, make_mesh(1), steps_per_call=0)
  with pytest.raises(ValueError, match="num_devices"):
    make_mesh(len(jax.devices()) + 1)


# --- The same properties on the real thing: one Anakin R-NaD step on Kuhn.

_KUHN = games.make("kuhn_poker")
_CFG = RNaDConfig(batch_size=64, learning_rate=1e-3,
                  network=NetworkConfig(hidden_sizes=(16,)))


def _rnad_update(mesh, steps_per_call=1):
  agent = make_rnad(_KUHN, _CFG)

  def batch_fn(state, key):
    return rollout(_KUHN, agent.make_policy_fn(state), key, _CFG.batch_size,
                   _KUHN.max_episode_length)

  update = make_update(agent.loss_fn, agent.optimizer, mesh,
                       agent.after_update, steps_per_call=steps_per_call,
                       batch_fn=batch_fn, batch_axis=1)
  return agent, update


def test_anakin_rnad_update_sharded_equals_single_device_and_is_deterministic():
  results = []
  for n in (1, 8, 8):
    mesh = make_mesh(n)
    agent, update = _rnad_update(mesh, steps_per_call=2)
    state = replicate(runs.fresh_state(agent, 3), mesh)
    state, metrics = update(state)
    results.append((state, metrics["loss"]))
  chex.assert_trees_all_close(results[0][0].params, results[1][0].params,
                              rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4)
  # Same key, same mesh: bit-identical.
  chex.assert_trees_all_equal(results[1][0].params, results[2][0].params)
  # The update actually changed the parameters and the regularisation nets
  # are still the initial ones (no iteration has ended).
  init = make_rnad(_KUHN, _CFG).init(jax.random.key(3))
  assert not np.allclose(results[0][0].params["torso/~/linear_0"]["w"],
                         init.params["torso/~/linear_0"]["w"])
  chex.assert_trees_all_equal(results[0][0].extras.params_prev,
                              init.extras.params_prev)
