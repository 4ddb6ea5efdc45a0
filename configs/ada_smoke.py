"""A tiny AdA run for tests: seconds, not learning."""

from agents.ada.config import (AdaConfig, AdaExperiment, NetworkConfig,
                               TasksConfig, TrialsEvalConfig)
from agents.core.experiment import CurriculumConfig, RunConfig
from games.xland.trials import TrialsConfig


def get_config() -> AdaExperiment:
  return AdaExperiment(
      trials=TrialsConfig(layout="R1-9x9", num_trials=2, steps_per_trial=8),
      tasks=TasksConfig(num_train=64, num_test=16),
      curriculum=CurriculumConfig(kind="plr", buffer_size=16, min_fill=0.25),
      agent=AdaConfig(
          network=NetworkConfig(width=16, embed_dim=4, layers=1, heads=2,
                                memory_length=8, ffw_dim=16, head_hidden=16),
          batch_size=8, unroll_length=8, epochs=2),
      run=RunConfig(num_steps=6, steps_per_call=2, log_every=2,
                    checkpoint_every=4, checkpoint_every_s=60.0),
      evaluation=TrialsEvalConfig(every=0, num_tasks=8, batch_size=8),
  )
