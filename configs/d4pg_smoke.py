"""A tiny D4PG run on cartpole swingup, for tests: seconds, not learning."""

from agents.core.experiment import (ControlEvalConfig, GameConfig,
                                    ReplayConfig, RunConfig, RuntimeConfig)
from agents.d4pg.config import D4PGConfig, D4PGExperiment, NetworkConfig


def get_config() -> D4PGExperiment:
  return D4PGExperiment(
      game=GameConfig(name="cartpole_swingup"),
      agent=D4PGConfig(
          batch_size=16,
          network=NetworkConfig(policy_hidden_sizes=(16,),
                                critic_hidden_sizes=(16,)),
      ),
      runtime=RuntimeConfig(
          num_actors=1,
          replay=ReplayConfig(capacity=10_000, min_size=100,
                              samples_per_insert=4.0)),
      run=RunConfig(num_steps=40, steps_per_call=4, log_every=8,
                    checkpoint_every=20, checkpoint_every_s=60.0),
      evaluation=ControlEvalConfig(every=0, episodes=1),
  )
