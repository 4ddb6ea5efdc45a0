"""Warm start by imitation: clone a bot's play before self-play begins.

Self-play from a random network spends much of a short run finding out what
any sensible player knows (keep the Flag covered, do not throw pieces at
Bombs). A supervised phase first, as AlphaStar was first trained on human
games before reinforcement learning (Vinyals et al. 2019, "Grandmaster level
in StarCraft II using multi-agent reinforcement learning", Nature 575), hands
R-NaD a policy that already plays: the clone becomes the network, the target
network and both regularisation policies, so the first regularisation
iterations improve on it instead of starting from uniform play.

Data: games of the bot against itself, played in JAX (`selfplay.rollout`);
each move is replaced with probability `epsilon` by a uniformly random legal
one, so that the network also sees positions off the bot's own path, and
every decision is labelled with the bot's choice. Loss: the agent's
`imitation_loss` (R-NaD's, `agents.rnad.imitation`: cross-entropy of the
network's legal policy to the label, plus `value_weight` times the squared
error of the value to the mover's final return). Each step plays a fresh
batch, so the clone never sees a game twice.

Each step is the shared learner's update (`agents.core.make_update`): the
games are played inside it and split over the same device mesh as the
self-play that follows (`warm_start.batch_size` must divide over it), so
the same config runs on one CPU or on several accelerators.

The warm start runs once, at the start of a new run (`selfplay.anakin.train`),
and its result is checkpointed as step 0; its cost counts in the run's
`elapsed_s`.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import chex
import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

import games
from agents.core import TrainState
from agents.core import learner as learner_lib
from agents.core import sharding
from agents.core.experiment import WarmStartConfig
from agents.core.types import Metrics, PolicyFn, Trajectory
from games.api import Game
from selfplay import signals
from selfplay.rollout import rollout


def labelled_bot(game: Game, bot: str, epsilon: float) -> PolicyFn:
  """A batch policy that plays `bot`, or with probability `epsilon` a random
  legal move, and reports the bot's choice as a one-hot "policy" (the label).

  Raises:
    ValueError: for a bot `game` does not have.
  """
  bot_fn = jax.vmap(games.bot_policy(game, bot))

  def policy_fn(obs, legal, key):
    bot_key, explore_key, random_key = jax.random.split(key, 3)
    batch = obs.shape[0]
    label = bot_fn(obs, legal, jax.random.split(bot_key, batch))
    uniform = jax.random.categorical(
        random_key, jnp.where(legal, 0.0, -jnp.inf)).astype(jnp.int32)
    explore = jax.random.bernoulli(explore_key, epsilon, (batch,))
    action = jnp.where(explore, uniform, label)
    return action, jax.nn.one_hot(label, legal.shape[-1])

  return policy_fn


def make_update(game: Game, agent: Any, config: WarmStartConfig,
                mesh: Mesh, shaping: float = 0.0
                ) -> tuple[optax.GradientTransformation, Callable]:
  """The optimizer and the shared learner's update (`agents.core.make_update`)
  that plays one labelled batch, sharded over `mesh`, and takes one step:
  `update(state) -> (state, metrics)` on a `TrainState` whose params are the
  networks'. `shaping` is the self-play's reward shaping (`selfplay.rollout`),
  so the cloned value means what the self-play's does."""
  optimizer = optax.adam(config.learning_rate)
  policy_fn = labelled_bot(game, config.bot, config.epsilon)

  def batch_fn(state: TrainState, key: jax.Array) -> Trajectory:
    del state
    return rollout(game, policy_fn, key, config.batch_size,
                   game.max_episode_length, shaping=shaping)

  def loss_fn(params, state, traj, key):
    del state, key
    return agent.imitation_loss(params, traj, config.value_weight)

  return optimizer, learner_lib.make_update(
      loss_fn, optimizer, mesh, batch_fn=batch_fn, batch_axis=1)


def warm_start(game: Game, agent: Any, state: TrainState,
               config: WarmStartConfig, *, mesh: Mesh | None = None,
               shaping: float = 0.0,
               should_stop: Callable[[], bool] = lambda: False,
               report: Callable[[int, Metrics], None] | None = None
               ) -> tuple[TrainState, Metrics]:
  """Clones `config.bot` into `state`'s networks.

  Args:
    game: the game (static).
    agent: the agent, with `imitation_loss(params, traj, value_weight)` and
      `from_clone(state, params)` (see `agents.core.registry`).
    state: a fresh training state (step 0).
    config: the warm start's settings; `config.steps` > 0.
    mesh: the devices the games and the update are sharded over, as in
      self-play (default: every device); `config.batch_size` must divide
      over them.
    shaping: as `RunConfig.reward_shaping`.
    should_stop: polled between steps; True ends the warm start early.
    report: called every `config.log_every` steps with the latest metrics.

  Returns:
    `(state, metrics)`: `state` with the clone as its parameters, target and
    regularisation parameters (and test-time average) and a fresh optimizer
    state; the last step's metrics plus `steps` and `seconds`.

  Raises:
    ValueError: `config.batch_size` does not divide over `mesh`.
  """
  chex.assert_equal(int(jax.device_get(state.step)), 0)
  mesh = mesh if mesh is not None else sharding.make_mesh()
  sharding.check_batch_size(config.batch_size, mesh)
  optimizer, update = make_update(game, agent, config, mesh, shaping)
  clone = learner_lib.replicate(learner_lib.init_train_state(
      state.params, optimizer, jax.random.fold_in(state.key, 0x5EED)), mesh)
  start = time.monotonic()
  metrics: Metrics = {}
  done = 0
  while done < config.steps and not should_stop():
    if done == 0:  # compiles first: a stop request need not wait for it
      finished, out = signals.call_until_stopped(
          lambda c=clone: jax.block_until_ready(update(c)), should_stop)
      if not finished:
        break
      clone, metrics = out
    else:
      clone, metrics = update(clone)
      # Wait for the step: with asynchronous dispatch the loop would
      # otherwise queue up to `log_every` steps, and a stop request would
      # wait for them.
      jax.block_until_ready(metrics)
    done += 1
    if report is not None and (done % config.log_every == 0
                               or done == config.steps):
      report(done, jax.device_get(metrics))
  if not done:
    return state, {"steps": 0, "seconds": time.monotonic() - start}
  metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
  metrics.update(steps=done, seconds=time.monotonic() - start)
  return agent.from_clone(state, jax.device_get(clone.params)), metrics
