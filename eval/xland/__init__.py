"""XLand-MiniGrid task sets on disk, in xminigrid's benchmark format,
xminigrid environments for them (the AdA task space; see `games.xland`), and
the per-trial evaluation of agents with memory.

- `save_task_set`, `load_task_set`: write atomically / read and check a
  `games.xland.TaskSet` (`eval.xland.task_sets`).
- `load_benchmark`: a checked file as an `xminigrid.benchmarks.Benchmark`.
- `make_env`: the xminigrid environment of a layout.
- `MemoryPolicy`, `random_policy`, `play_trials`, `summarise`, `evaluate`,
  `evaluate_agent`, `load_trials_agent`, `trials_config_for`,
  `trials_table`: success and return per trial of K-trial episodes, with
  the memory-reset and random controls (`eval.xland.trials_eval`). They are
  imported on first use: that module loads JAX and xminigrid, which the
  task-set functions do not need.
- `eval.xland.behaviour` (import it): what a memory agent does after failed
  trials (searches on, repeats, gives up), by the objects it holds and its
  policy's entropy and value.
"""

import importlib
from typing import Any

from eval.xland.task_sets import (FORMAT, FORMAT_VERSION, load_benchmark,
                                  load_task_set, make_env, save_task_set)

_TRIALS_EVAL = ("MemoryPolicy", "RANDOM_AGENT", "evaluate", "evaluate_agent",
                "load_trials_agent", "play_trials", "random_policy",
                "summarise", "trials_config_for", "trials_table")

__all__ = ["FORMAT", "FORMAT_VERSION", "RANDOM_AGENT", "MemoryPolicy",
           "evaluate", "evaluate_agent", "load_benchmark", "load_task_set",
           "load_trials_agent", "make_env", "play_trials", "random_policy",
           "save_task_set", "summarise", "trials_config_for", "trials_table"]


def __getattr__(name: str) -> Any:
  """The `trials_eval` names, imported on first use (PEP 562)."""
  if name in _TRIALS_EVAL:
    return getattr(importlib.import_module("eval.xland.trials_eval"), name)
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
