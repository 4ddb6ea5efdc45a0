"""Imitation loss of the R-NaD networks: clone a bot's labelled decisions.

Used by the imitation warm start (`selfplay.warm_start`), as AlphaStar was
first trained on human games before reinforcement learning (Vinyals et al.
2019, "Grandmaster level in StarCraft II using multi-agent reinforcement
learning", Nature 575): cross-entropy of the network's legal policy to each
decision's label, plus the squared error of its value to the mover's return.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from agents.core.types import Metrics, Params, Trajectory
from agents.rnad.networks import apply_on_steps, compact_steps, legal_log_policy


def imitation_loss(apply: Callable, params: Params, traj: Trajectory,
                   value_weight: float, compute_fraction: float = 1.0
                   ) -> tuple[jax.Array, Metrics]:
  """Cross-entropy to the labels in `traj.policy` plus the value regression.

  Args:
    apply: the networks' `apply(params, obs)`.
    params: network parameters.
    traj: labelled games ([T, B] time-major); `traj.policy` holds each
      decision's target distribution.
    value_weight: weight of the value's squared error to the mover's return
      from each step on (the final result, plus any shaping to come).
    compute_fraction: share of the T x B steps to run the network on
      (`agents.rnad.networks.compact_steps`).

  Returns:
    `(loss, metrics)`: `loss_policy`, `loss_value` and `accuracy` (the share
    of decisions where the network's most likely legal action is the label).
  """
  compaction = compact_steps(traj.valid, compute_fraction)
  valid = traj.valid if compaction is None else compaction.used
  out = apply_on_steps(apply, params, traj.obs, compaction)
  log_pi = legal_log_policy(out.logits, traj.legal)
  cross_entropy = -jnp.sum(traj.policy * log_pi, -1)
  to_go = jnp.cumsum(traj.rewards[::-1], 0)[::-1]  # [T, B, P]
  mover_return = jnp.take_along_axis(to_go, traj.acting[..., None],
                                     -1)[..., 0]  # [T, B]
  hits = jnp.argmax(jnp.where(traj.legal, out.logits, -jnp.inf), -1) == (
      jnp.argmax(traj.policy, -1))
  count = jnp.maximum(jnp.sum(valid), 1)

  def mean(x):
    return jnp.sum(jnp.where(valid, x, 0.0)) / count

  loss_pi = mean(cross_entropy)
  loss_v = mean(jnp.square(out.value - mover_return))
  return loss_pi + value_weight * loss_v, {
      "loss_policy": loss_pi, "loss_value": loss_v,
      "accuracy": mean(hits.astype(jnp.float32))}
