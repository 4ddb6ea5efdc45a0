"""Supervised losses any agent may use (one example each; vmap for a batch)."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def masked_log_softmax(logits: jax.Array, legal: jax.Array) -> jax.Array:
  """[A] log-probabilities over the legal actions (-inf elsewhere)."""
  chex.assert_equal_shape([logits, legal])
  return jax.nn.log_softmax(jnp.where(legal, logits, -jnp.inf))


def cross_entropy(logits: jax.Array, target: jax.Array,
                  legal: jax.Array) -> jax.Array:
  """[]: -log p(target) under the softmax of `logits` [A] over `legal` [A].

  The target must be legal (else the loss is +inf).
  """
  chex.assert_rank([logits, target], [1, 0])
  return -masked_log_softmax(logits, legal)[target]


def top1_hit(logits: jax.Array, target: jax.Array,
             legal: jax.Array) -> jax.Array:
  """[] float32: 1 where the most likely legal action is `target`."""
  best = jnp.argmax(jnp.where(legal, logits, -jnp.inf))
  return (best == target).astype(jnp.float32)
