"""DeepNash on small Stratego: the recipe that met the two-hour targets.

One command, two phases (`arena train stratego_small_deepnash`):
1. Imitation warm start (`selfplay.warm_start`): 3,000 supervised steps
   cloning the heuristic bot, its value learnt under material shaping 1.0.
2. R-NaD self-play from the clone, with the all-actions softmax policy
   gradient as the policy loss (`agent.policy.loss`), material shaping 3.0
   and a slow test-time average of the parameters.

The run stops after two hours of wall time, the warm start included
(`run.time_limit_s`); `arena train --resume RUN_DIR` continues it. Everything
else is `stratego_small_rnad`'s. What each setting gave, with the commands and
the tournaments that measured it: `benchmarks/stratego_small_results.md`.
"""

import dataclasses

from configs import stratego_small_rnad


def get_config():
  base = stratego_small_rnad.get_config()
  return dataclasses.replace(
      base,
      agent=dataclasses.replace(
          base.agent,
          learning_rate=3e-4,
          c_vtrace=0.9,
          test_policy_avg=0.0005,
          policy=dataclasses.replace(base.agent.policy, loss="softmax_pg",
                                     neurd_beta=10.0),
          network=dataclasses.replace(base.agent.network, channels=32,
                                      num_blocks=2)),
      run=dataclasses.replace(base.run, time_limit_s=7200.0,
                              keep_checkpoints=30),
      evaluation=dataclasses.replace(base.evaluation,
                                     modes=("sample", "greedy")),
      league=dataclasses.replace(base.league, reward_shaping=3.0),
      warm_start=dataclasses.replace(
          base.warm_start, steps=3000, reward_shaping=1.0),
  )
