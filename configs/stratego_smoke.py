"""A tiny Stratego R-NaD run for tests: small board, 40-move games, 8 channels."""

from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from agents.rnad.config import NetworkConfig, RNaDConfig, RNaDExperiment
from games.stratego import StrategoParams


def get_config() -> RNaDExperiment:
  return RNaDExperiment(
      game=GameConfig(name="stratego", params=StrategoParams(
          variant="small", deployment="phase", max_plies=40)),
      agent=RNaDConfig(
          batch_size=8,
          learning_rate=5e-4,
          entropy_schedule_sizes=(4,),
          entropy_schedule_repeats=(1,),
          network=NetworkConfig(kind="deepnash", channels=8, num_blocks=1,
                                value_hidden=16),
      ),
      run=RunConfig(num_steps=4, steps_per_call=2, unroll_steps=True,
                    log_every=2, checkpoint_every=2, num_devices=1),
      evaluation=EvalConfig(every=2, games=8,
                            opponents=("random", "heuristic")),
  )
