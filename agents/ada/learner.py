"""The AdA agent as the drivers see it: init, optimizer, loss, acting.

Trained by the Anakin driver's task-environment mode (`selfplay.anakin`,
`selfplay.trial_rollout`): each update plays `unroll_length` steps of
`batch_size` environments with the current parameters (the environments and
the memories carried over from the update before), then `epochs` PPO steps
on them. The learner recomputes the whole segment from the memory at its
start (`Networks.unroll`), as Transformer-XL trains on a segment with the
cached memory of the one before.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from agents.ada import actor, losses, networks
from agents.ada.config import AdaExperiment
from agents.core.learner import TrainState, init_train_state
from agents.core.types import Segment
from games.xland.trials import Observation


class Batch(NamedTuple):
  """A trajectory with its advantages."""
  trajectory: Segment
  advantage: jax.Array  # [B, T] float32: GAE(lambda), unnormalised
  target: jax.Array  # [B, T] float32: value targets


class AdaAgent:
  """The memory agent of one `AdaExperiment`."""

  def __init__(self, config: AdaExperiment):
    self.config = config
    self.trials_config = config.trials
    cfg = config.agent
    self.networks = networks.make_networks(cfg.network, config.trials)
    self.optimizer = optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm),
                                 optax.adam(cfg.learning_rate))
    self.batch_size = cfg.batch_size
    self.unroll_length = cfg.unroll_length
    self.epochs = cfg.epochs
    self.after_update = None

  def init(self, key: jax.Array) -> TrainState:
    init_key, key = jax.random.split(key)
    return init_train_state(self.networks.init(init_key), self.optimizer,
                            key)

  def test_params(self, state: TrainState) -> Any:
    return state.params

  def initial_memory(self, batch: int) -> Any:
    return self.networks.initial_memory(batch)

  def refresh_memory(self, params: Any, memory: Any) -> Any:
    """The memory's cached attention keys and values under `params` (call
    before acting with new parameters)."""
    return self.networks.refresh(params, memory)

  def act(self, params: Any, memory: Any, obs: Observation, reset: jax.Array,
          key: jax.Array) -> tuple[jax.Array, actor.ActorOutput, Any]:
    """`actor.select_action` with the agent's network (a sample)."""
    return actor.select_action(self.networks, params, memory, obs, reset, key)

  def memory_policy(self, params: Any,
                    greedy: bool = False) -> actor.MemoryPolicy:
    return actor.memory_policy(self.networks, params, greedy)

  def make_batch(self, trajectory: Segment) -> Batch:
    """GAE(lambda) advantages and value targets of a played segment."""
    cfg = self.config.agent
    gae = jax.vmap(losses.advantages, in_axes=(0, 0, 0, 0, None))
    discount = cfg.discount * (1.0 - trajectory.done.astype(jnp.float32))
    advantage, target = gae(trajectory.reward, discount,
                            trajectory.value, trajectory.bootstrap,
                            cfg.gae_lambda)
    return Batch(trajectory=trajectory, advantage=advantage, target=target)

  def loss_fn(self, params: Any, state: TrainState, batch: Batch,
              key: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
    """PPO's loss over the batch's trained steps (advantages normalised over
    them)."""
    del state, key
    cfg = self.config.agent
    traj = batch.trajectory
    logits, value = self.networks.unroll(params, traj.obs, traj.reset,
                                         traj.memory)
    mask = traj.mask.astype(jnp.float32)
    count = jnp.maximum(mask.sum(), 1.0)
    mean = jnp.sum(batch.advantage * mask) / count
    std = jnp.sqrt(jnp.sum(jnp.square(batch.advantage - mean) * mask) / count)
    advantage = jax.lax.stop_gradient((batch.advantage - mean) / (std + 1e-8))
    terms = jax.vmap(
        lambda *a: losses.ppo_terms(*a, clip_epsilon=cfg.clip_epsilon))(logits, value, traj.action, traj.log_prob, advantage,
                   batch.target, traj.mask)
    total = jax.tree.map(jnp.sum, terms)
    policy, value_loss, entropy = (total.policy / count, total.value / count,
                                   total.entropy / count)
    loss = policy + cfg.value_cost * value_loss - cfg.entropy_cost * entropy
    return loss, {"loss_policy": policy, "loss_value": value_loss,
                  "entropy": entropy, "clip_fraction": total.clipped / count,
                  "trained_fraction": mask.mean(),
                  "value_mean": jnp.sum(value * mask) / count}


def make_agent(config: AdaExperiment) -> AdaAgent:
  return AdaAgent(config)
