"""The AdA agent acting: one step of the memory policy, pure.

`select_action` is what the training rollout calls; `memory_policy` wraps
trained parameters as the `MemoryPolicy` that evaluation plays
(`arena eval trials`). The memory is cleared where `reset` is set before the
step's observation is read: at an episode's first step in play, at every
trial's first step for the memory-reset control.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from agents.ada.networks import Memory, Networks, Params
from games.xland.trials import Observation


class ActorOutput(NamedTuple):
  """What the learner needs of each step besides the action."""
  log_prob: jax.Array  # [B] float32: log-probability of the action taken
  value: jax.Array  # [B] float32: the value estimate before the step


class MemoryPolicy(NamedTuple):
  """A policy with memory over a batch of B environments.

  init(batch) -> memory.
  step(memory, obs, reset, key) -> (action [B] int32, memory): obs leaves
    [B, ...], reset [B] bool clears those environments' memories first.
  """
  init: Callable[[int], Memory]
  step: Callable[[Memory, Observation, jax.Array, jax.Array],
                 tuple[jax.Array, Memory]]


def select_action(networks: Networks, params: Params, memory: Memory,
                  obs: Observation, reset: jax.Array, key: jax.Array,
                  greedy: bool = False
                  ) -> tuple[jax.Array, ActorOutput, Memory]:
  """Samples (or with `greedy`, takes the most likely) action.

  Args:
    networks: the agent's network.
    params: its parameters.
    memory: the memory of B environments.
    obs: leaves [B, ...].
    reset: [B] bool, memories to clear before this step.
    key: consumed.
    greedy: the argmax action instead of a sample.

  Returns:
    (action [B] int32, ActorOutput, the memory after the step).
  """
  logits, value, memory = networks.step(params, obs, reset, memory)
  if greedy:
    action = jnp.argmax(logits, axis=-1)
  else:
    action = jax.random.categorical(key, logits)
  action = action.astype(jnp.int32)
  log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None],
                                 axis=-1)[:, 0]
  return action, ActorOutput(log_prob=log_prob, value=value), memory


def memory_policy(networks: Networks, params: Params,
                  greedy: bool = False) -> MemoryPolicy:
  """`params` as a `MemoryPolicy` (sampling unless `greedy`)."""

  def step(memory: Memory, obs: Observation, reset: jax.Array,
           key: jax.Array) -> tuple[jax.Array, Memory]:
    action, _, memory = select_action(networks, params, memory, obs, reset,
                                      key, greedy)
    return action, memory

  return MemoryPolicy(init=networks.initial_memory, step=step)

