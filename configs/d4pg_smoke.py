"""A tiny D4PG run on cartpole swingup, for tests: seconds, not learning."""

from agents.d4pg.config import D4PGConfig, NetworkConfig
from selfplay.config import D4PGExperiment, GameConfig, RunConfig, RuntimeConfig
from selfplay.replay import ReplayConfig


def get_config() -> D4PGExperiment:
  return D4PGExperiment(
      game=GameConfig(name="cartpole_swingup"),
      agent=D4PGConfig(
          batch_size=16,
          network=NetworkConfig(policy_hidden_sizes=(16,),
                                critic_hidden_sizes=(16,)),
      ),
      runtime=RuntimeConfig(
          num_actors=1, eval_episodes=1,
          replay=ReplayConfig(capacity=10_000, min_size=100,
                              samples_per_insert=4.0)),
      run=RunConfig(num_steps=40, steps_per_call=4, log_every=8,
                    eval_every=0, checkpoint_every=20,
                    checkpoint_every_s=60.0),
  )
