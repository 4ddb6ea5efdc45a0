"""R-NaD on Kuhn poker, tuned for a 2-core CPU.

Tuned to reach NashConv < 0.05 quickly (measured:
`benchmarks/rnad_poker_results.md`, section "Kuhn poker").
"""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.rnad.config import NetworkConfig, RNaDConfig, RNaDExperiment


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="kuhn_poker"),
      agent=RNaDConfig(
          batch_size=128,
          learning_rate=2e-3,
          learning_rate_decay_steps=1_000,
          target_network_avg=0.005,
          entropy_schedule_sizes=(1_000,),
          network=NetworkConfig(hidden_sizes=(64, 64)),
      ),
      run=RunConfig(num_steps=100_000, steps_per_call=100, log_every=1_000,
                    checkpoint_every=10_000),
      evaluation=EvalConfig(every=1_000),
  )
