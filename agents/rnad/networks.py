"""R-NaD policy/value network and legal-action policy helpers."""

from __future__ import annotations

import functools
import math
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
  h = hk.nets.MLP(config.hidden_sizes, activate_final=True, name="torso")(x)
  logits = hk.Linear(num_actions, name="policy")(h)
  value = hk.Linear(1, name="value")(h)[..., 0]
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


class Compaction(NamedTuple):
  """Which trajectory steps the learner computes (`compact_steps`)."""

  rows: jax.Array  # [capacity] int32, flat [T * B] indices to compute
  used: jax.Array  # [T, B] bool, valid steps of the games that fit


def compact_steps(valid: jax.Array, fraction: float) -> Compaction | None:
  """Picks at most `ceil(fraction * T * B)` steps to run the networks on.

  Games end before the longest possible game, so many of a trajectory's
  T x B steps are padding. Whole games are taken in batch order while their
  valid steps fit the budget; the games that do not fit are left out of this
  update (`used` is False on them). With a budget above the batch's usual
  number of valid steps nothing is left out; a batch of unusually long games
  loses its last games, which slightly favours short games in that batch.
  (A fallback to computing every step would need `lax.cond`, under which
  XLA's CPU convolutions run several times slower.)

  Args:
    valid: [T, B] bool, the steps where a decision was taken.
    fraction: share of the steps to compute; >= 1 means all (returns None).
  """
  if fraction >= 1.0:
    return None
  num_steps, batch = valid.shape
  n = valid.size
  capacity = max(1, min(n, math.ceil(fraction * n)))
  by_game = valid.T.reshape(n)  # game-major: all of game 0, then game 1, ...
  order = jnp.argsort(~by_game, stable=True)[:capacity]  # valid steps first
  game, step = order // num_steps, order % num_steps
  lengths = jnp.sum(valid, axis=0)
  fits = jnp.cumsum(lengths) <= capacity
  return Compaction(rows=(step * batch + game).astype(jnp.int32),
                    used=valid & fits[None, :])


def apply_on_steps(apply: Callable[[Params, jax.Array], NetOutput],
                   params: Params, obs: jax.Array,
                   compaction: Compaction | None) -> NetOutput:
  """`apply(params, obs)` over [T, B, *O], computed at `compaction.rows` only.

  Outputs at the other steps are zero. With no compaction, every step.
  """
  if compaction is None:
    return apply(params, obs)
  lead = obs.shape[:2]
  n = lead[0] * lead[1]
  rows = compaction.rows
  out = apply(params, obs.reshape((n,) + obs.shape[2:])[rows])
  return jax.tree.map(
      lambda o: jnp.zeros((n,) + o.shape[1:], o.dtype).at[rows].set(o)
      .reshape(lead + o.shape[1:]), out)
