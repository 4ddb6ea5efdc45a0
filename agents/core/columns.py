"""A column store: named numpy arrays with one row per item, on disk.

A directory holds one `.npy` file per column (all with the same number of
rows) and `manifest.json` (the columns' dtypes and shapes, the row count and
free-form metadata). `write_columns` writes a new directory atomically (a
temporary sibling, then `os.replace`), so a killed writer never leaves a
store that opens; `read_columns` opens the columns memory-mapped, so a store
larger than memory is read a batch at a time.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
from typing import Any, Mapping, NamedTuple

import numpy as np

MANIFEST = "manifest.json"
FORMAT = "arena.columns/1"


class Columns(NamedTuple):
  arrays: dict[str, np.ndarray]  # memory-mapped, read-only
  meta: dict[str, Any]
  num_rows: int


def write_columns(directory: str | os.PathLike[str],
                  arrays: Mapping[str, np.ndarray],
                  meta: Mapping[str, Any] | None = None) -> pathlib.Path:
  """Writes `arrays` (equal first dimensions) to `directory`, replacing it.

  Raises:
    ValueError: no columns, or columns of different lengths.
  """
  out = pathlib.Path(directory)
  if not arrays:
    raise ValueError("a column store needs at least one column")
  lengths = {name: len(a) for name, a in arrays.items()}
  if len(set(lengths.values())) != 1:
    raise ValueError(f"columns of different lengths: {lengths}")
  out.parent.mkdir(parents=True, exist_ok=True)
  tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
  try:
    for name, array in arrays.items():
      np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
    manifest = dict(
        format=FORMAT, num_rows=next(iter(lengths.values())),
        columns={name: dict(dtype=str(a.dtype), shape=list(a.shape[1:]))
                 for name, a in arrays.items()},
        meta=dict(meta or {}))
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    old = None
    if out.exists():
      old = out.with_name(f".{out.name}.old")
      shutil.rmtree(old, ignore_errors=True)
      os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
      shutil.rmtree(old, ignore_errors=True)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  return out


def read_columns(directory: str | os.PathLike[str]) -> Columns:
  """Opens a store written by `write_columns`, memory-mapped.

  Raises:
    ValueError: not a column store, or a column that disagrees with the
      manifest, naming it.
  """
  path = pathlib.Path(directory)
  try:
    manifest = json.loads((path / MANIFEST).read_text())
  except FileNotFoundError:
    raise ValueError(f"{path} is not a column store (no {MANIFEST})") from None
  except (OSError, ValueError) as e:
    raise ValueError(f"cannot read {path / MANIFEST}: {e}") from None
  if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
    raise ValueError(f"{path / MANIFEST} is not a {FORMAT} manifest")
  arrays = {}
  for name, spec in manifest["columns"].items():
    try:
      array = np.load(path / f"{name}.npy", mmap_mode="r")
    except (OSError, ValueError) as e:
      raise ValueError(f"{path}: cannot read column {name!r}: {e}") from None
    if (str(array.dtype) != spec["dtype"] or
        list(array.shape) != [manifest["num_rows"], *spec["shape"]]):
      raise ValueError(
          f"{path}: column {name!r} is {array.dtype}{list(array.shape)}, the "
          f"manifest says {spec['dtype']}{[manifest['num_rows'], *spec['shape']]}")
    arrays[name] = array
  return Columns(arrays=arrays, meta=manifest.get("meta", {}),
                 num_rows=int(manifest["num_rows"]))
