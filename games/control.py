"""DeepMind Control Suite tasks through the dm-env interface.

A thin wrapper over `dm_control.suite` (Tassa et al. 2018, arXiv:1801.00690):
tasks are named "domain_task" (e.g. "cartpole_swingup", "walker_walk", or
"ball_in_cup_catch", whose domain holds an underscore), observations are
flattened into one float32 vector in the order of the task's `OrderedDict`,
and actions are float32 vectors within the task's bounds. No rendering: the
MuJoCo OpenGL backend is disabled unless `MUJOCO_GL` is already set.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, NamedTuple

import dm_env
import numpy as np

# dm_control picks an OpenGL backend at import; none is needed (or present on
# headless machines), so default to none. A user's own MUJOCO_GL is kept.
os.environ.setdefault("MUJOCO_GL", "disable")

from dm_control import suite  # pylint: disable=g-import-not-at-top  # noqa: E402


class ActionSpec(NamedTuple):
  """The bounds of a task's actions."""

  minimum: np.ndarray  # [A] float32
  maximum: np.ndarray  # [A] float32

  @property
  def shape(self) -> tuple[int, ...]:
    return self.minimum.shape


def available_tasks() -> tuple[str, ...]:
  """Every suite task as "domain_task", sorted."""
  return tuple(sorted(f"{d}_{t}" for d, t in suite.ALL_TASKS))


def split_task_name(name: str) -> tuple[str, str]:
  """("domain", "task") for a "domain_task" name.

  Raises:
    ValueError: for a name that is not a suite task, listing the valid ones.
  """
  for domain, task in suite.ALL_TASKS:
    if name == f"{domain}_{task}":
      return domain, task
  raise ValueError(f"Unknown control task {name!r}; available: "
                   f"{', '.join(available_tasks())}")


def flatten_observation(observation: Mapping[str, Any]) -> np.ndarray:
  """Concatenates the (raveled) entries of a suite observation. [O] float32."""
  return np.concatenate([np.asarray(v, np.float32).ravel()
                         for v in observation.values()])


class ControlEnv:
  """A suite task with flat float32 observations and bounded actions.

  `reset()` and `step(action)` return `dm_env.TimeStep`s whose observation is
  the flat vector; the raw `OrderedDict` is `raw_observation`. Suite episodes
  end by a time limit with discount 1 (not a terminal state), so learners
  bootstrap through the last step.
  """

  def __init__(self, name: str, seed: int | None = None):
    domain, task = split_task_name(name)
    self.name = name
    self._env = suite.load(domain, task, task_kwargs={"random": seed})
    spec = self._env.action_spec()
    self.action_spec = ActionSpec(
        minimum=np.broadcast_to(spec.minimum, spec.shape).astype(np.float32),
        maximum=np.broadcast_to(spec.maximum, spec.shape).astype(np.float32))
    self.observation_size = int(sum(
        int(np.prod(s.shape)) for s in self._env.observation_spec().values()))
    self.raw_observation: Mapping[str, Any] | None = None

  def _flat(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    self.raw_observation = timestep.observation
    return timestep._replace(
        observation=flatten_observation(timestep.observation),
        reward=0.0 if timestep.reward is None else float(timestep.reward),
        discount=1.0 if timestep.discount is None else float(timestep.discount))

  def reset(self) -> dm_env.TimeStep:
    return self._flat(self._env.reset())

  def step(self, action: np.ndarray) -> dm_env.TimeStep:
    """Steps with `action` [A], clipped to the task's bounds."""
    action = np.clip(np.asarray(action, np.float64).reshape(
        self.action_spec.shape), self.action_spec.minimum,
                     self.action_spec.maximum)
    return self._flat(self._env.step(action))

  def close(self) -> None:
    self._env.close()


def make(name: str, seed: int | None = None) -> ControlEnv:
  """Loads the suite task `name` ("domain_task").

  Raises:
    ValueError: for an unknown task.
  """
  return ControlEnv(name, seed)


def specs(name: str) -> tuple[int, ActionSpec]:
  """(flat observation size, action bounds) of task `name`, without stepping."""
  env = make(name, seed=0)
  try:
    return env.observation_size, env.action_spec
  finally:
    env.close()
