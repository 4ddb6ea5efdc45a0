"""DeepNash (R-NaD) self-play on Barrage Stratego (10x10, 8 pieces a side).

Deployment is a phase of the game (8 placements a player), played by the
network's deployment head. Random play takes about 300 moves on average
(90th percentile near 700), and a learning agent ends games sooner, so games
are capped at 600 moves. Sized for a 2-core CPU: 24 channels, 2 residual
blocks, 16 games a learner step; on an accelerator raise `agent.batch_size`
and `agent.network.channels` with `--set`.
"""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.rnad.config import NetworkConfig, RNaDConfig, RNaDExperiment
from games.stratego import StrategoParams


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="stratego", params=StrategoParams(
          variant="barrage", deployment="phase", max_plies=600)),
      agent=RNaDConfig(
          batch_size=16,
          learning_rate=3e-4,
          target_network_avg=0.01,
          eta_reward_transform=0.2,
          entropy_schedule_sizes=(200, 1_000),
          entropy_schedule_repeats=(5, 1),
          network=NetworkConfig(kind="deepnash", channels=24, num_blocks=2,
                                value_hidden=64),
      ),
      run=RunConfig(num_steps=100_000, steps_per_call=1, log_every=10,
                    checkpoint_every=100, checkpoint_every_s=600.0),
      evaluation=EvalConfig(every=100, games=32,
                            opponents=("random", "heuristic")),
  )
