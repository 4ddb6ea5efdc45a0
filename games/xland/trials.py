"""AdA's multi-trial episodes on XLand-MiniGrid, as pure JAX functions.

In AdA (Adaptive Agent team 2023, "Human-Timescale Adaptation in an
Open-Ended Task Space", https://arxiv.org/abs/2301.07608) an agent
with memory plays an episode of K trials of one task: the same world and the
same hidden rules, the world reset at each trial, the agent's memory kept.
It is judged by how its success rises from trial 1 to trial K.

A trial is one XLand-MiniGrid episode (Nikulin et al. 2023,
https://arxiv.org/abs/2312.12044): xminigrid's actions, rules, goal check,
reward (`1 - 0.9 * t / T` on reaching the goal at step t of T, else 0) and
view, driven by its own functions (`xminigrid.core`). A trial ends when the
goal is reached (success) or after `trial_length` steps; the world is then
placed anew (xminigrid's reset of the layout with the same task: objects and
agent at random free cells, from `fold_in(episode key, trial index)`), or,
with `same_world`, put back as the episode's first trial found it (AdA's
reset to the initial state); after K trials the episode is over. All of it
happens inside `step`, so a batch of environments runs in one jitted
`vmap`/`scan` with no host round trip.

The agent observes the goal but not the rules (as AdA's agents do), its view,
the previous action and reward, and where it stands in the episode (see
`Observation`).

After the K-th trial the state is absorbing: `step` returns it unchanged
with zero reward and no flags, as `games.api` games do after the end. To go
on, the caller starts a new episode with `init`, or passes `next_task` and
`next_key` to `step`, which then starts the new episode on the step that
ends the old one (one world reset per step serves both, so this is cheaper
than a separate `init` under `vmap`).

Usage (a batch of B environments with their own tasks):

  config = TrialsConfig(layout="R1-9x9", num_trials=4)
  tasks = tasks_of(task_set, config)                 # leaves [N, ...]
  state = jax.vmap(init, in_axes=(0, None, 0))(keys, config, task_at(tasks, idx))
  step_fn = jax.vmap(functools.partial(step, config=config))
  state, out = step_fn(state, actions)               # actions [B] int32
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import xminigrid
from xminigrid.core.actions import take_action
from xminigrid.core.goals import check_goal
from xminigrid.core.observation import transparent_field_of_view
from xminigrid.core.rules import check_rule
from xminigrid.types import AgentState, RuleSet
from xminigrid.types import State as World

from games.xland import encoding as enc
from games.xland.tasks import TaskSet

# xminigrid's actions: 0 forward, 1 turn clockwise, 2 turn counterclockwise,
# 3 pick up, 4 put down, 5 toggle.
NUM_ACTIONS = 6
# `prev_action` where there is none (an episode's first step): out of the
# action range, so `jax.nn.one_hot(NO_ACTION, NUM_ACTIONS)` is all zeros and
# an embedding table of NUM_ACTIONS + 1 rows gives it a row of its own.
NO_ACTION = NUM_ACTIONS
# A view cell is (tile, colour), xminigrid's two grid layers.
NUM_VIEW_LAYERS = 2


@dataclasses.dataclass(frozen=True)
class TrialsConfig:
  """What episodes to play.

  Attributes:
    layout: xminigrid's layout, e.g. "R1-9x9" (`encoding.LAYOUTS`).
    num_trials: trials K per episode.
    steps_per_trial: the step limit of a trial; None: xminigrid's own limit
      for the layout (3 * height * width, 243 on 9x9). See `trial_length`.
    view_size: side of the agent's square view (odd; xminigrid's XLand
      default is 5).
    same_world: every trial starts from the episode's first placement of
      objects and agent, as AdA's trials reset the world to its initial
      state; False: each trial is placed anew (`fold_in(key, trial)`), as
      XLand-MiniGrid's meta-RL baselines reset it.
  """
  layout: str = "R1-9x9"
  num_trials: int = 4
  steps_per_trial: int | None = None
  view_size: int = 5
  same_world: bool = False

  def __post_init__(self):
    enc.env_id(self.layout)  # raises on an unknown layout
    if not _is_int(self.num_trials) or self.num_trials < 1:
      raise ValueError(
          f"num_trials must be an integer >= 1, got {self.num_trials!r}")
    if self.steps_per_trial is not None and (
        not _is_int(self.steps_per_trial) or self.steps_per_trial < 1):
      raise ValueError(f"steps_per_trial must be None (xminigrid's limit) "
                       f"or an integer >= 1, got {self.steps_per_trial!r}")
    if (not _is_int(self.view_size) or self.view_size < 3 or
        self.view_size % 2 == 0):
      raise ValueError(
          f"view_size must be an odd integer >= 3, got {self.view_size!r}")
    if not isinstance(self.same_world, (bool, np.bool_)):
      raise ValueError(
          f"same_world must be true or false, got {self.same_world!r}")

  @property
  def trial_length(self) -> int:
    """The step limit T of a trial (`steps_per_trial` resolved)."""
    if self.steps_per_trial is not None:
      return int(self.steps_per_trial)
    return int(_default_params(self.layout).max_steps)

  @property
  def max_episode_length(self) -> int:
    """Steps in an episode at most: K * T."""
    return self.num_trials * self.trial_length

  @property
  def view_shape(self) -> tuple[int, int, int]:
    return (self.view_size, self.view_size, NUM_VIEW_LAYERS)


def _is_int(value: Any) -> bool:
  return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class Task(NamedTuple):
  """One task (ruleset) as arrays, in xminigrid's encoding; a batch of tasks
  has a leading axis on every leaf."""
  goal: jax.Array        # [5] uint8
  rules: jax.Array       # [R, 7] uint8, id-0 rows are padding
  init_tiles: jax.Array  # [O, 2] uint8, (0, 0) rows are padding


class Observation(NamedTuple):
  """What the agent sees before each step."""
  view: jax.Array           # [V, V, 2] uint8: xminigrid's view, (tile, colour)
  goal: jax.Array           # [5] uint8: the goal's encoding (not the rules)
  pocket: jax.Array         # [2] uint8: the object held, (0, 0) if none
  prev_action: jax.Array    # [] int32: last step's action; NO_ACTION at an
                            # episode's start
  prev_reward: jax.Array    # [] float32: last step's reward; 0 at an
                            # episode's start
  trial: jax.Array          # [] int32: index of the current trial, 0..K-1
  trial_start: jax.Array    # [] bool: first step of a trial
  episode_start: jax.Array  # [] bool: first step of an episode


class TrialsState(NamedTuple):
  """An episode in play."""
  world: World              # xminigrid's state of the current trial: grid,
                            # agent, step_num (steps in this trial), goal
                            # and rule encodings
  init_tiles: jax.Array     # [O, 2] uint8: the task's objects, placed anew
                            # at each trial
  key: chex.PRNGKey         # the episode's key: trial t is placed from
                            # fold_in(key, t)
  trial: jax.Array          # [] int32: index of the current trial, 0..K-1
  trial_return: jax.Array   # [] float32: reward so far in this trial
  done: jax.Array           # [] bool: the K-th trial is over (absorbing)
  observation: Observation  # the agent's input before the next step


class StepOutput(NamedTuple):
  """What one `step` gives besides the next state (for learners and
  evaluators). `trial*` fields describe the trial the step was played in."""
  reward: jax.Array        # [] float32: xminigrid's reward
  success: jax.Array       # [] bool: the trial ended with the goal reached
  trial_done: jax.Array    # [] bool: the trial ended (goal or step limit)
  episode_done: jax.Array  # [] bool: the K-th trial ended (set once)
  trial: jax.Array         # [] int32: index of the step's trial
  trial_return: jax.Array  # [] float32: its return so far, including this
                           # step (the trial's return when trial_done)
  trial_length: jax.Array  # [] int32: its steps so far, including this one
  held: jax.Array          # [2] uint8: the object held after the step's
                           # action and rules, (0, 0) if none (before the
                           # world of a new trial is placed)


def tasks_of(task_set: TaskSet, config: TrialsConfig | None = None) -> Task:
  """All tasks of `task_set` as device arrays, leaves [N, ...] uint8.

  Args:
    task_set: the tasks (`games.xland.generate`, or loaded from disk).
    config: if given, checks that the tasks are for its layout and that
      their objects fit it (xminigrid cannot place more objects than there
      are free cells).

  Raises:
    ValueError: the tasks do not fit `config`'s layout.
  """
  enc.check_encodings(np.asarray(task_set.goals), np.asarray(task_set.rules),
                      np.asarray(task_set.init_tiles),
                      np.asarray(task_set.num_rules))
  if config is not None:
    if task_set.layout is not None and task_set.layout != config.layout:
      raise ValueError(f"the task set is for layout {task_set.layout}, the "
                       f"config's layout is {config.layout}")
    objects = int((np.asarray(task_set.init_tiles)[..., 0] > 0).sum(1).max())
    room = enc.LAYOUT_FREE_CELLS[config.layout] - 1  # one for the agent
    if objects > room:
      raise ValueError(f"a task has {objects} objects; layout "
                       f"{config.layout} has room for {room}")
  return Task(goal=jnp.asarray(task_set.goals, jnp.uint8),
              rules=jnp.asarray(task_set.rules, jnp.uint8),
              init_tiles=jnp.asarray(task_set.init_tiles, jnp.uint8))


def task_at(tasks: Task, index: jax.Array | int) -> Task:
  """Task(s) `index` ([] or [B] int) of a batch of tasks (leaves [N, ...])."""
  return jax.tree.map(lambda x: x[index], tasks)


def observation_spec(config: TrialsConfig) -> Observation:
  """The `Observation` of one environment as `jax.ShapeDtypeStruct`s (for
  building networks)."""
  spec = jax.ShapeDtypeStruct
  scalar = lambda dtype: spec((), dtype)
  return Observation(
      view=spec(config.view_shape, jnp.uint8),
      goal=spec((enc.GOAL_LEN,), jnp.uint8), pocket=spec((2,), jnp.uint8),
      prev_action=scalar(jnp.int32), prev_reward=scalar(jnp.float32),
      trial=scalar(jnp.int32), trial_start=scalar(jnp.bool_),
      episode_start=scalar(jnp.bool_))


@functools.cache
def _default_params(layout: str):
  """xminigrid's params for `layout` (static: built once per layout)."""
  return xminigrid.make(enc.env_id(layout))[1]


@functools.cache
def _env_and_params(config: TrialsConfig):
  env, params = xminigrid.make(enc.env_id(config.layout))
  return env, params.replace(view_size=config.view_size,
                             max_steps=config.trial_length)


def _place(config: TrialsConfig, key: chex.PRNGKey, goal: jax.Array,
           rules: jax.Array, init_tiles: jax.Array) -> World:
  """A fresh trial: xminigrid's reset of the layout with this task."""
  env, params = _env_and_params(config)
  params = params.replace(
      ruleset=RuleSet(goal=goal, rules=rules, init_tiles=init_tiles))
  # The reset's observation is never used, and compiled away.
  world = env.reset(params, key).state
  return _canonical(world)


def _canonical(world: World) -> World:
  """Fixed dtypes (xminigrid's are partly weak), so that a fresh world and a
  stepped one are the same pytree type (for `where` and `scan` carries)."""
  agent = world.agent
  return world.replace(
      step_num=jnp.asarray(world.step_num, jnp.int32),
      grid=jnp.asarray(world.grid, jnp.uint8),
      agent=AgentState(position=jnp.asarray(agent.position, jnp.int32),
                       direction=jnp.asarray(agent.direction, jnp.int32),
                       pocket=jnp.asarray(agent.pocket, jnp.uint8)),
      goal_encoding=jnp.asarray(world.goal_encoding, jnp.uint8),
      rule_encoding=jnp.asarray(world.rule_encoding, jnp.uint8))


def _view(config: TrialsConfig, world: World) -> jax.Array:
  return transparent_field_of_view(world.grid, world.agent, config.view_size,
                                   config.view_size)


def _where(condition: jax.Array, a: Any, b: Any) -> Any:
  return jax.tree.map(lambda x, y: jnp.where(condition, x, y), a, b)


def init(key: chex.PRNGKey, config: TrialsConfig, task: Task) -> TrialsState:
  """The first trial of an episode of `task`.

  Args:
    key: the episode's key (kept in the state: trial t is placed from
      `fold_in(key, t)`).
    config: static.
    task: one task (`Task` leaves unbatched; vmap for a batch).

  Returns:
    The state at the episode's start; its observation has `trial` 0, both
    start flags set, `prev_action` NO_ACTION and `prev_reward` 0.
  """
  chex.assert_shape(task.goal, (enc.GOAL_LEN,))
  chex.assert_rank([task.rules, task.init_tiles], 2)
  world = _place(config, jax.random.fold_in(key, 0), task.goal, task.rules,
                 task.init_tiles)
  zero_i, zero_f = jnp.zeros((), jnp.int32), jnp.zeros((), jnp.float32)
  yes = jnp.ones((), jnp.bool_)
  observation = Observation(
      view=_view(config, world), goal=world.goal_encoding,
      pocket=world.agent.pocket,
      prev_action=jnp.full((), NO_ACTION, jnp.int32), prev_reward=zero_f,
      trial=zero_i, trial_start=yes, episode_start=yes)
  return TrialsState(
      world=world, init_tiles=jnp.asarray(task.init_tiles, jnp.uint8),
      key=key, trial=zero_i, trial_return=zero_f,
      done=jnp.zeros((), jnp.bool_), observation=observation)


def step(state: TrialsState, action: jax.Array, config: TrialsConfig,
         next_task: Task | None = None,
         next_key: chex.PRNGKey | None = None
         ) -> tuple[TrialsState, StepOutput]:
  """Plays `action`; at a trial's end places the world anew (same task).

  Args:
    state: the episode.
    action: [] int, one of xminigrid's NUM_ACTIONS actions (others are
      clipped to 0..NUM_ACTIONS - 1).
    config: static.
    next_task: optional, with `next_key`: the task and key of the next
      episode. Where this step ends the episode, the returned state is then
      `init(next_key, config, next_task)` (the outputs still describe the
      ended episode); elsewhere they are unused. Without them the state
      after the episode's end is absorbing.
    next_key: see `next_task`.

  Returns:
    (next state, output). After a trial's end, the next state is the new
    trial's first (its observation has `trial_start`, and the previous
    action and reward of the step that ended the trial).

  Raises:
    TypeError: only one of `next_task` and `next_key` is given.
    ValueError: `next_task` is padded unlike this episode's task.
  """
  if (next_task is None) != (next_key is None):
    raise TypeError("give both next_task and next_key, or neither")
  if next_task is not None:
    now = (state.world.goal_encoding, state.world.rule_encoding,
           state.init_tiles)
    if [x.shape for x in now] != [jnp.shape(x) for x in next_task]:
      raise ValueError(
          f"next_task's shapes (goal, rules, init_tiles) "
          f"{[jnp.shape(x) for x in next_task]} differ from this episode's "
          f"{[x.shape for x in now]}; pad tasks alike (one TaskSet)")
  active = ~state.done
  # Out-of-range actions are clipped, as xminigrid's `lax.switch` would.
  action = jnp.clip(jnp.asarray(action, jnp.int32), 0, NUM_ACTIONS - 1)
  world, limit = state.world, config.trial_length

  # One xminigrid step (its `Environment.step` without the view, computed
  # once below for whichever world comes next).
  grid, agent, position = take_action(world.grid, world.agent, action)
  grid, agent = check_rule(world.rule_encoding, grid, agent, action, position)
  steps = world.step_num + 1
  success = check_goal(world.goal_encoding, grid, agent, action,
                       position) & active
  reward = jnp.where(success, 1.0 - 0.9 * (steps / limit), 0.0).astype(
      jnp.float32)
  trial_done = (success | (steps >= limit)) & active
  episode_done = trial_done & (state.trial + 1 >= config.num_trials)
  stepped = _canonical(world.replace(grid=grid, agent=agent, step_num=steps))

  # The next trial's world: the same task, or the next episode's.
  goal, rules, tiles = (world.goal_encoding, world.rule_encoding,
                        state.init_tiles)
  key, trial = state.key, state.trial + 1
  if next_task is None:
    new_episode = jnp.zeros((), jnp.bool_)
    restart = trial_done & ~episode_done
  else:
    new_episode = episode_done
    restart = trial_done
    goal, rules, tiles = _where(
        new_episode, (next_task.goal, next_task.rules, next_task.init_tiles),
        (goal, rules, tiles))
    key = jnp.where(new_episode, next_key, key)
    trial = jnp.where(new_episode, 0, trial)
  placement = 0 if config.same_world else trial
  fresh = _place(config, jax.random.fold_in(key, placement), goal, rules,
                 tiles)
  next_world = _where(restart, fresh, stepped)
  next_trial = jnp.where(restart, trial, state.trial)

  trial_return = state.trial_return + reward
  observation = Observation(
      view=_view(config, next_world), goal=next_world.goal_encoding,
      pocket=next_world.agent.pocket,
      prev_action=jnp.where(new_episode, NO_ACTION, action),
      prev_reward=jnp.where(new_episode, 0.0, reward),
      trial=next_trial, trial_start=restart, episode_start=new_episode)
  next_state = TrialsState(
      world=next_world, init_tiles=tiles, key=key, trial=next_trial,
      trial_return=jnp.where(trial_done, 0.0, trial_return),
      done=episode_done & ~new_episode, observation=observation)
  next_state = _where(active, next_state, state)
  output = StepOutput(
      reward=reward, success=success, trial_done=trial_done,
      episode_done=episode_done, trial=state.trial,
      trial_return=jnp.where(active, trial_return, 0.0),
      trial_length=jnp.where(active, steps, world.step_num),
      held=jnp.where(active, stepped.agent.pocket, world.agent.pocket))
  return next_state, output
