"""A tiny Go network run on a few positions, for tests: seconds, not learning."""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.go_retrieval.config import (DataConfig, GoRetrievalConfig,
                                        GoRetrievalExperiment, NetworkConfig)


def get_config() -> GoRetrievalExperiment:
  return GoRetrievalExperiment(
      game=GameConfig(name="go"),
      agent=GoRetrievalConfig(
          network=NetworkConfig(channels=8, blocks=1, embedding_dim=8,
                                head_hidden=8, value_hidden=8),
          batch_size=16),
      data=DataConfig(positions="runs/go9/positions", eval_positions=64),
      run=RunConfig(num_steps=40, steps_per_call=2, log_every=10,
                    checkpoint_every=20, checkpoint_every_s=60.0),
      evaluation=EvalConfig(every=20),
  )
