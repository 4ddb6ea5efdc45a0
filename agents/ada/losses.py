"""The AdA agent's actor-critic loss: PPO's clipped surrogate (Schulman et
al. 2017, arXiv:1707.06347) on GAE(lambda) advantages (Schulman et al.
2015, arXiv:1506.02438), an L2 value loss and an entropy bonus, from rlax.

Each function handles one trajectory of T steps; the learner vmaps them
over the batch. Steps with `mask` 0 (episodes a robust curriculum plays only
to score their task) take no part in any term.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import rlax


def advantages(reward: jax.Array, discount: jax.Array, value: jax.Array,
               bootstrap: jax.Array, lambda_: float
               ) -> tuple[jax.Array, jax.Array]:
  """GAE(lambda) advantages and value targets of one trajectory.

  Args:
    reward: [T] the reward of each step.
    discount: [T] the discount after each step (0 where an episode ended).
    value: [T] the behaviour's value estimate before each step.
    bootstrap: [] the value estimate after the last step.
    lambda_: GAE's lambda.

  Returns:
    (advantage [T], target [T] = advantage + value).
  """
  chex.assert_rank([reward, discount, value, bootstrap], [1, 1, 1, 0])
  chex.assert_equal_shape([reward, discount, value])
  values = jnp.concatenate([value, bootstrap[None]])
  advantage = rlax.truncated_generalized_advantage_estimation(
      reward, discount, lambda_, values)
  return advantage, advantage + value


class LossTerms(NamedTuple):
  """Sums over one trajectory's unmasked steps."""
  policy: jax.Array  # [] the negated clipped surrogate
  value: jax.Array  # [] 0.5 * (value - target)^2
  entropy: jax.Array  # [] the policy's entropy
  clipped: jax.Array  # [] steps whose probability ratio was clipped
  count: jax.Array  # [] unmasked steps


def ppo_terms(logits: jax.Array, value: jax.Array, action: jax.Array,
              behaviour_log_prob: jax.Array, advantage: jax.Array,
              target: jax.Array, mask: jax.Array, *, clip_epsilon: float
              ) -> LossTerms:
  """PPO's loss terms over one trajectory, summed over its unmasked steps.

  Args:
    logits: [T, A] the current policy's logits.
    value: [T] the current value estimates.
    action: [T] int, the actions taken.
    behaviour_log_prob: [T] their log-probabilities when taken.
    advantage: [T] (normalised) advantages; not differentiated.
    target: [T] value targets; not differentiated.
    mask: [T] bool or 0/1, the steps that count.
    clip_epsilon: the surrogate's clipping range.
  """
  chex.assert_rank([logits, value, action, behaviour_log_prob, advantage,
                    target, mask], [2, 1, 1, 1, 1, 1, 1])
  chex.assert_equal_shape([value, action, behaviour_log_prob, advantage,
                           target, mask])
  num_steps = value.shape[0]
  mask = mask.astype(jnp.float32)
  log_probs = jax.nn.log_softmax(logits)
  taken = jnp.take_along_axis(log_probs, action[:, None], axis=-1)[:, 0]
  ratio = jnp.exp(taken - behaviour_log_prob)
  # rlax takes the mean over the T steps; masked steps add 0 to it.
  policy = rlax.clipped_surrogate_pg_loss(ratio, advantage * mask,
                                          clip_epsilon) * num_steps
  value_loss = 0.5 * jnp.sum(
      mask * jnp.square(value - jax.lax.stop_gradient(target)))
  entropy = -rlax.entropy_loss(logits, mask) * num_steps
  clipped = jnp.sum(mask * (jnp.abs(ratio - 1.0) > clip_epsilon))
  return LossTerms(policy=policy, value=value_loss, entropy=entropy,
                   clipped=jax.lax.stop_gradient(clipped),
                   count=jnp.sum(mask))
