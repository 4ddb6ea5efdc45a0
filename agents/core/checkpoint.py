"""Checkpoints of a `TrainState`, with orbax-checkpoint.

A run directory looks like:

  RUN_DIR/config.json          the resolved experiment config (atomic write)
  RUN_DIR/checkpoints/<step>/  one orbax checkpoint per saved step:
                               `state` (the TrainState), `meta` (JSON:
                               the config again, plus free-form metadata)
                               and optionally `extra` (arrays the driver
                               keeps beside the state, e.g. the pool of
                               past opponents)

Orbax writes each checkpoint into a temporary directory and renames it when
complete, so a run killed mid-save leaves the previous checkpoint intact; only
the last `max_to_keep` are kept. PRNG keys are stored as their raw key data.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from typing import IO, Any, Callable

import jax
import orbax.checkpoint as ocp

from agents.core.learner import TrainState

CONFIG_FILE = "config.json"
CHECKPOINTS_DIR = "checkpoints"


class CheckpointError(ValueError):
  """A run directory or checkpoint is missing or unreadable."""


def write_atomic(path: str | os.PathLike[str],
                 write: Callable[[IO[bytes]], None]) -> None:
  """Writes a file through `write(f)` (f: a binary file) to a temporary file
  beside `path`, synced, then renamed over `path`: a killed writer leaves the
  old file or none, never half of one. The file is readable by all (0644)."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
  try:
    os.chmod(tmp, 0o644)  # mkstemp makes it private
    with os.fdopen(fd, "wb") as f:
      write(f)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    pathlib.Path(tmp).unlink(missing_ok=True)
    raise


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
  """Writes `obj` as JSON to `path` atomically (`write_atomic`)."""
  text = json.dumps(obj, indent=2, sort_keys=True)
  write_atomic(path, lambda f: f.write(text.encode()))


def read_run_config(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
  """The resolved config saved in `run_dir`.

  Raises:
    CheckpointError: if the directory or its config is missing or corrupt.
  """
  run_dir = pathlib.Path(run_dir)
  if not run_dir.is_dir():
    raise CheckpointError(f"run directory {str(run_dir)!r} does not exist")
  path = run_dir / CONFIG_FILE
  try:
    return json.loads(path.read_text())
  except FileNotFoundError as e:
    raise CheckpointError(
        f"{str(run_dir)!r} is not a run directory: no {CONFIG_FILE}") from e
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise CheckpointError(f"corrupt {path}: {e}") from e


def _keys_to_data(tree: Any) -> Any:
  return jax.tree.map(
      lambda x: jax.random.key_data(x)
      if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x, tree)


def _data_to_keys(tree: Any, like: Any) -> Any:
  return jax.tree.map(
      lambda x, l: jax.random.wrap_key_data(x, impl=jax.random.key_impl(l))
      if jax.dtypes.issubdtype(l.dtype, jax.dtypes.prng_key) else x, tree, like)


class Checkpointer:
  """Saves and restores the `TrainState` of one run directory."""

  def __init__(self, run_dir: str | os.PathLike[str], max_to_keep: int = 3,
               read_only: bool = False):
    if max_to_keep < 1:
      raise ValueError(f"max_to_keep must be >= 1, got {max_to_keep}")
    self._run_dir = pathlib.Path(run_dir).absolute()
    directory = self._run_dir / CHECKPOINTS_DIR
    if read_only and not directory.is_dir():
      raise CheckpointError(f"{str(run_dir)!r} holds no checkpoints")
    self._manager = ocp.CheckpointManager(
        directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=not read_only, read_only=read_only,
            cleanup_tmp_directories=not read_only),
        item_names=("state", "meta", "extra"))

  @property
  def run_dir(self) -> pathlib.Path:
    return self._run_dir

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, state: TrainState, meta: dict[str, Any] | None = None,
           extra: Any = None) -> int:
    """Saves `state` under its step (asynchronously); returns the step.

    `extra`, a pytree of arrays, is saved beside the state in the same
    checkpoint (all or nothing); read it back with `restore_extra`.
    """
    step = int(jax.device_get(state.step))
    if step in self._manager.all_steps():
      return step
    items = dict(state=ocp.args.StandardSave(_keys_to_data(state)),
                 meta=ocp.args.JsonSave(meta or {}))
    if extra is not None:
      items["extra"] = ocp.args.StandardSave(_keys_to_data(extra))
    self._manager.save(step, args=ocp.args.Composite(**items))
    return step

  def restore(self, like: TrainState,
              step: int | None = None) -> tuple[TrainState, dict[str, Any]]:
    """Restores the checkpoint at `step` (latest when None).

    Args:
      like: a state with the right structure, shapes and shardings (e.g. a
        freshly initialised one); its values are not used.
      step: which checkpoint; the latest when None.

    Returns:
      `(state, meta)`.

    Raises:
      CheckpointError: if there is no such checkpoint or it is unreadable or
        does not match `like`.
    """
    if step is None:
      step = self.latest_step()
      if step is None:
        raise CheckpointError(f"no checkpoint in {str(self._run_dir)!r}")
    elif step not in self._manager.all_steps():
      raise CheckpointError(
          f"no checkpoint at step {step} in {str(self._run_dir)!r}; "
          f"available: {self.all_steps()}")
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct,
                            _keys_to_data(like))
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(
          state=ocp.args.StandardRestore(abstract),
          meta=ocp.args.JsonRestore()))
    except Exception as e:  # orbax raises many types for damaged files.
      raise CheckpointError(
          f"cannot restore checkpoint {step} of {str(self._run_dir)!r}: "
          f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
      ) from e
    state = _data_to_keys(restored["state"], like)
    return TrainState(*state), dict(restored["meta"] or {})

  def saved_extras_fields(self, step: int | None = None) -> set[str] | None:
    """The field names of the saved state's `extras` at `step` (latest when
    None), read from the checkpoint's metadata without restoring it; None
    when there is no such checkpoint or its extras are not a named tuple.
    """
    step = self.latest_step() if step is None else step
    if step is None:
      return None
    path = self._run_dir / CHECKPOINTS_DIR / str(step) / "state"
    if not path.is_dir():
      return None
    try:
      with ocp.StandardCheckpointer() as reader:
        extras = reader.metadata(path).item_metadata["extras"]
    except Exception:  # pylint: disable=broad-except
      return None  # Damaged metadata: `restore` reports it.
    return set(extras) if isinstance(extras, dict) else None

  def restore_extra(self, like: Any, step: int) -> Any:
    """The `extra` saved with checkpoint `step`, or None if it has none.

    Args:
      like: a pytree with the structure, shapes and shardings saved.
      step: which checkpoint.

    Raises:
      CheckpointError: if the item is unreadable or does not match `like`.
    """
    if not (self._run_dir / CHECKPOINTS_DIR / str(step) / "extra").is_dir():
      return None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct,
                            _keys_to_data(like))
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(
          extra=ocp.args.StandardRestore(abstract)))
    except Exception as e:  # orbax raises many types for damaged files.
      raise CheckpointError(
          f"cannot restore the extra item of checkpoint {step} of "
          f"{str(self._run_dir)!r}: {type(e).__name__}: "
          f"{str(e).splitlines()[0] if str(e) else ''}") from e
    return _data_to_keys(restored["extra"], like)

  def wait(self) -> None:
    """Blocks until pending asynchronous saves are on disk."""
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
