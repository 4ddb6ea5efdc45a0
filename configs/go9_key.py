"""The key network of retrieval Go: policy and value from expert positions.

Supervised learning (the offline driver) on the training split of the
expert positions built by `arena go positions`; the trained network is
frozen and its embedding becomes the key and query of retrieval
(Humphreys et al. 2022). Also the plain agent, without retrieval.

  arena go games --out games/go/expert_games/level5-seed0 --games 20000 --level 5
  arena go positions games/go/expert_games --out runs/go9/positions
  arena train go9_key --out runs/go9_key
"""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.go_retrieval.config import (DataConfig, GoRetrievalConfig,
                                        GoRetrievalExperiment, NetworkConfig)


def get_config() -> GoRetrievalExperiment:
  return GoRetrievalExperiment(
      game=GameConfig(name="go"),
      agent=GoRetrievalConfig(
          network=NetworkConfig(channels=64, blocks=6, embedding_dim=64),
          batch_size=256, learning_rate=1e-3, weight_decay=1e-4),
      data=DataConfig(positions="runs/go9/positions", eval_positions=4096),
      run=RunConfig(num_steps=20_000, steps_per_call=1, log_every=200,
                    checkpoint_every=2_000, checkpoint_every_s=300.0,
                    keep_checkpoints=3),
      evaluation=EvalConfig(every=1_000),
  )
