"""Checkpoint averaging: a run directory whose policy is a run's recent mean.

With small batches the last iterate of a run moves a good deal from update to
update; the mean of its last few checkpoints' parameters smooths that noise
out, as averaging the last checkpoints does for supervised models (Vaswani et
al. 2017, "Attention is all you need", section 6.1) and weight averaging
along the trajectory does in general (Izmailov et al. 2018, "Averaging
weights leads to wider optima and better generalization"). Unlike
`agent.test_policy_avg`, which averages every step while training, this
works after the fact on any run that kept its checkpoints
(`run.keep_checkpoints`).

The runs averaged may also be several (`arena average RUN_A RUN_B ...`):
forks of one run under other seeds start from the same parameters, and the
mean of such fine-tuned models can beat each of them (Wortsman et al. 2022,
"Model soups"); whether it does here is an empirical question, so it is an
option, not a default. Each run's checkpoints weigh the same.

`average_run` writes a new run directory: the (first) source's config and
one checkpoint at the last averaged step, whose test-time parameters (and
online parameters) are the mean (`with_test_params` of the agent). Any player spec,
tournament or `agents.rnad.load_policy` reads it like a trained run. The rest
of the state (optimiser, target and regularisation networks) is the last
checkpoint's, so `arena train --resume` on it continues from the mean.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from agents.core import Checkpointer, runs, write_json_atomic
from agents.core import configs as configs_lib
from agents.core.checkpoint import CONFIG_FILE

SOURCE_FILE = "averaged_from.json"


def average_run(run_dir: str | os.PathLike[str] | Sequence[
                    str | os.PathLike[str]],
                out_dir: str | os.PathLike[str], last: int, *,
                online: bool = False) -> list[int]:
  """Writes `out_dir`: the mean of `run_dir`'s `last` latest checkpoints.

  Args:
    run_dir: a run directory (of an agent with `with_test_params`, e.g.
      R-NaD), or several of the same game and network (e.g. forks of one
      run): then the mean is over each one's
      `last` latest checkpoints, every run weighing the same, and the rest of
      the state is the first run's.
    out_dir: the new run directory; it must not exist. It is written in a
      temporary directory beside it and renamed, so it appears whole or not
      at all.
    last: how many of the latest checkpoints to average (>= 1).
    online: average the learner's parameters; by default each checkpoint's
      test-time parameters (its Polyak average when the run had
      `agent.test_policy_avg` on, else its parameters).

  Returns:
    The averaged checkpoint steps of the first run, oldest first.

  Raises:
    ValueError: for a bad `last`, an existing `out_dir`, a run that is not
      R-NaD, one with fewer checkpoints than `last`, or runs of other games
      or networks than the first's (a `CheckpointError`, itself a ValueError,
      for an unreadable run directory).
  """
  if isinstance(run_dir, (str, os.PathLike)):
    run_dirs = [pathlib.Path(run_dir)]
  else:
    run_dirs = [pathlib.Path(r) for r in run_dir]
  out_dir = pathlib.Path(out_dir)
  if not run_dirs:
    raise ValueError("no run directory to average")
  if last < 1:
    raise ValueError(f"the number of checkpoints must be >= 1, got {last}")
  if out_dir.exists():
    raise ValueError(f"{str(out_dir)!r} already exists; choose another "
                     "output directory")
  configs = [runs.read_config(r) for r in run_dirs]
  config = configs[0]
  for r, c in zip(run_dirs, configs):
    for field, mine, first in (("game", c.game, config.game),
                               ("agent", type(c), type(config))):
      if mine != first:
        raise ValueError(f"{str(r)!r} has another {field} than "
                         f"{str(run_dirs[0])!r}; only runs of the same game "
                         "and network can be averaged")
  all_steps = []
  for r in run_dirs:
    with runs.quiet_orbax():
      checkpointer = Checkpointer(r, read_only=True)
      try:
        steps = sorted(checkpointer.all_steps())
      finally:
        checkpointer.close()
    if len(steps) < last:
      raise ValueError(
          f"{str(r)!r} has {len(steps)} checkpoint(s) "
          f"({', '.join(map(str, steps)) or 'none'}); cannot average the last "
          f"{last}")
    all_steps.append(steps[-last:])
  total, first = None, None
  for r, steps in zip(run_dirs, all_steps):
    for step in steps:  # One checkpoint in memory at a time.
      run = runs.read_run(r, step=step)
      params = run.state.params if online else run.agent.test_params(
          run.state)
      if total is not None and (jax.tree.structure(params) !=
                                jax.tree.structure(total) or any(
                                    a.shape != b.shape for a, b in zip(
                                        jax.tree.leaves(params),
                                        jax.tree.leaves(total)))):
        raise ValueError(f"{str(r)!r} has another network than "
                         f"{str(run_dirs[0])!r}; only runs of the same game "
                         "and network can be averaged")
      total = params if total is None else jax.tree.map(jnp.add, total,
                                                        params)
    if first is None:
      first = run  # The first run's last checkpoint.
      if not hasattr(run.agent, "with_test_params"):
        raise ValueError(f"{str(r)!r} is a {type(config).__name__} run; "
                         "checkpoint averaging reads runs of agents with "
                         "`with_test_params` (e.g. R-NaD)")
  mean = jax.tree.map(lambda x: x / sum(map(len, all_steps)), total)
  state = first.agent.with_test_params(first.state, mean)
  source = {"runs": [{"run_dir": str(r.absolute()), "steps": s}
                     for r, s in zip(run_dirs, all_steps)],
            "params": "online" if online else "test"}

  out_dir.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.",
                                          dir=out_dir.parent))
  try:
    write_json_atomic(staging / CONFIG_FILE, configs_lib.to_json(config))
    write_json_atomic(staging / SOURCE_FILE, source)
    out = Checkpointer(staging)
    try:
      out.save(state)
    finally:
      out.close()  # Waits for the asynchronous save.
    os.rename(staging, out_dir)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return all_steps[0]
