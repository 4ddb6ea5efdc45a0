"""R-NaD policy/value network and legal-action policy helpers."""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import chex
import haiku as hk
import jax
import jax.numpy as jnp

from agents.core.types import Params
from agents.rnad import deepnash_net
from agents.rnad.config import NetworkConfig


class NetOutput(NamedTuple):
  logits: jax.Array  # [..., A] float32, raw (illegal entries meaningless)
  value: jax.Array  # [...] float32, value for the player to move


class Networks(NamedTuple):
  init: Callable[[chex.PRNGKey], Params]
  apply: Callable[[Params, jax.Array], NetOutput]  # obs [..., *O]


def _forward(num_actions: int, obs_rank: int, config: NetworkConfig,
             obs: jax.Array) -> NetOutput:
  if config.kind == "deepnash":
    if obs_rank != 3:
      raise ValueError("the deepnash network needs [H, W, C] observations")
    logits, value = deepnash_net.forward(num_actions, config, obs)
    return NetOutput(logits=logits, value=value)
  x = obs.reshape(*obs.shape[:obs.ndim - obs_rank], -1)  # flatten [*O]
  torso = hk.nets.MLP(config.hidden_sizes, activate_final=True, name="torso")
  h_policy = torso(x)
  # A separate value torso keeps the value loss, which scales with the
  # square of the game's payoffs, from dominating the policy's features.
  h_value = h_policy if config.shared_torso else hk.nets.MLP(
      config.hidden_sizes, activate_final=True, name="value_torso")(x)
  logits = hk.Linear(num_actions, name="policy")(h_policy)
  value = hk.Linear(1, name="value")(h_value)[..., 0]
  return NetOutput(logits=logits, value=value)


def make_networks(observation_shape: tuple[int, ...], num_actions: int,
                  config: NetworkConfig) -> Networks:
  """The network `config.kind`; `apply` takes any leading dims."""
  net = hk.without_apply_rng(hk.transform(functools.partial(
      _forward, num_actions, len(observation_shape), config)))
  dummy = jnp.zeros((1, *observation_shape), jnp.float32)
  return Networks(init=lambda key: net.init(key, dummy), apply=net.apply)


def legal_policy(logits: jax.Array, legal: jax.Array) -> jax.Array:
  """Softmax over legal actions; exactly 0 on illegal ones. [..., A]."""
  return jnp.exp(legal_log_policy(logits, legal)) * legal


def legal_log_policy(logits: jax.Array, legal: jax.Array) -> jax.Array:
  """Log-softmax over legal actions; 0 (not -inf) on illegal ones. [..., A].

  Zeros keep products such as `pi * log_pi` finite, with zero gradient to
  illegal logits.
  """
  masked = jnp.where(legal, logits, -jnp.inf)
  max_logit = jax.lax.stop_gradient(jnp.max(masked, axis=-1, keepdims=True))
  shifted = jnp.where(legal, logits - max_logit, 0.0)
  log_z = jnp.log(jnp.sum(jnp.exp(shifted) * legal, axis=-1, keepdims=True))
  return jnp.where(legal, shifted - log_z, 0.0)
