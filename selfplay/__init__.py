"""Self-play drivers: rollouts, the Anakin and Sebulba loops, evaluation
during training, the imitation warm start, checkpoint averaging, logging.

Public API:
- `train(config, run_dir, ...)`: trains any registered experiment with the
  driver its agent type names (`selfplay.drivers`; the drivers themselves
  are `selfplay.anakin` and `selfplay.sebulba`).
- `Evaluator`, `agent_policy`, `nash_conv`: evaluation during training.
- `average_run`: a run directory whose policy is a run's recent mean.
- Modules: `selfplay.rollout` (batched games in JAX), `selfplay.warm_start`
  (the imitation warm start), `selfplay.signals` (stopping within seconds),
  `selfplay.logging` (metrics, progress).
"""

from selfplay.average import average_run
from selfplay.drivers import driver_module, train
from selfplay.evaluation import Evaluator, agent_policy, nash_conv

__all__ = [
    "Evaluator", "agent_policy", "average_run", "driver_module", "nash_conv",
    "train",
]
