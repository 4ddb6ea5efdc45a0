"""DeepNash (R-NaD) self-play on small Stratego (6x6), sized for a 2-core CPU.

Deployment is a phase of the game, so the network's deployment head learns
where to place the pieces, as in DeepNash. Games are capped at 200 moves
(random play ends in about 90); a small residual network keeps a learner step
of 32 games near 2.5 s on two cores (measured: 0.4 learner steps/s). One
learner step per compiled call: see `agents.core.make_update(unroll=...)`.
"""

from agents.rnad.config import NetworkConfig, RNaDConfig
from selfplay.config import GameConfig, RNaDExperiment, RunConfig


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="stratego", params=(
          ("variant", "small"), ("deployment", "phase"), ("max_plies", 200))),
      agent=RNaDConfig(
          batch_size=32,
          learning_rate=5e-4,
          target_network_avg=0.01,
          eta_reward_transform=0.2,
          entropy_schedule_sizes=(200, 500),
          entropy_schedule_repeats=(5, 1),
          network=NetworkConfig(kind="deepnash", channels=16, num_blocks=1,
                                value_hidden=64),
      ),
      run=RunConfig(num_steps=100_000, steps_per_call=1, log_every=20,
                    eval_every=100, eval_games=64,
                    eval_opponents=("random", "heuristic"),
                    checkpoint_every=200,
                    checkpoint_every_s=300.0),
  )
