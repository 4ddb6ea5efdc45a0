"""D4PG for the shared learner: the loss, the target-network hook, priorities.

Distributed Distributional DDPG (Barth-Maron et al. 2018, arXiv:1804.08617):
a deterministic policy trained by the DPG of a categorical distributional
critic, which learns from n-step transitions against target networks that
are copied from the online ones every `target_update_period` learner steps.
The update loop (sharding, K steps per call, optimizer) is
`agents.core.make_update`; this module only supplies its pieces.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from agents.core.learner import TrainState, init_train_state
from agents.core.types import Metrics, Params
from agents.d4pg import actor, losses
from agents.d4pg.config import D4PGConfig
from agents.d4pg.networks import Networks, make_networks


class Transition(NamedTuple):
  """A batch of n-step transitions, as the learner consumes them."""

  obs: jax.Array  # [B, O] float32, o_tm1
  action: jax.Array  # [B, A] float32, a_tm1 (within the bounds)
  reward: jax.Array  # [B] float32, n-step return
  discount: jax.Array  # [B] float32, n-step discount gamma^n * prod(d)
  next_obs: jax.Array  # [B, O] float32, o_t (n steps later)
  weight: jax.Array  # [B] float32, importance weight (1 for uniform replay)


class D4PGExtras(NamedTuple):
  target_params: Params  # periodic copy of params; bootstraps the critic


class D4PG(NamedTuple):
  """What the shared learner and the Sebulba driver need from D4PG."""

  networks: Networks
  optimizer: optax.GradientTransformation
  init: Callable[[chex.PRNGKey], TrainState]
  loss_fn: Callable[..., tuple[jax.Array, Metrics]]
  after_update: Callable[[TrainState], TrainState]
  # (params, extras, batch) -> [B] critic loss per transition
  priorities: Callable[[Params, D4PGExtras, Transition], jax.Array]
  # What Sebulba's actors need (`agents.core.registry`):
  # params -> the parameters the actors act with (the policy's).
  actor_params: Callable[[Params], Params]
  # (actor params, obs [..., O], key, explore) -> action [..., A]: with
  # Gaussian exploration noise when `explore`, else the greedy policy.
  act: Callable[..., jax.Array]
  n_step: int  # n of the n-step transitions the actors send
  discount: float
  # (rewards [n], discounts [n]) -> (reward, discount) of an n-step transition
  n_step_target: Callable[..., tuple[float, float]]
  # (replay items {name: [B, ...]}, importance weights [B]) -> batch
  make_batch: Callable[..., Transition]


def _optimizer(learning_rate: float, config: D4PGConfig
               ) -> optax.GradientTransformation:
  parts = []
  if config.max_gradient_norm > 0:
    parts.append(optax.clip_by_global_norm(config.max_gradient_norm))
  parts.append(optax.adam(learning_rate, eps=config.adam_eps))
  return optax.chain(*parts)


def make_d4pg(observation_size: int, action_min: np.ndarray,
              action_max: np.ndarray, config: D4PGConfig) -> D4PG:
  """Builds D4PG for flat observations [O] and actions within the bounds."""
  networks = make_networks(observation_size, action_min, action_max, config)
  # Separate Adam and norm clipping per network; the policy loss does not
  # reach the critic's parameters nor the critic loss the policy's.
  optimizer = optax.multi_transform(
      {"policy": _optimizer(config.policy_learning_rate, config),
       "critic": _optimizer(config.critic_learning_rate, config)},
      lambda params: {k: jax.tree.map(lambda _, k=k: k, v)
                      for k, v in params.items()})
  atoms = networks.atoms

  def init(key: chex.PRNGKey) -> TrainState:
    init_key, state_key = jax.random.split(key)
    params = networks.init(init_key)
    return init_train_state(params, optimizer, state_key,
                            D4PGExtras(target_params=params))

  def critic_losses(params: Params, target: Params,
                    batch: Transition) -> tuple[jax.Array, jax.Array]:
    """[B] per-transition critic losses and [B] online Q means."""
    a_t = networks.policy(target["policy"], batch.next_obs)
    logits_t = networks.critic(target["critic"], batch.next_obs, a_t)
    logits_tm1 = networks.critic(params["critic"], batch.obs, batch.action)
    per_example = jax.vmap(losses.critic_loss, in_axes=(0, 0, 0, 0, None))(
        logits_tm1, batch.reward, batch.discount, logits_t, atoms)
    return per_example, losses.expected_value(logits_tm1, atoms)

  def loss_fn(params: Params, state: TrainState, batch: Transition,
              key: chex.PRNGKey) -> tuple[jax.Array, Metrics]:
    del key
    target = state.extras.target_params
    per_example, q = critic_losses(params, target, batch)
    critic_loss = jnp.mean(batch.weight * per_example)
    # DPG: the gradient of the critic's mean at the policy's action. The
    # critic's parameters are held fixed for the policy's loss.
    critic_params = jax.lax.stop_gradient(params["critic"])
    action = networks.policy(params["policy"], batch.obs)
    q_of = lambda a, o: losses.expected_value(
        networks.critic(critic_params, o, a), atoms)
    dqda = jax.vmap(jax.grad(q_of))(action, batch.obs)
    policy_loss = jnp.mean(jax.vmap(
        lambda a, g: losses.policy_loss(a, g, config.dqda_clip))(action, dqda))
    metrics = {"critic_loss": critic_loss, "policy_loss": policy_loss,
               "q_mean": jnp.mean(q),
               "policy_action_abs": jnp.mean(jnp.abs(action))}
    return critic_loss + policy_loss, metrics

  def after_update(state: TrainState) -> TrainState:
    copy = state.step % config.target_update_period == 0
    target = jax.tree.map(lambda p, t: jnp.where(copy, p, t), state.params,
                          state.extras.target_params)
    return state._replace(extras=D4PGExtras(target_params=target))

  def priorities(params: Params, extras: D4PGExtras,
                 batch: Transition) -> jax.Array:
    return critic_losses(params, extras.target_params, batch)[0]

  def act(actor_params: Params, obs: jax.Array, key: chex.PRNGKey,
          explore: bool) -> jax.Array:
    return actor.select_action(networks, actor_params, obs, key,
                               config.sigma if explore else 0.0)

  def make_batch(items, weights) -> Transition:
    return Transition(weight=weights, **items)

  return D4PG(networks=networks, optimizer=optimizer, init=init,
              loss_fn=loss_fn, after_update=after_update,
              priorities=priorities,
              actor_params=lambda params: params["policy"], act=act,
              n_step=config.n_step, discount=config.discount,
              n_step_target=losses.n_step_target, make_batch=make_batch)
