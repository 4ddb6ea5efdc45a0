"""D4PG on Control Suite walker walk, sized for a 2-core CPU.

Paper hyperparameters (Barth-Maron et al. 2018, arXiv:1804.08617): batch 256,
51 atoms on [-150, 150], 5-step returns, sigma 0.3, targets copied every 100
learner steps, 32 samples per insert. The networks are smaller than acme's
(256-256-256 policy, 512-512-256 critic) so that the learner keeps up with
the actors on two cores, and Adam runs at 3e-4.
"""

from agents.core.experiment import (ControlEvalConfig, GameConfig,
                                    ReplayConfig, RunConfig, RuntimeConfig)
from agents.d4pg.config import D4PGConfig, D4PGExperiment, NetworkConfig


def get_config() -> D4PGExperiment:
  return D4PGExperiment(
      game=GameConfig(name="walker_walk"),
      agent=D4PGConfig(
          batch_size=256,
          policy_learning_rate=3e-4,
          critic_learning_rate=3e-4,
          network=NetworkConfig(policy_hidden_sizes=(256, 256),
                                critic_hidden_sizes=(256, 256)),
      ),
      runtime=RuntimeConfig(
          max_env_steps=1_000_000,
          replay=ReplayConfig(capacity=1_000_000, min_size=1_000,
                              samples_per_insert=32.0)),
      run=RunConfig(num_steps=10_000_000, steps_per_call=10, log_every=500,
                    checkpoint_every=5_000, checkpoint_every_s=300.0),
      evaluation=ControlEvalConfig(every=2_500, episodes=5),
  )
