"""The shared learner: one sharded, jitted update step, generic over the loss.

An agent supplies a loss (and optionally a hook run after each optimizer step,
and for Anakin agents a function producing the batch inside the update); the
learner owns the device mesh, the sharding of batch and state, the optimizer
step and the multi-step compiled call. This is the TF-Replicator/Podracer
split (Buchlovsky et al. 2019, arXiv:1902.00465; Hessel et al. 2021,
arXiv:2104.06272): algorithm code never sees devices.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from agents.core import sharding
from agents.core.types import Batch, LossFn, Metrics, Params, PRNGKey


class TrainState(NamedTuple):
  """Everything an update needs; a checkpoint is exactly this tree."""

  params: Params
  opt_state: optax.OptState
  step: jax.Array  # [] int32, learner steps (batches) taken
  key: jax.Array  # [] PRNG key, consumed and replaced by every update
  extras: chex.ArrayTree = ()  # agent-specific: target / regularisation params


# Anakin agents produce their batch inside the update from the current state.
BatchFn = Callable[[TrainState, PRNGKey], Batch]
AfterUpdate = Callable[[TrainState], TrainState]
# update(state) or update(state, batch) -> (state, metrics)
UpdateFn = Callable[..., tuple[TrainState, Metrics]]


def init_train_state(params: Params, optimizer: optax.GradientTransformation,
                     key: PRNGKey, extras: chex.ArrayTree = ()) -> TrainState:
  """A step-0 state. `key` seeds every later update."""
  return TrainState(params=params, opt_state=optimizer.init(params),
                    step=jnp.zeros((), jnp.int32), key=key, extras=extras)


def make_update(loss_fn: LossFn,
                optimizer: optax.GradientTransformation,
                mesh: Mesh,
                after_update: AfterUpdate | None = None,
                *,
                steps_per_call: int = 1,
                batch_fn: BatchFn | None = None,
                batch_axis: int = 0,
                unroll: bool = False,
                epochs: int = 1,
                carry: bool = False) -> UpdateFn:
  """Builds the jitted update.

  Args:
    loss_fn: `(params, state, batch, key) -> (loss, metrics)`, for the whole
      (global) batch; it is differentiated with respect to `params`.
    optimizer: the optax transformation applied to the gradients.
    mesh: device mesh with a `data` axis; the batch is split over it and the
      train state is replicated, so gradients are averaged by XLA.
    after_update: pure hook applied to the state after every optimizer step
      (target-network averaging, regularisation-network swaps).
    steps_per_call: K; one call runs K optimizer steps in a `lax.scan` and
      returns metrics averaged over them.
    batch_fn: if given (Anakin), each step draws its batch as
      `batch_fn(state, key)` inside the compiled call and the update takes no
      batch, only an optional replicated `aux` pytree passed on as
      `batch_fn(state, key, aux)` (e.g. an opponent's parameters); otherwise
      the caller passes the batch (with a leading [K] axis when
      `steps_per_call > 1`).
    batch_axis: the axis of each batch leaf that indexes examples (1 for
      time-major trajectories); it is the axis split over devices.
    unroll: unroll the K steps instead of looping over them (K copies of the
      step in the program: slower to compile). XLA's CPU backend runs
      convolutions inside a loop nested in another loop (an Anakin rollout
      inside the K-step loop) several times slower than unrolled or at
      K = 1 (measured: `benchmarks/stratego_small_results.md`, section "The
      options these runs use").

    epochs: optimizer steps on each batch (PPO's epochs); one learner step
      (`TrainState.step`) is one batch. The loss key differs per epoch.
    carry: with `batch_fn` only: the batch source keeps state from call to
      call (environments in mid-episode, the actors' memories, a
      curriculum): `batch_fn(state, key, carry) -> (batch, carry,
      rollout_metrics)`, and the update is `update(state, carry) -> (state,
      carry, metrics)`, the rollout's metrics merged into the learner's.
      The carry is placed like the state (replicated).

  Returns:
    `update(state, batch) -> (state, metrics)`, or `update(state[, aux])`
    with `batch_fn` (`update(state, carry)` with `carry`); jitted, donating
    `state` (and the carry).

  Raises:
    ValueError: if `steps_per_call < 1` or `epochs < 1`, or `carry` without
      `batch_fn`.
  """
  if steps_per_call < 1:
    raise ValueError(f"steps_per_call must be >= 1, got {steps_per_call}")
  if epochs < 1:
    raise ValueError(f"epochs must be >= 1, got {epochs}")
  if carry and batch_fn is None:
    raise ValueError("carry needs a batch_fn")
  after_update = after_update or (lambda s: s)
  data = sharding.batch_sharded(mesh, batch_axis)
  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

  def gradient_step(state: TrainState, batch: Batch, loss_key):
    (loss, metrics), grads = grad_fn(state.params, state, batch, loss_key)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    state = state._replace(params=optax.apply_updates(state.params, updates),
                           opt_state=opt_state)
    return state, {**metrics, "loss": loss,
                   "grad_norm": optax.tree.norm(grads)}

  def one_step(state: TrainState, batch: Batch | None, aux: Any = None):
    key, batch_key, loss_key = jax.random.split(state.key, 3)
    rollout_metrics = {}
    if carry:
      batch, aux, rollout_metrics = batch_fn(state, batch_key, aux)
    elif batch_fn is not None:
      batch = (batch_fn(state, batch_key) if aux is None else
               batch_fn(state, batch_key, aux))
    batch = jax.lax.with_sharding_constraint(batch, data)
    if epochs == 1:
      state, metrics = gradient_step(state, batch, loss_key)
    else:
      state, metrics = jax.lax.scan(
          lambda s, k: gradient_step(s, batch, k), state,
          jax.random.split(loss_key, epochs))
      metrics = jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)
    state = state._replace(step=state.step + 1, key=key)
    metrics = {**rollout_metrics, **metrics}
    if carry:
      return after_update(state), aux, metrics
    return after_update(state), metrics

  def multi_step(state: TrainState, batches: Batch | None, aux: Any = None):
    if steps_per_call == 1:
      return one_step(state, batches, aux)
    if carry:
      def carried_step(state_and_aux, _):
        state, aux = state_and_aux
        state, aux, metrics = one_step(state, None, aux)
        return (state, aux), metrics

      (state, aux), metrics = jax.lax.scan(
          carried_step, (state, aux), None, length=steps_per_call,
          unroll=unroll)
      return state, aux, jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)
    state, metrics = jax.lax.scan(lambda s, b: one_step(s, b, aux), state,
                                  batches, length=steps_per_call,
                                  unroll=unroll)
    return state, jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics)

  state_sharding = sharding.replicated(mesh)
  if carry:
    return jax.jit(lambda state, aux: multi_step(state, None, aux),
                   in_shardings=(state_sharding, state_sharding),
                   out_shardings=(state_sharding,) * 3,
                   donate_argnums=(0, 1))
  if batch_fn is not None:
    jitted = jax.jit(lambda state, aux: multi_step(state, None, aux),
                     in_shardings=(state_sharding, state_sharding),
                     out_shardings=(state_sharding, state_sharding),
                     donate_argnums=0)

    def update(state: TrainState, aux: Any = None):
      return jitted(state, aux)

    return update
  batches_sharding = (data if steps_per_call == 1 else
                      sharding.batch_sharded(mesh, batch_axis + 1))
  return jax.jit(multi_step,
                 in_shardings=(state_sharding, batches_sharding),
                 out_shardings=(state_sharding, state_sharding),
                 donate_argnums=0)


def replicate(tree: Any, mesh: Mesh) -> Any:
  """Places `tree` on every device of `mesh` (e.g. a fresh or restored state)."""
  # A copy: the update donates its state, which must not free the caller's
  # arrays (device_put alone may alias them).
  return jax.device_put(jax.tree.map(lambda x: x.copy(), tree),
                        sharding.replicated(mesh))
