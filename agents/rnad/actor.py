"""R-NaD acting: action sampling, and the (post-processed) test-time policy."""

from __future__ import annotations

from typing import Any

import chex
import jax
import jax.numpy as jnp

from agents.core.types import Params
from agents.rnad.config import FinetuneConfig
from agents.rnad.networks import Networks, legal_policy


def threshold_policy(policy: jax.Array, legal: jax.Array,
                     threshold: float) -> jax.Array:
  """Zeroes probabilities below `threshold` (never the most likely action).

  Args:
    policy: [..., A] probabilities, 0 on illegal actions.
    legal: [..., A] bool.
    threshold: cut-off in [0, 1).

  Returns:
    [..., A] renormalised probabilities.
  """
  if threshold <= 0:
    return policy
  best = jax.nn.one_hot(jnp.argmax(policy, -1), policy.shape[-1], dtype=bool)
  keep = legal & ((policy >= threshold) | best)
  kept = jnp.where(keep, policy, 0.0)
  return kept / jnp.sum(kept, -1, keepdims=True)


def discretize_policy(policy: jax.Array, legal: jax.Array,
                      num_bins: int) -> jax.Array:
  """Rounds probabilities to multiples of 1/num_bins, still summing to one.

  Each probability is floored to a multiple of 1/n; the n - sum(floors)
  missing units go to the legal actions with the largest remainders (ties to
  the lower index), so the result is the closest such grid point in the
  largest-remainder sense.

  Args:
    policy: [..., A] probabilities, 0 on illegal actions.
    legal: [..., A] bool.
    num_bins: n; 0 disables discretisation.

  Returns:
    [..., A] probabilities, each in {0, 1/n, ..., 1}.
  """
  if num_bins <= 0:
    return policy
  scaled = policy * num_bins
  floors = jnp.floor(scaled)
  missing = num_bins - jnp.sum(floors, -1, keepdims=True)
  remainder = jnp.where(legal, scaled - floors, -1.0)
  # Rank of each action by remainder (0 = largest), ties broken by index.
  order = jnp.argsort(-remainder, axis=-1, stable=True)
  rank = jnp.argsort(order, axis=-1, stable=True)
  bonus = (rank < missing) & legal
  return (floors + bonus) / num_bins


def post_process_policy(policy: jax.Array, legal: jax.Array,
                        config: FinetuneConfig) -> jax.Array:
  """Threshold then discretise (the test-time policy)."""
  policy = threshold_policy(policy, legal, config.policy_threshold)
  return discretize_policy(policy, legal, config.policy_discretization)


def policy_probs(networks: Networks, params: Params, obs: jax.Array,
                 legal: jax.Array, finetune: FinetuneConfig,
                 post_process: bool) -> jax.Array:
  """The policy [..., A]; post-processed (`finetune`) when `post_process`."""
  pi = legal_policy(networks.apply(params, obs).logits, legal)
  return post_process_policy(pi, legal, finetune) if post_process else pi


def select_action(networks: Networks, params: Params, obs: jax.Array,
                  legal: jax.Array, key: chex.PRNGKey
                  ) -> tuple[jax.Array, dict[str, Any]]:
  """Samples one action per row of `obs` from the raw legal policy.

  Returns:
    `(action [...] int32, {"policy": [..., A]})`.
  """
  probs = legal_policy(networks.apply(params, obs).logits, legal)
  logp = jnp.where(probs > 0, jnp.log(jnp.where(probs > 0, probs, 1.0)),
                   -jnp.inf)
  action = jax.random.categorical(key, logp, axis=-1).astype(jnp.int32)
  return action, {"policy": probs}
