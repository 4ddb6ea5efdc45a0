"""R-NaD on Leduc poker, tuned for a 2-core CPU.

A small network keeps learner steps cheap (measured:
`benchmarks/rnad_poker_results.md`, sections "Leduc poker" and "Measured
timings quoted by the code"); the learning rate decays as 1/sqrt(t) to lower
the noise floor, and the regularisation iterations lengthen as it does. The
policy evaluated and exported is a Polyak average of the parameters
(`test_policy_avg`, a window of about 30,000 steps), which damps the last
iterate's oscillation around the equilibrium.
"""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.rnad.config import NetworkConfig, RNaDConfig, RNaDExperiment


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="leduc_poker"),
      agent=RNaDConfig(
          batch_size=128,
          learning_rate=2e-3,
          learning_rate_decay_steps=2_000,
          target_network_avg=0.005,
          test_policy_avg=3e-5,
          entropy_schedule_sizes=(2_000, 5_000, 10_000),
          entropy_schedule_repeats=(10, 10, 1),
          network=NetworkConfig(hidden_sizes=(64, 64)),
      ),
      run=RunConfig(num_steps=1_000_000, steps_per_call=50, log_every=2_000,
                    checkpoint_every=20_000),
      evaluation=EvalConfig(every=4_000),
  )
