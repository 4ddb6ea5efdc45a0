"""XLand-MiniGrid task sets on disk, in xminigrid's benchmark format, and
xminigrid environments for them (the AdA task space; see `games.xland`).

- `save_task_set`, `load_task_set`: write atomically / read and check a
  `games.xland.TaskSet` (`eval.xland.task_sets`).
- `load_benchmark`: a checked file as an `xminigrid.benchmarks.Benchmark`.
- `make_env`: the xminigrid environment of a layout.
"""

from eval.xland.task_sets import (FORMAT, FORMAT_VERSION, load_benchmark,
                                  load_task_set, make_env, save_task_set)

__all__ = ["FORMAT", "FORMAT_VERSION", "load_benchmark", "load_task_set",
           "make_env", "save_task_set"]
