"""The supervised loss of the Go networks (one example; vmap for a batch).

Policy: cross-entropy with the expert's move over the legal moves. Value:
squared error between the predicted value in (-1, 1) and the game's outcome
for the player to move (+1 won, -1 lost, 0 drawn), as in AlphaGo's value
network (Silver et al. 2016) and the expert-data agents of Humphreys et al.
2022.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from agents.core import supervised


def policy_value_loss(logits: jax.Array, value: jax.Array,
                      target: jax.Array, outcome: jax.Array,
                      legal: jax.Array, value_weight: float
                      ) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Loss and metrics of one position.

  Args:
    logits: [A] policy logits.
    value: [] predicted value for the player to move.
    target: [] int32, the expert's move (legal).
    outcome: [] float32 in {-1, 0, 1}.
    legal: [A] bool.
    value_weight: weight of the value loss.

  Returns:
    (loss [], metrics of [] arrays: policy_loss, value_loss, accuracy).
  """
  chex.assert_rank([logits, value, target, outcome, legal], [1, 0, 0, 0, 1])
  policy_loss = supervised.cross_entropy(logits, target, legal)
  value_loss = jnp.square(value - outcome)
  metrics = dict(policy_loss=policy_loss, value_loss=value_loss,
                 accuracy=supervised.top1_hit(logits, target, legal))
  return policy_loss + value_weight * value_loss, metrics


def batch_loss(logits, value, target, outcome, legal, value_weight):
  """Mean loss and metrics over a batch ([B, ...] inputs)."""
  loss, metrics = jax.vmap(policy_value_loss, in_axes=(0, 0, 0, 0, 0, None))(
      logits, value, target, outcome, legal, value_weight)
  return jnp.mean(loss), jax.tree.map(jnp.mean, metrics)
