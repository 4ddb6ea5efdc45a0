"""Reading a run directory: its config, agent and checkpoint, for any agent.

A run directory (`agents.core.checkpoint`) holds the resolved experiment
config and the checkpoints. `read_run` rebuilds the game and the agent
through the agent registry (`agents.core.registry`) and restores a
checkpoint into the agent's state, so drivers, evaluation, tournaments,
human play and each agent's `load_policy` read runs the same way, whatever
the agent.

Agents shipped with the suite live in `agents/bundled/<name>/`, each a run
directory with one checkpoint; wherever a run directory is expected, its
name (e.g. "deepnash-small") may stand instead (`resolve_run_dir`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import shutil
import tempfile
from typing import Any, Iterator, NamedTuple

import jax

from agents.core import configs, registry
from agents.core.checkpoint import (CHECKPOINTS_DIR, CONFIG_FILE,
                                    CheckpointError, Checkpointer,
                                    read_run_config, write_json_atomic)
from agents.core.learner import TrainState

BUNDLED_DIR = pathlib.Path(__file__).resolve().parent.parent / "bundled"


class Run(NamedTuple):
  """A restored run."""

  config: Any  # the experiment config (a registered experiment type)
  game: Any  # the `games.Game`, or None for environments outside `games`
  agent: Any  # what `AgentType.build` returned
  state: TrainState
  run_dir: pathlib.Path
  meta: dict[str, Any]  # the checkpoint's metadata


def bundled_agents() -> tuple[str, ...]:
  """Names of the agents shipped with the suite, sorted."""
  if not BUNDLED_DIR.is_dir():
    return ()
  return tuple(sorted(p.name for p in BUNDLED_DIR.iterdir()
                      if (p / CONFIG_FILE).is_file()))


def resolve_run_dir(run_dir: str | os.PathLike[str]) -> pathlib.Path:
  """`run_dir` itself, or the directory of the bundled agent of that name
  when no such directory exists (a directory always wins)."""
  path = pathlib.Path(run_dir)
  if not path.exists() and str(run_dir) in bundled_agents():
    return BUNDLED_DIR / str(run_dir)
  return path


def read_config(run_dir: str | os.PathLike[str]) -> Any:
  """The experiment config saved in a run directory (or bundled agent).

  Raises:
    CheckpointError: missing or corrupt, or of an unregistered type.
  """
  run_dir = resolve_run_dir(run_dir)
  try:
    return configs.from_json(read_run_config(run_dir))
  except CheckpointError:
    raise
  except ValueError as e:
    raise CheckpointError(f"{run_dir}/{CONFIG_FILE}: {e}") from e


@contextlib.contextmanager
def quiet_orbax() -> Iterator[None]:
  """Silences orbax's and absl's info and warning chatter on reads (e.g.
  "Given directory is read only", "Metadata file does not exist"); errors
  still surface as exceptions."""
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  loggers = [logging.getLogger(n) for n in ("absl", "orbax")]
  levels = [lg.level for lg in loggers]
  absl_level = absl_logging.get_verbosity()
  try:
    for lg in loggers:
      lg.setLevel(logging.ERROR)
    absl_logging.set_verbosity(absl_logging.ERROR)
    yield
  finally:
    for lg, level in zip(loggers, levels):
      lg.setLevel(level)
    absl_logging.set_verbosity(absl_level)


def restore_state(checkpointer: Checkpointer, like: TrainState,
                  step: int | None = None) -> tuple[TrainState, dict[str, Any]]:
  """`checkpointer.restore`, with a clear error when the checkpoint's state
  has another layout than `like` (a setting that changes what the state
  holds, e.g. R-NaD's `agent.test_policy_avg`, was switched on or off).

  Raises:
    CheckpointError: no such checkpoint, or it does not restore.
  """
  saved = checkpointer.saved_extras_fields(step)
  wanted = set(getattr(like.extras, "_fields", ())) or None
  if saved is not None and wanted is not None and saved != wanted:
    which = "the latest checkpoint" if step is None else f"checkpoint {step}"
    raise CheckpointError(
        f"{which} of {str(checkpointer.run_dir)!r} holds "
        f"{', '.join(sorted(saved))} but the config's agent keeps "
        f"{', '.join(sorted(wanted))}: a setting that changes what the "
        "training state holds (e.g. agent.test_policy_avg switched on or "
        "off) cannot change on resume; resume with the run's own setting or "
        "start a new run, and read a run's checkpoints saved since its last "
        "such switch")
  return checkpointer.restore(like, step)


def fresh_state(agent: Any, seed: int) -> TrainState:
  """`agent.init` under `jit`: one compilation of the whole initialisation
  instead of one per operation run eagerly."""
  return jax.jit(agent.init)(jax.random.key(seed))


def read_run(run_dir: str | os.PathLike[str],
             step: int | None = None) -> Run:
  """Loads a run directory's (or bundled agent's) config and checkpoint.

  Args:
    run_dir: a run directory, or a bundled agent's name.
    step: which checkpoint; the latest when None.

  Raises:
    CheckpointError: for a missing, incomplete or corrupt run directory.
    ValueError: the config names a game or task that cannot be built.
  """
  run_dir = resolve_run_dir(run_dir)
  config = read_config(run_dir)
  game, agent = registry.for_config(config).build(config)
  with quiet_orbax():
    checkpointer = Checkpointer(run_dir, read_only=True)
    try:
      state, meta = restore_state(checkpointer, fresh_state(agent, 0),
                                  step)
    finally:
      checkpointer.close()
  return Run(config, game, agent, state, run_dir, meta)


def init_from(source: str | os.PathLike[str], fresh: TrainState
              ) -> TrainState:
  """`fresh` with the network of `source`'s latest checkpoint: its
  parameters and the agent's extras (target or regularisation networks);
  the optimiser state, step count and key stay `fresh`'s, so training
  starts anew from that network (fine-tuning, or a curriculum of stages:
  the same agent on other games, tasks or data).

  Args:
    source: a run directory or a bundled agent's name.
    fresh: the new run's step-0 state.

  Raises:
    CheckpointError: `source` is not a readable run.
    ValueError: its network does not fit `fresh`'s (another agent, or a
      network of another shape); the message names the first difference.
  """
  run = read_run(source)
  for what, mine, theirs in (("parameters", fresh.params, run.state.params),
                             ("extras", fresh.extras, run.state.extras)):
    mine_paths = dict(jax.tree_util.tree_leaves_with_path(mine))
    theirs_paths = dict(jax.tree_util.tree_leaves_with_path(theirs))
    for path in sorted(set(mine_paths) | set(theirs_paths), key=str):
      name = jax.tree_util.keystr(path)
      if path not in theirs_paths or path not in mine_paths:
        where = ("this config's network" if path in mine_paths else
                 f"{str(source)!r}'s")
        raise ValueError(
            f"run.init_from: {str(source)!r} does not fit this config: "
            f"{what} {name} is only in {where}")
      a, b = mine_paths[path], theirs_paths[path]
      if (a.shape, a.dtype) != (b.shape, b.dtype):
        raise ValueError(
            f"run.init_from: {str(source)!r} does not fit this config: "
            f"{what} {name} is {b.dtype}{list(b.shape)} there and "
            f"{a.dtype}{list(a.shape)} here")
  return fresh._replace(params=run.state.params, extras=run.state.extras)


def bundle_run(run_dir: str | os.PathLike[str], name: str,
               step: int | None = None,
               dest: str | os.PathLike[str] = BUNDLED_DIR) -> pathlib.Path:
  """Copies a run's config (in the current layout) and one checkpoint (the
  latest by default, without its `extra` item) to `dest/name`, a run directory of one checkpoint that
  ships with the suite (`bundled_agents`). Written beside its destination
  and renamed, so it appears whole or not at all.

  Raises:
    CheckpointError: for an unreadable run or a missing checkpoint.
    ValueError: `dest/name` exists or `name` is not a plain name.
  """
  if not name or "/" in name or name.startswith("."):
    raise ValueError(f"a bundled agent's name must be a plain name, got "
                     f"{name!r}")
  run = read_run(run_dir, step)  # Checks that it loads.
  step = int(run.state.step)
  out = pathlib.Path(dest) / name
  if out.exists():
    raise ValueError(f"{str(out)!r} already exists")
  out.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out.parent))
  try:
    # The config as this version reads it (renamed keys moved, retired
    # ones dropped), so the bundle carries no migrations.
    write_json_atomic(staging / CONFIG_FILE, configs.to_json(run.config))
    # Without the driver's `extra` item (an opponent pool, environments in
    # mid-episode): a bundle is played, not resumed, and ships small.
    source = run.run_dir / CHECKPOINTS_DIR / str(step)
    shutil.copytree(source, staging / CHECKPOINTS_DIR / str(step),
                    ignore=lambda d, names: (
                        ["extra"] if pathlib.Path(d) == source else []))
    os.rename(staging, out)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return out
