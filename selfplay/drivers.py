"""The self-play drivers by name, as agent types name them.

`train(config, run_dir, ...)` finds the config's agent type in the agent
registry (`agents.core.registry`) and runs the driver it names: "anakin"
(`selfplay.anakin`, game and update compiled together) or "sebulba"
(`selfplay.sebulba`, host environments in actor processes) or "offline"
(`selfplay.offline`, supervised learning from recorded data). All take the
same arguments and return a `TrainResult` (run_dir, step, stop_reason,
metrics).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from agents.core import registry

_MODULES = {"anakin": "selfplay.anakin", "sebulba": "selfplay.sebulba",
            "offline": "selfplay.offline"}


def driver_module(config: Any):
  """The driver module that trains `config`'s experiment type.

  Raises:
    ValueError: the config's type is not registered.
  """
  return importlib.import_module(_MODULES[registry.for_config(config).driver])


def train(config: Any, run_dir: str | os.PathLike[str], **kwargs: Any):
  """Trains (or resumes) `config` with its driver; see `anakin.train`."""
  return driver_module(config).train(config, run_dir, **kwargs)
