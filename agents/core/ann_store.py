"""The on-disk format of an `agents.core.ann` store, and input checks.

  DIR/manifest.json          format, version, generation, resolved config,
                             dim, num_entries, fields {name: dtype, shape},
                             index_file
  DIR/index-<gen>.faiss      the faiss index (DIR/scann-<gen>/ for ScaNN)
  DIR/keys.bin               [N, D] float32, raw, append-only
  DIR/payload/<field>.bin    [N, *shape] of the field's dtype, raw, append-only

The manifest is the commit record: readers map only its `num_entries` rows
of each column and load only its `index_file`, so rows or index generations
written after it (by an `add` that did not finish) are ignored.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from agents.core import ann_backends
from agents.core.ann_config import (HNSWParams, IndexConfig, IVFPQParams,
                                    ScannParams)
from agents.core.checkpoint import write_json_atomic

FORMAT = "arena-ann"
VERSION = 1
MANIFEST = "manifest.json"
KEYS_FILE = "keys.bin"
PAYLOAD_DIR = "payload"
GROUP = "group"  # the payload field every entry has: [] int64
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class IndexStoreError(ValueError):
  """An index directory is missing, incomplete or corrupt."""


class FieldSpec(NamedTuple):
  """A payload column: its dtype and per-entry shape."""
  dtype: np.dtype
  shape: tuple[int, ...]

  @property
  def row_bytes(self) -> int:
    return int(self.dtype.itemsize * np.prod(self.shape, dtype=np.int64))


def check_keys(keys: Any, dim: int | None, what: str = "keys") -> np.ndarray:
  """`keys` as [B, D] C-contiguous float32, checked."""
  keys = np.asarray(keys)
  if keys.ndim != 2:
    raise ValueError(f"{what} must be [B, D], got shape {keys.shape}")
  if dim is not None and keys.shape[1] != dim:
    raise ValueError(f"{what} have dimension {keys.shape[1]}; the index has "
                     f"{dim}")
  if keys.dtype.kind != "f":
    raise ValueError(f"{what} must be floating point, got dtype {keys.dtype}")
  keys = np.ascontiguousarray(keys, dtype=np.float32)
  if not np.isfinite(keys).all():
    raise ValueError(f"{what} contain NaN or infinite values")
  return keys


def check_payload(payload: Any, size: int,
                  fields: Mapping[str, FieldSpec] | None
                  ) -> dict[str, np.ndarray]:
  """The batch's columns, checked against `fields` (None: a first batch).

  The group column may be of any integer dtype that casts safely to int64.
  """
  if not isinstance(payload, Mapping):
    raise ValueError(f"payload must be a dict of arrays, got "
                     f"{type(payload).__name__}")
  if GROUP not in payload:
    raise ValueError(f"payload must have a {GROUP!r} field ([B] int64, the "
                     f"group of each entry); got fields {sorted(payload)}")
  if fields is not None and set(payload) != set(fields):
    raise ValueError(f"payload fields {sorted(payload)} do not match the "
                     f"index's {sorted(fields)}: missing "
                     f"{sorted(set(fields) - set(payload))}, unexpected "
                     f"{sorted(set(payload) - set(fields))}")
  out = {}
  for name, value in payload.items():
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
      raise ValueError(f"payload field name {name!r} must be an identifier")
    value = np.asarray(value)
    if value.ndim == 0 or value.shape[0] != size:
      raise ValueError(f"payload field {name!r} has shape {value.shape}; its "
                       f"first dimension must be the number of keys {size}")
    if value.dtype.kind not in "biuf":
      raise ValueError(f"payload field {name!r} must be a numeric or bool "
                       f"array, got dtype {value.dtype}")
    if name == GROUP:
      if value.ndim != 1 or value.dtype.kind not in "iu" or not np.can_cast(
          value.dtype, np.int64, "safe"):
        raise ValueError(f"payload field {GROUP!r} must be [B] integers "
                         f"(int64), got {value.dtype} {list(value.shape)}")
      value = value.astype(np.int64)
    if fields is not None:
      spec = fields[name]
      if value.dtype != spec.dtype or value.shape[1:] != spec.shape:
        raise ValueError(
            f"payload field {name!r} is {value.dtype} {list(value.shape[1:])} "
            f"per entry; the index stores {spec.dtype} {list(spec.shape)}")
    out[name] = np.ascontiguousarray(value)
  return out


def commit_manifest(directory: pathlib.Path,
                    manifest: Mapping[str, Any]) -> None:
  """The commit point of every write: atomically replaces the manifest."""
  write_json_atomic(directory / MANIFEST, manifest)
  ann_backends.fsync(directory)


def append_columns(directory: pathlib.Path, num_entries: int, keys: np.ndarray,
                    columns: Mapping[str, np.ndarray],
                    fields: Mapping[str, FieldSpec]) -> None:
  """Writes rows after the first `num_entries`, dropping any debris there."""
  files = [(directory / KEYS_FILE, keys, keys.shape[1] * 4)]
  files += [(directory / PAYLOAD_DIR / f"{n}.bin", columns[n], s.row_bytes)
            for n, s in fields.items()]
  for path, array, row_bytes in files:
    with path.open("r+b" if path.exists() else "wb") as f:
      f.truncate(num_entries * row_bytes)
      f.seek(num_entries * row_bytes)
      array.tofile(f)
      f.flush()
      os.fsync(f.fileno())


def read_manifest(directory: pathlib.Path) -> dict[str, Any]:
  if not directory.is_dir():
    raise IndexStoreError(f"no index directory at {str(directory)!r}")
  path = directory / MANIFEST
  try:
    manifest = json.loads(path.read_text())
  except FileNotFoundError as e:
    raise IndexStoreError(f"{str(directory)!r} is not an index directory: no "
                          f"{MANIFEST}") from e
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise IndexStoreError(f"corrupt manifest {path}: {e}") from e
  if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
    raise IndexStoreError(f"{path} is not an {FORMAT} manifest")
  if manifest.get("version") != VERSION:
    raise IndexStoreError(f"{path} has format version "
                          f"{manifest.get('version')!r}; this code reads "
                          f"{VERSION}")
  return manifest


def parse_manifest(manifest: Mapping[str, Any], path: pathlib.Path
                    ) -> tuple[IndexConfig, int, int, dict[str, FieldSpec]]:
  """(config, dim, num_entries, fields) of a manifest."""
  try:
    c = dict(manifest["config"])
    config = IndexConfig(
        backend=c["backend"], metric=c["metric"], seed=c["seed"],
        hnsw=HNSWParams(**c["hnsw"]), ivfpq=IVFPQParams(**c["ivfpq"]),
        scann=ScannParams(**c["scann"]))
    fields = {n: FieldSpec(np.dtype(s["dtype"]),
                           tuple(int(d) for d in s["shape"]))
              for n, s in manifest["fields"].items()}
    dim, n = int(manifest["dim"]), int(manifest["num_entries"])
    if GROUP not in fields or dim < 1 or n < 1 or not isinstance(
        manifest["index_file"], str):
      raise ValueError("bad group field, dim, num_entries or index_file")
  except (KeyError, TypeError, ValueError) as e:
    raise IndexStoreError(f"corrupt manifest {path}: {e!r}") from e
  return config, dim, n, fields


def load_backend(directory: pathlib.Path, manifest: Mapping[str, Any],
                  config: IndexConfig, n: int) -> ann_backends.Backend:
  path = directory / manifest["index_file"]
  if not path.exists():
    raise IndexStoreError(f"corrupt store {str(directory)!r}: its index "
                          f"{path.name} is missing")
  try:
    backend = ann_backends.load(path, config)
  except (RuntimeError, OSError) as e:
    raise IndexStoreError(f"corrupt index {path}: {e}") from e
  if backend.size != n:
    raise IndexStoreError(f"corrupt store {str(directory)!r}: the index holds "
                          f"{backend.size} entries, the manifest says {n}")
  return backend
