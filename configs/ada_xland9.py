"""AdA on XLand-MiniGrid R1-9x9: the suite's AdA recipe.

Episodes of 4 trials of 64 steps; single-rule tasks: the goal (hold or be
next to an object) needs an object that one hidden rule makes when the agent
picks up or stands next to (on a given side of) another, among 2 distractor
objects and a distractor rule; a 100,000-task training pool, drawn by robust
PLR with the learnability score; a 2-layer Transformer-XL memory over 64
steps. `--set agent.network.memory=gru` is the GRU baseline. The choices
and their sources are in `benchmarks/ada_results.md`. Agents trained on it
solve most tasks in trial 1 and do not adapt across trials; the setting in
which the bundled `ada-xland9` learned to is `configs/ada_xland9_search.py`.
"""

from agents.ada.config import (AdaConfig, AdaExperiment, NetworkConfig,
                               TasksConfig, TrialsEvalConfig)
from agents.core.experiment import CurriculumConfig, RunConfig
from games.xland.tasks import TaskConfig
from games.xland.trials import TrialsConfig


def get_config() -> AdaExperiment:
  return AdaExperiment(
      trials=TrialsConfig(layout="R1-9x9", num_trials=4, steps_per_trial=64),
      tasks=TasksConfig(
          generator=TaskConfig(
              depth=1, num_distractor_rules=1, num_distractor_objects=2,
              layout="R1-9x9",
              goal_ids=(1, 3),  # agent_hold, agent_near
              # agent_hold, agent_near and its four sided variants
              rule_ids=(1, 2, 8, 9, 10, 11)),
          num_train=100_000, num_test=1_000),
      curriculum=CurriculumConfig(kind="plr", score="learnability"),
      agent=AdaConfig(network=NetworkConfig(memory="transformer"),
                      batch_size=256, unroll_length=64, epochs=2),
      run=RunConfig(num_steps=100_000, steps_per_call=1, log_every=25,
                    checkpoint_every=250, checkpoint_every_s=300.0),
      evaluation=TrialsEvalConfig(every=250, num_tasks=256),
  )
