"""D4PG losses for one example each (callers vmap), and n-step targets.

The critic is trained by categorical distributional TD learning (Bellemare et
al. 2017, arXiv:1707.06887): the target distribution, the target critic's
atoms shifted by the n-step return and scaled by the n-step discount, is
projected back onto the fixed support (rlax's Cramer/L2 projection) and the
loss is the cross-entropy to it. The policy follows the deterministic policy
gradient of the critic's mean (Silver et al. 2014), as in D4PG (Barth-Maron
et al. 2018, arXiv:1804.08617).
"""

from __future__ import annotations

from typing import Sequence

import chex
import jax
import jax.numpy as jnp
import rlax


def expected_value(logits: jax.Array, atoms: jax.Array) -> jax.Array:
  """Mean of a categorical distribution. logits [..., N], atoms [N] -> [...]."""
  return jax.nn.softmax(logits, axis=-1) @ atoms


def project(atoms_from: jax.Array, probs: jax.Array,
            atoms_to: jax.Array) -> jax.Array:
  """Projects (atoms_from, probs) onto the support atoms_to. [N] each -> [N]."""
  chex.assert_rank([atoms_from, probs, atoms_to], 1)
  return rlax.categorical_l2_project(atoms_from, probs, atoms_to)


def critic_loss(logits_tm1: jax.Array, reward: jax.Array,
                discount: jax.Array, logits_t: jax.Array,
                atoms: jax.Array) -> jax.Array:
  """Categorical TD loss of one transition.

  Args:
    logits_tm1: [N] online critic logits at (o_tm1, a_tm1).
    reward: [] n-step return from o_tm1.
    discount: [] n-step discount (0 past a terminal state).
    logits_t: [N] target critic logits at (o_t, target policy(o_t)).
    atoms: [N] the support.

  Returns:
    [] cross-entropy from the projected target to the online distribution;
    no gradient flows into the target.
  """
  chex.assert_rank([logits_tm1, reward, discount, logits_t, atoms],
                   [1, 0, 0, 1, 1])
  chex.assert_equal_shape([logits_tm1, logits_t, atoms])
  return rlax.categorical_td_learning(atoms, logits_tm1, reward, discount,
                                      atoms, logits_t)


def policy_loss(action: jax.Array, dqda: jax.Array,
                dqda_clip: float = 0.0) -> jax.Array:
  """Deterministic policy gradient loss of one observation.

  Args:
    action: [A] the policy's action (gradients flow through it).
    dqda: [A] gradient of the critic's mean with respect to the action.
    dqda_clip: clip `dqda` to this L2 norm first; 0 for no clipping.

  Returns:
    [] `0.5 * |stop_gradient(action + dqda) - action|^2`, whose gradient with
    respect to the action is `-dqda`.
  """
  chex.assert_rank([action, dqda], 1)
  chex.assert_equal_shape([action, dqda])
  # rlax returns the loss per action dimension.
  return jnp.sum(rlax.dpg_loss(action, dqda,
                               dqda_clip if dqda_clip > 0 else None))


def n_step_target(rewards: Sequence[float], discounts: Sequence[float],
                  gamma: float) -> tuple[float, float]:
  """The n-step return and bootstrap discount of a run of steps.

  Args:
    rewards: r_1..r_k received after the first action (k <= n).
    discounts: the environment's discounts d_1..d_k (0 at a terminal step).
    gamma: the agent's discount.

  Returns:
    `(sum_i gamma^(i-1) (prod_{j<i} d_j) r_i, prod_i gamma * d_i)`: the value
    to add to the discounted bootstrap value of the state after step k.
  """
  if len(rewards) != len(discounts):
    raise ValueError(f"{len(rewards)} rewards but {len(discounts)} discounts")
  ret, disc = 0.0, 1.0
  for r, d in zip(rewards, discounts):
    ret += disc * float(r)
    disc *= gamma * float(d)
  return ret, disc
