"""Type aliases shared by every agent and by the learner."""

from typing import Any, Callable, Mapping, NamedTuple

import chex
import jax

Params = chex.ArrayTree
Batch = chex.ArrayTree
Metrics = Mapping[str, jax.Array]
PRNGKey = chex.PRNGKey
# A loss: (params, train_state, batch, key) -> (scalar loss, metrics).
LossFn = Callable[[Params, Any, Batch, PRNGKey], tuple[jax.Array, Metrics]]

# A batch policy as self-play drivers call it:
# (obs [B, *O], legal [B, A], key) -> (action [B] int32, policy [B, A]).
PolicyFn = Callable[[jax.Array, jax.Array, PRNGKey],
                    tuple[jax.Array, jax.Array]]


class Trajectory(NamedTuple):
  """A batch of games, time-major, as a self-play driver records them."""

  obs: jax.Array  # [T, B, *O] float32, from the acting player's view
  legal: jax.Array  # [T, B, A] bool
  acting: jax.Array  # [T, B] int32, player to move
  valid: jax.Array  # [T, B] bool, a decision was taken (game not over)
  action: jax.Array  # [T, B] int32
  policy: jax.Array  # [T, B, A] float32, behaviour policy mu(. | x_t)
  rewards: jax.Array  # [T, B, P] float32, each player's reward after a_t
  # [T, B] bool, the decision was a fixed opponent's (a bot's); None: none was
  fixed: jax.Array | None = None


class Segment(NamedTuple):
  """T steps of B single-agent environments as a memory agent played them
  (`selfplay.trial_rollout`), batch-major: every leaf's first axis indexes
  environments, so the learner shards it."""

  obs: chex.ArrayTree  # leaves [B, T, ...]
  reset: jax.Array  # [B, T] bool: the memory was cleared before the step
  action: jax.Array  # [B, T] int32
  log_prob: jax.Array  # [B, T] float32: behaviour log-probability
  value: jax.Array  # [B, T] float32: behaviour value estimate
  reward: jax.Array  # [B, T] float32
  done: jax.Array  # [B, T] bool: the step ended an episode
  mask: jax.Array  # [B, T] bool: the step is trained on
  memory: chex.ArrayTree  # the memory at the segment's start, leaves [B, ...]
  bootstrap: jax.Array  # [B] float32: value estimate after the last step
