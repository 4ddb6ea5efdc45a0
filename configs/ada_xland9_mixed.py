"""AdA on XLand-MiniGrid R1-9x9, the mixed task space: where a curriculum pays.

The setting of the curricula comparison in `benchmarks/ada_results.md`
("A task space where most tasks teach nothing"): every goal kind and every
production-rule kind of XLand-MiniGrid (11 of each, including the ones that
need an object carried next to another), each task's chain depth drawn from
0, 1 or 2 (`TaskConfig.min_depth`, as XLand-MiniGrid's benchmarks sample the
depth of their rule trees; Nikulin et al. 2023, https://arxiv.org/abs/
2312.12044, sec. 3), 3 distractor objects and 1 distractor rule, episodes of
4 trials of 32 steps in a new world each trial. From scratch, most of these
tasks are out of reach: a GRU agent with uniform sampling stalls near 10%
held-out success, the regime of XLand-MiniGrid's hardest published set
(uniform 10.7%, PLR 19.4%) in which prioritised level replay is reported
to help. `curriculum.kind` picks uniform sampling, AdA's no-op filter or
robust PLR (this config: PLR, with the learnability score of "No Regrets",
Rutherford et al. 2024, and JaxUED's defaults). The GRU memory: the
comparison's 9 runs fit two CPU cores.
"""

import dataclasses

from agents.ada.config import AdaExperiment
from configs import ada_xland9
from games.xland import encoding as enc


def get_config() -> AdaExperiment:
  base = ada_xland9.get_config()
  return dataclasses.replace(
      base,
      trials=dataclasses.replace(base.trials, steps_per_trial=32),
      tasks=dataclasses.replace(base.tasks, generator=dataclasses.replace(
          base.tasks.generator, depth=2, min_depth=0,
          goal_ids=enc.SUPPORTED_GOAL_IDS, rule_ids=enc.SUPPORTED_RULE_IDS,
          num_distractor_objects=3, num_distractor_rules=1)),
      agent=dataclasses.replace(
          base.agent,
          network=dataclasses.replace(base.agent.network, memory="gru")),
  )
