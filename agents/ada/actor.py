"""The AdA agent acting: one step of the memory policy, pure.

`select_action` is what the training rollout calls; `memory_policy` wraps
trained parameters as the `MemoryPolicy` that evaluation plays
(`arena eval trials`). The memory is cleared where `reset` is set before the
step's observation is read: at an episode's first step in play, at every
trial's first step for the memory-reset control.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents.ada.networks import Memory, Networks, Params
from games.xland.play import MemoryPolicy
from games.xland.trials import Observation


class ActorOutput(NamedTuple):
  """What the learner needs of each step besides the action."""
  log_prob: jax.Array  # [B] float32: log-probability of the action taken
  value: jax.Array  # [B] float32: the value estimate before the step


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


@dataclasses.dataclass(frozen=True)
class _PolicyStep:
  """`MemoryPolicy.step` of the network, its parameters an input (a value:
  the same network and mode compare equal, so evaluation compiles once)."""
  networks: Networks
  greedy: bool

  def __call__(self, params: Params, memory: Memory, obs: Observation,
               reset: jax.Array, key: jax.Array) -> tuple[jax.Array, Memory]:
    action, _, memory = select_action(self.networks, params, memory, obs,
                                      reset, key, self.greedy)
    return action, memory


def memory_policy(networks: Networks, params: Params,
                  greedy: bool = False) -> MemoryPolicy:
  """`params` as a `MemoryPolicy` (sampling unless `greedy`)."""
  return MemoryPolicy(init=networks.initial_memory,
                      step=_PolicyStep(networks, greedy), params=params)

