"""The AdA task space on XLand-MiniGrid: a generator of tasks (rulesets).

The generator is pure numpy; task sets are written and read in
xminigrid's benchmark format by `eval.xland`. `games.xland.trials` (import
it by name: it loads xminigrid) is the multi-trial environment, pure JAX
over xminigrid's step functions: K trials of one task, the world reset at
each trial, the agent told the goal, its previous action and reward and the
trial index.

- `TaskConfig`, `TaskSet`, `generate`: the generator (`games.xland.tasks`).
- `canonical_keys`, `first_occurrences`, `chain_rule_ids`, `in_test_split`:
  duplicates and the train/test split by structure
  (`games.xland.canonical`).
- `encoding`: xminigrid's ids of tiles, colours, goals, rules and layouts.
- `TASK_SETS_DIR`: task sets shipped with the suite (the held-out tasks of
  the bundled `ada-xland9` and of the recipe `configs/ada_xland9.py`).
"""

import pathlib

from games.xland import encoding
from games.xland.canonical import (canonical_keys, chain_rule_ids,
                                   first_occurrences, in_test_split)
from games.xland.encoding import (LAYOUTS, check_encodings, describe_ruleset,
                                  env_id)
from games.xland.tasks import SPLITS, TaskConfig, TaskSet, generate

# Task sets that ship with the suite (`task_sets/README.md`).
TASK_SETS_DIR = pathlib.Path(__file__).resolve().parent / "task_sets"

__all__ = ["LAYOUTS", "TASK_SETS_DIR", "SPLITS", "TaskConfig", "TaskSet", "canonical_keys",
           "chain_rule_ids", "check_encodings", "describe_ruleset",
           "encoding", "env_id", "first_occurrences", "generate",
           "in_test_split"]
