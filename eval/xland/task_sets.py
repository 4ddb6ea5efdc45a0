"""XLand-MiniGrid task sets on disk, in xminigrid's benchmark format.

The format is what `xminigrid.benchmarks.load_benchmark_from_path` reads: a
bz2-compressed pickle of a dict with "goals" [N, 5], "rules" [N, R, 7],
"init_tiles" [N, O, 2] and "num_rules" [N] (numpy arrays). xminigrid reads
only those keys; we add "layout" ("R1-9x9"), "env_id"
("XLand-MiniGrid-R1-9x9") and "arena" (how the set was generated: format
version, config, seed, split), which xminigrid ignores.

Reading never runs a pickle's code: only numpy arrays (and jax arrays, read
as numpy) and plain values are accepted, so a foreign or damaged file gives
a ValueError, not arbitrary objects.
"""

from __future__ import annotations

import bz2
import dataclasses
import os
import pathlib
import pickle
from typing import Any

import numpy as np

from games import xland
from games.xland import encoding as enc

FORMAT = "arena-xland-tasks"
FORMAT_VERSION = 1
_ARRAYS = ("goals", "rules", "init_tiles", "num_rules")

_NUMPY_GLOBALS = {
    (module, name)
    for prefix in ("numpy._core", "numpy.core")
    for module, name in ((f"{prefix}.multiarray", "_reconstruct"),
                         (f"{prefix}.multiarray", "scalar"),
                         (f"{prefix}.numeric", "_frombuffer"))
} | {("numpy", "ndarray"), ("numpy", "dtype")}


def _numpy_from_jax(fun, args, arr_state, aval_state):
  """Reads a pickled jax.Array as the numpy array inside it."""
  del aval_state  # the weak type: meaningless for numpy
  value = fun(*args)
  value.__setstate__(arr_state)
  return value


class _ArraysOnly(pickle.Unpickler):
  """Unpickles plain values and numpy arrays, nothing else."""

  def find_class(self, module: str, name: str) -> Any:
    if (module, name) == ("jax._src.array", "_reconstruct_array"):
      return _numpy_from_jax
    if (module, name) in _NUMPY_GLOBALS:
      return super().find_class(module, name)
    raise pickle.UnpicklingError(
        f"it holds a {module}.{name}; only numpy arrays are read")


def save_task_set(task_set: xland.TaskSet, path: str | os.PathLike
                  ) -> pathlib.Path:
  """Writes `task_set` to `path` atomically (a reader sees the old file or
  the whole new one, never a part); creates missing parent directories.

  Raises:
    ValueError: the arrays are not valid xminigrid rulesets, or the layout
      is unknown.
  """
  arrays = {name: np.asarray(getattr(task_set, name)) for name in _ARRAYS}
  enc.check_encodings(**arrays)
  layout = task_set.layout
  data: dict[str, Any] = {
      **arrays, "layout": layout,
      "env_id": enc.env_id(layout) if layout is not None else None,
      "arena": {
          "format": FORMAT, "version": FORMAT_VERSION,
          "split": task_set.split, "seed": task_set.seed,
          "config": (dataclasses.asdict(task_set.config)
                     if task_set.config is not None else None),
      },
  }
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
  try:
    with open(tmp, "wb") as raw:
      with bz2.BZ2File(raw, "wb") as f:
        pickle.dump(data, f, protocol=4)
      raw.flush()
      os.fsync(raw.fileno())
    os.replace(tmp, path)
  finally:
    tmp.unlink(missing_ok=True)
  return path


def _read(path: pathlib.Path) -> dict[str, Any]:
  if not path.is_file():
    raise FileNotFoundError(f"task set file {str(path)!r} does not exist")
  try:
    with bz2.open(path, "rb") as f:
      data = _ArraysOnly(f).load()
  except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError,
          AttributeError, IndexError, KeyError, MemoryError) as e:
    raise ValueError(
        f"{path}: not a task set in xminigrid's benchmark format (a "
        f"bz2-compressed pickle of numpy arrays): {e}") from e
  if not isinstance(data, dict):  # a bad file: ValueError, as for the rest
    raise ValueError(  # noqa: TRY004
        f"{path}: holds a {type(data).__name__}, not the dict of xminigrid's "
        "benchmark format")
  missing = [k for k in _ARRAYS if k not in data]
  if missing:
    raise ValueError(f"{path}: lacks {', '.join(missing)} (xminigrid's "
                     f"benchmark format has {', '.join(_ARRAYS)})")
  return data


def load_task_set(path: str | os.PathLike) -> xland.TaskSet:
  """Reads and checks a task set (ours, or any in xminigrid's format: then
  its layout, config, seed and split are None).

  Raises:
    FileNotFoundError: no file at `path`.
    ValueError: the file is not a valid task set; the message says why.
  """
  path = pathlib.Path(path)
  data = _read(path)
  arrays = {name: data[name] for name in _ARRAYS}
  try:
    enc.check_encodings(**arrays)
  except ValueError as e:
    raise ValueError(f"{path}: {e}") from e
  layout = data.get("layout")
  if layout is not None and layout not in enc.LAYOUTS:
    raise ValueError(f"{path}: unknown layout {layout!r}; valid: "
                     f"{', '.join(enc.LAYOUTS)}")
  meta = data.get("arena")
  config = seed = split = None
  if isinstance(meta, dict) and meta.get("format") == FORMAT:
    if meta.get("version") != FORMAT_VERSION:
      raise ValueError(f"{path}: format version {meta.get('version')!r}; "
                       f"this code reads version {FORMAT_VERSION}")
    split, seed = meta.get("split"), meta.get("seed")
    if meta.get("config") is not None:
      try:
        config = xland.TaskConfig(**{
            k: tuple(v) if isinstance(v, list) else v
            for k, v in meta["config"].items()})
      except (TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"{path}: bad generator config: {e}") from e
  return xland.TaskSet(
      goals=arrays["goals"], rules=arrays["rules"],
      init_tiles=arrays["init_tiles"], num_rules=arrays["num_rules"],
      layout=layout, split=split, config=config, seed=seed)


def load_benchmark(path: str | os.PathLike):
  """The task set at `path` as an `xminigrid.benchmarks.Benchmark`.

  Read by `xminigrid.benchmarks.load_benchmark_from_path` once
  `load_task_set` has checked the file (so a bad file is a ValueError, and
  no foreign pickle code runs).
  """
  load_task_set(path)
  import xminigrid  # pylint: disable=g-import-not-at-top
  return xminigrid.benchmarks.load_benchmark_from_path(str(path))


def make_env(layout: str):
  """`xminigrid.make` for `layout` ("R1-9x9"): (env, env_params); give the
  params a ruleset with `params.replace(ruleset=benchmark.get_ruleset(i))`.

  Raises:
    ValueError: unknown layout.
  """
  env_name = enc.env_id(layout)
  import xminigrid  # pylint: disable=g-import-not-at-top
  return xminigrid.make(env_name)
