"""R-NaD on Kuhn poker, tuned for a 2-core CPU (NashConv < 0.05 in minutes)."""

from agents.rnad.config import NetworkConfig, RNaDConfig
from selfplay.config import GameConfig, RNaDExperiment, RunConfig


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="kuhn_poker"),
      agent=RNaDConfig(
          batch_size=128,
          learning_rate=1e-3,
          entropy_schedule_sizes=(500,),
          network=NetworkConfig(hidden_sizes=(64, 64)),
      ),
      run=RunConfig(num_steps=20_000, steps_per_call=100, log_every=500,
                    eval_every=1_000, checkpoint_every=5_000),
  )
