"""DeepNash (R-NaD) self-play on small Stratego (6x6), sized for a 2-core CPU.

Deployment is a phase of the game, so the network's deployment head learns
where to place the pieces, as in DeepNash. Games are capped at 200 moves
(random play ends in about 90). On two cores the learner, not the game, is
the cost, so the network is small and cheap: a 1x1 stem (the 3x3 stem over
all 53 observation planes took most of the time) and one residual block; the
learner runs it only on the steps before games end (`compute_fraction`).
Together they halve a learner step's time on one core (measured:
`benchmarks/stratego_small_results.md`, section "The options these runs
use"). One learner step per compiled call: see
`agents.core.make_update(unroll=...)`.

Batches of 8 games, not 32: a learner step costs about in proportion to its
games (measured: `benchmarks/stratego_small_results.md`, section "Measured
timings quoted by the code"), so the same games give four times the updates, and
the batch-8 run matched the batch-32 run's 2-hour evaluation (0.66 against
random, 0.19 against the heuristic) within half an hour. Half the batch's steps
are computed (`compute_fraction` 0.5; random-ish self-play games last about 80
of the 224 steps). Games that do not fit are left out of the update
(`games_dropped`): 10% to 13% of them once self-play games reach about 110
plies; computing 75% keeps them all but did not play better at two hours
(`benchmarks/stratego_small_results.md`, "Every self-play game in its update").
The regularisation iterations are counted in learner steps, so they are four
times as many steps as at batch 32 (the same games per iteration).

With only some thousands of learner steps in a two-hour run there are few
regularisation iterations, so the regulariser is weaker than DeepNash's
(eta 0.05, not 0.2): the regularisation reward summed over a game's ~50 own
moves otherwise outweighs the +-1 result and each iteration moves the policy
little.
"""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.rnad.config import NetworkConfig, RNaDConfig, RNaDExperiment
from games.stratego import StrategoParams


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="stratego", params=StrategoParams(
          variant="small", deployment="phase", max_plies=200)),
      agent=RNaDConfig(
          batch_size=8,
          learning_rate=1e-3,
          target_network_avg=0.01,
          eta_reward_transform=0.05,
          compute_fraction=0.5,
          entropy_schedule_sizes=(800, 2000),
          entropy_schedule_repeats=(5, 1),
          network=NetworkConfig(kind="deepnash", channels=16, stem_kernel=1,
                                num_blocks=1, value_hidden=64),
      ),
      run=RunConfig(num_steps=400_000, steps_per_call=1, log_every=80,
                    checkpoint_every=800, checkpoint_every_s=300.0),
      evaluation=EvalConfig(every=400, games=64,
                            opponents=("random", "heuristic")),
  )
