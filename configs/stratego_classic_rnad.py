"""DeepNash (R-NaD) self-play on classic Stratego (10x10, 40 pieces a side).

The full game: deployment is a phase (40 placements a player) played by the
network's deployment head, then up to 2,000 moves (random play takes about
930 on average, 90th percentile near 2,000). A learner step here
is long on a CPU (8 games of up to 2,080 decisions), so the network is the
small config's (16 channels, one block, 1x1 stem), run on 60% of the
batch's steps (`compute_fraction`), with the small config's learning rate
and eta: a learner step costs far less than with the previous 32-channel,
two-block, 3x3-stem network on every step (measured:
`benchmarks/stratego_results.md`, section "Measured timings quoted by the
code"). On an accelerator raise `agent.batch_size` and the network
(DeepNash itself used far larger ones) with `--set`.
"""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.rnad.config import NetworkConfig, RNaDConfig, RNaDExperiment
from games.stratego import StrategoParams


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="stratego", params=StrategoParams(
          variant="classic", deployment="phase", max_plies=2_000)),
      agent=RNaDConfig(
          batch_size=8,
          learning_rate=1e-3,
          target_network_avg=0.01,
          eta_reward_transform=0.05,
          entropy_schedule_sizes=(100, 500),
          entropy_schedule_repeats=(5, 1),
          compute_fraction=0.6,
          network=NetworkConfig(kind="deepnash", channels=16, stem_kernel=1,
                                num_blocks=1, value_hidden=64),
      ),
      run=RunConfig(num_steps=100_000, steps_per_call=1, log_every=5,
                    checkpoint_every=50, checkpoint_every_s=600.0),
      evaluation=EvalConfig(every=40, games=64,
                            opponents=("random", "heuristic")),
  )
