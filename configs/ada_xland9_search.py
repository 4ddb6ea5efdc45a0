"""AdA on XLand-MiniGrid R1-9x9, the search setting: the bundled `ada-xland9`.

The setting in which this suite's memory agent learned to adapt across
trials (`benchmarks/ada_results.md`, from "gru_four_same_s0" on): the
recipe's single-rule tasks (`configs/ada_xland9.py`: goal "hold" or "be next
to" an object that one hidden rule makes) among 3 distractor objects and no
distractor rules, so that four objects are candidates for the hidden rule;
episodes of 6 trials of 16 steps (one try fits in a trial, two rarely); the
world reset to its initial state at each trial (`same_world`, as in AdA),
so that a failed candidate is worth remembering; uniform sampling of the
100,000-task training pool; the GRU memory, which reached it first on two
CPU cores.

The entropy bonus is the one choice that is not fixed for a whole run: at
0.02 the agent learns to retry after one failure and then gives up (a
uniform policy where the critic expects nothing), at 0.005 it searches on
(`benchmarks/ada_results.md`, "A smaller entropy bonus"). The bundled
network was trained with 0.02 first and then continued at smaller bonuses
with `--init-from`; its `SOURCE.md` names every stage.
"""

import dataclasses

from agents.ada.config import AdaExperiment
from configs import ada_xland9


def get_config() -> AdaExperiment:
  base = ada_xland9.get_config()
  return dataclasses.replace(
      base,
      trials=dataclasses.replace(base.trials, num_trials=6,
                                 steps_per_trial=16, same_world=True),
      tasks=dataclasses.replace(base.tasks, generator=dataclasses.replace(
          base.tasks.generator, num_distractor_objects=3,
          num_distractor_rules=0)),
      curriculum=dataclasses.replace(base.curriculum, kind="uniform"),
      agent=dataclasses.replace(
          base.agent, entropy_cost=0.02,
          network=dataclasses.replace(base.agent.network, memory="gru")),
  )
