"""D4PG networks: a deterministic policy and a distributional critic.

Both are layer-normed MLPs as in acme's Control Suite agents: the first layer
is linear, layer-normed and tanh-squashed (so that observations of any scale
enter well conditioned), the rest use ELU. The policy's output is squashed by
tanh and scaled into the action bounds; the critic maps (observation, action)
to logits over `num_atoms` fixed atoms evenly spaced on [v_min, v_max]
(Bellemare et al. 2017, arXiv:1707.06887).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import chex
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from agents.core.types import Params
from agents.d4pg.config import D4PGConfig


class Networks(NamedTuple):
  """Pure functions over `params = {"policy": ..., "critic": ...}`."""

  init: Callable[[chex.PRNGKey], Params]
  # (policy params, obs [..., O]) -> action [..., A] within the bounds
  policy: Callable[[Params, jax.Array], jax.Array]
  # (critic params, obs [..., O], action [..., A]) -> logits [..., num_atoms]
  critic: Callable[[Params, jax.Array, jax.Array], jax.Array]
  atoms: jax.Array  # [num_atoms] float32
  action_min: np.ndarray  # [A] float32
  action_max: np.ndarray  # [A] float32


def _layer_norm_mlp(sizes: Sequence[int], x: jax.Array, name: str) -> jax.Array:
  init = hk.initializers.VarianceScaling(1.0, "fan_in", "uniform")
  x = hk.Linear(sizes[0], w_init=init, name=f"{name}_in")(x)
  x = hk.LayerNorm(axis=-1, create_scale=True, create_offset=True,
                   name=f"{name}_norm")(x)
  x = jnp.tanh(x)
  for i, size in enumerate(sizes[1:]):
    x = jax.nn.elu(hk.Linear(size, w_init=init, name=f"{name}_{i}")(x))
  return x


def make_networks(observation_size: int, action_min: np.ndarray,
                  action_max: np.ndarray, config: D4PGConfig) -> Networks:
  """The policy and critic for observations [O] and actions in the bounds.

  Args:
    observation_size: O, the length of flat observations.
    action_min: [A] lower action bounds.
    action_max: [A] upper action bounds.
    config: the agent config (network sizes, atoms).

  Returns:
    `Networks`.
  """
  action_min = np.asarray(action_min, np.float32)
  action_max = np.asarray(action_max, np.float32)
  num_actions = action_min.shape[0]
  scale = (action_max - action_min) / 2.0
  offset = (action_max + action_min) / 2.0
  net = config.network

  def policy_fn(obs: jax.Array) -> jax.Array:
    h = _layer_norm_mlp(net.policy_hidden_sizes, obs, "policy")
    out = hk.Linear(num_actions, w_init=hk.initializers.VarianceScaling(
        1e-4, "fan_in", "uniform"), name="policy_out")(h)
    return (jnp.tanh(out) * jnp.broadcast_to(scale, out.shape) +
            jnp.broadcast_to(offset, out.shape))

  def critic_fn(obs: jax.Array, action: jax.Array) -> jax.Array:
    x = jnp.concatenate([obs, action], axis=-1)
    h = _layer_norm_mlp(net.critic_hidden_sizes, x, "critic")
    return hk.Linear(config.num_atoms, w_init=hk.initializers.VarianceScaling(
        1e-4, "fan_in", "uniform"), name="critic_out")(h)

  policy = hk.without_apply_rng(hk.transform(policy_fn))
  critic = hk.without_apply_rng(hk.transform(critic_fn))
  dummy_obs = jnp.zeros((1, observation_size), jnp.float32)
  dummy_action = jnp.zeros((1, num_actions), jnp.float32)

  def init(key: chex.PRNGKey) -> Params:
    policy_key, critic_key = jax.random.split(key)
    return {"policy": policy.init(policy_key, dummy_obs),
            "critic": critic.init(critic_key, dummy_obs, dummy_action)}

  atoms = jnp.linspace(config.v_min, config.v_max, config.num_atoms,
                       dtype=jnp.float32)
  return Networks(init=init, policy=policy.apply, critic=critic.apply,
                  atoms=atoms, action_min=action_min, action_max=action_max)
