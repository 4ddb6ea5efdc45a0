"""An AdA-style memory agent (Adaptive Agent team 2023, "Human-Timescale
Adaptation in an Open-Ended Task Space", arXiv:2301.07608) on
XLand-MiniGrid.

Registered with the agent registry as the experiment type `AdaExperiment`,
trained by the Anakin driver's task mode (`selfplay.task_mode`): episodes of
K trials of one task, the memory (a Transformer-XL, or a GRU baseline) kept
across trials, tasks chosen by a curriculum.
"""

from agents.ada.actor import MemoryPolicy, memory_policy, select_action
from agents.ada.config import (AdaConfig, AdaExperiment, NetworkConfig,
                               TasksConfig, TrialsEvalConfig)
from agents.ada.learner import AdaAgent, make_agent
from agents.core import registry as _registry

__all__ = ["AdaAgent", "AdaConfig", "AdaExperiment", "MemoryPolicy",
           "NetworkConfig", "TasksConfig", "TrialsEvalConfig", "build",
           "make_agent", "memory_policy", "select_action"]


def build(config: AdaExperiment):
  """The task environment (training pool and held-out tasks, generated from
  `config.tasks`) and the agent."""
  from games import xland  # pylint: disable=g-import-not-at-top
  from games.xland.env import XLandTrials  # pylint: disable=g-import-not-at-top
  tasks = config.tasks
  train = xland.generate(tasks.generator, tasks.num_train, tasks.seed,
                         split="train")
  test = xland.generate(tasks.generator, tasks.num_test, tasks.seed,
                        split="test")
  return XLandTrials(config.trials, train, test), make_agent(config)


_registry.register(_registry.AgentType(
    name="ada", experiment=AdaExperiment, driver="anakin", build=build))
