"""`load_policy(run_dir)`: a trained D4PG policy as a plain function."""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping

import jax
import numpy as np

from agents.core import runs
from agents.core.checkpoint import CheckpointError
from agents.d4pg.config import D4PGExperiment

Policy = Callable[[Mapping[str, Any]], np.ndarray]


def load_policy(run_dir: str | os.PathLike[str],
                step: int | None = None) -> Policy:
  """The noiseless policy of a D4PG training run.

  Args:
    run_dir: a directory written by `arena train configs/d4pg_<task>.py`.
    step: which checkpoint (the latest when None).

  Returns:
    A function from a Control Suite observation (the `OrderedDict` that the
    run's task returns in `TimeStep.observation`) to an action, a float32
    array [A] within the task's bounds.

  Raises:
    agents.core.CheckpointError: for a missing or unreadable run directory,
      or one that is not a D4PG run.
  """
  from games import control  # pylint: disable=g-import-not-at-top
  run = runs.read_run(run_dir, step=step)
  if not isinstance(run.config, D4PGExperiment):
    raise CheckpointError(f"{str(run_dir)!r} holds a "
                          f"{type(run.config).__name__} run, not a D4PG one")
  networks = run.agent.networks
  params = run.state.params["policy"]
  apply = jax.jit(networks.policy)
  low, high = networks.action_min, networks.action_max

  def policy(observation: Mapping[str, Any]) -> np.ndarray:
    obs = control.flatten_observation(observation)
    action = np.asarray(apply(params, obs[None]))[0]
    return np.clip(action, low, high)

  return policy
