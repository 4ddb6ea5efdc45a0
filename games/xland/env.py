"""A pool of XLand-MiniGrid tasks played in episodes of K trials: the
environment the Anakin driver's task mode trains on (`games.api.TaskEnvironment`).
"""

from __future__ import annotations

import chex
import jax

from games.xland import trials
from games.xland.tasks import TaskSet


class XLandTrials:
  """`trials.init`/`step` over a pool of training tasks, with held-out tasks
  for evaluation. Task arrays live on the device; a task is chosen by its
  index in the pool.

  Attributes:
    config: the trials' settings.
    train_tasks: the pool, leaves [N, ...].
    test_tasks: held-out tasks, leaves [N_test, ...].
  """

  def __init__(self, config: trials.TrialsConfig, train: TaskSet,
               test: TaskSet):
    self.config = config
    self.train_tasks = trials.tasks_of(train, config)
    self.test_tasks = trials.tasks_of(test, config)
    if self.train_tasks.rules.shape[1:] != self.test_tasks.rules.shape[1:] or (
        self.train_tasks.init_tiles.shape[1:] !=
        self.test_tasks.init_tiles.shape[1:]):
      raise ValueError("the training and held-out tasks are padded "
                       "differently; generate them with one config")

  @property
  def num_tasks(self) -> int:
    return int(self.train_tasks.goal.shape[0])

  @property
  def num_actions(self) -> int:
    return trials.NUM_ACTIONS

  @property
  def num_trials(self) -> int:
    return self.config.num_trials

  def task(self, index: jax.Array) -> trials.Task:
    """Training task(s) `index` ([] or [B] int)."""
    return trials.task_at(self.train_tasks, index)

  def init(self, key: chex.PRNGKey, task: trials.Task) -> trials.TrialsState:
    return trials.init(key, self.config, task)

  def step(self, state: trials.TrialsState, action: jax.Array,
           next_task: trials.Task, next_key: chex.PRNGKey
           ) -> tuple[trials.TrialsState, trials.StepOutput]:
    return trials.step(state, action, self.config, next_task, next_key)

  @staticmethod
  def observation(state: trials.TrialsState) -> trials.Observation:
    return state.observation
