"""D4PG acting: the deterministic policy plus Gaussian exploration noise."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from agents.core.types import Params
from agents.d4pg.networks import Networks


def select_action(networks: Networks, policy_params: Params, obs: jax.Array,
                  key: chex.PRNGKey, sigma: float) -> jax.Array:
  """The policy's action plus N(0, sigma^2) noise, clipped to the bounds.

  Args:
    networks: the D4PG networks.
    policy_params: `params["policy"]`.
    obs: [..., O] flat observations.
    key: consumed for the noise (unused when `sigma` is 0).
    sigma: noise scale, in units of half the action range (0: the greedy,
      noiseless policy used for evaluation).

  Returns:
    [..., A] float32 actions within [action_min, action_max].
  """
  action = networks.policy(policy_params, obs)
  if sigma > 0:
    half_range = jnp.broadcast_to(
        (networks.action_max - networks.action_min) / 2, action.shape)
    noise = jax.random.normal(key, action.shape, action.dtype)
    action = action + sigma * half_range * noise
  return jnp.clip(action, jnp.broadcast_to(networks.action_min, action.shape),
                  jnp.broadcast_to(networks.action_max, action.shape))
