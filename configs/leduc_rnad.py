"""R-NaD on Leduc poker, tuned for a 2-core CPU."""

from agents.rnad.config import NetworkConfig, RNaDConfig
from selfplay.config import GameConfig, RNaDExperiment, RunConfig


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="leduc_poker"),
      agent=RNaDConfig(
          batch_size=128,
          learning_rate=1e-3,
          entropy_schedule_sizes=(1_000,),
          network=NetworkConfig(hidden_sizes=(128, 128)),
      ),
      run=RunConfig(num_steps=200_000, steps_per_call=50, log_every=1_000,
                    eval_every=5_000, checkpoint_every=10_000),
  )
