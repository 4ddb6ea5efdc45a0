"""A nearest-neighbour index store: keys, an ANN index, memory-mapped payload.

Retrieval-augmented agents (Humphreys et al. 2022, "Large-scale Retrieval for
Reinforcement Learning", https://arxiv.org/abs/2206.05314) look up the
neighbours of a query key among millions of stored entries and read each
neighbour's payload. This module is that store and nothing more: it knows no
game and no algorithm. An entry is a float32 key [D], an int64 `group` and a
payload of fixed-shape numpy arrays; a search can drop every neighbour of the
query's own group (e.g. its own game).

Backends, behind one interface (`IndexConfig.backend`):
  "exact"  faiss IndexFlat: brute force, the ground truth.
  "hnsw"   faiss IndexHNSWFlat, a navigable small-world graph (Malkov &
           Yashunin 2018, https://arxiv.org/abs/1603.09320).
  "ivfpq"  faiss IVF with product quantization (Jégou et al. 2011,
           https://doi.org/10.1109/TPAMI.2010.57), optionally re-ranked on
           full, fp16 or 8-bit keys; trained on a sample of the keys.
  "scann"  ScaNN (`scann==1.4.2`, Guo et al. 2020), the paper's library:
           a k-means tree with anisotropic quantization and re-ranking.
Metrics: "l2" (squared L2 distances, ascending), "ip" (inner products,
descending) and "cosine" (keys and queries L2-normalised, then "ip").

A store is a directory:

  DIR/manifest.json          format version, config, dim, num_entries,
                             payload fields (dtype, shape), index file name
  DIR/index-<gen>.faiss      the faiss index (or DIR/scann-<gen>/ for ScaNN)
  DIR/keys.bin               [N, D] float32 keys as indexed (normalised for
                             "cosine"): the ground truth for `recall_at_k`
  DIR/payload/<field>.bin    raw append-only columns, one per field, "group"
                             ([N] int64) among them, read with np.memmap

Writes are atomic. `build` writes into a hidden temporary directory beside
DIR and renames it into place when complete. `add` appends rows past the
manifest's `num_entries` (ignored by readers), writes the grown index under a
new generation name, then commits by atomically replacing the manifest; a
killed `add` leaves the previous store intact and its debris is dropped by
the next one. One writer at a time (`add` takes an flock); an open `Index`
keeps seeing the entries it was opened with.

The pieces: `ann_config` (what to build), `ann_backends` (the faiss and
ScaNN wrappers, exact search), `ann_store` (the files, input checks) and this
module (build, add, open, search).
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import pathlib
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import faiss
import numpy as np

from agents.core import ann_backends, ann_store
from agents.core import progress as progress_lib
from agents.core.ann_config import (Backend, HNSWParams, IndexConfig,
                                    IVFPQParams, Metric, Refine, ScannParams,
                                    resolved)
from agents.core.ann_store import (FORMAT, GROUP, KEYS_FILE, MANIFEST,
                                   PAYLOAD_DIR, VERSION, FieldSpec,
                                   IndexStoreError)

__all__ = [
    "FORMAT", "GROUP", "MANIFEST", "VERSION", "Backend", "FieldSpec",
    "HNSWParams", "IVFPQParams", "Index", "IndexConfig", "IndexStoreError",
    "MemoryUse", "Metric", "Refine", "ScannParams", "SearchResult", "add",
    "build", "open",
]


class SearchResult(NamedTuple):
  """Neighbours of each query, nearest first."""
  distances: np.ndarray           # [Q, k] float32; pads +inf (l2), -inf (ip)
  ids: np.ndarray                 # [Q, k] int64; pads -1
  payload: dict[str, np.ndarray]  # field -> [Q, k, *shape]; zeros at id -1


class MemoryUse(NamedTuple):
  """Bytes a store takes."""
  index: int    # bytes of the ANN index (held in RAM)
  payload: int  # bytes of the payload columns (memory-mapped, paged on use)
  keys: int     # bytes of keys.bin (memory-mapped, read by exact searches)

  @property
  def total(self) -> int:
    """Index plus payload: what serving searches needs."""
    return self.index + self.payload


def _check_k(k: Any, what: str = "k") -> int:
  if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
    raise ValueError(f"{what} must be a positive integer, got {k!r}")
  return int(k)


def _normalized(keys: np.ndarray) -> np.ndarray:
  keys = keys.copy()
  faiss.normalize_L2(keys)
  return keys


# -------------------------------------------------------------- build, add ---


def _train_sample(keys: np.ndarray, size: int, seed: int) -> np.ndarray:
  """Up to `size` rows of `keys`, drawn without replacement."""
  if len(keys) <= size:
    return np.array(keys)
  rows = np.random.default_rng(seed).choice(len(keys), size, replace=False)
  return np.ascontiguousarray(keys[np.sort(rows)])  # sorted: sequential reads


def _zip_batches(keys_iter: Iterable[Any], payload_iter: Iterable[Any]
                 ) -> Iterator[tuple[Any, Any]]:
  try:
    yield from zip(keys_iter, payload_iter, strict=True)
  except ValueError as e:
    if "zip()" not in str(e):
      raise
    raise ValueError(f"keys_iter and payload_iter gave different numbers of "
                     f"batches ({e})") from e


def _write_store(tmp: pathlib.Path, keys_iter: Iterable[np.ndarray],
                 payload_iter: Iterable[Mapping[str, np.ndarray]],
                 config: IndexConfig, num_entries: int | None,
                 progress: bool) -> None:
  """Writes a complete store into the empty directory `tmp`."""
  (tmp / PAYLOAD_DIR).mkdir()
  n, dim, fields = 0, None, None
  with progress_lib.bar(progress) as bar:
    task = bar.add_task("write entries", total=num_entries)
    for i, (keys, payload) in enumerate(_zip_batches(keys_iter, payload_iter)):
      try:
        keys = ann_store.check_keys(keys, dim)
        columns = ann_store.check_payload(payload, len(keys), fields)
      except ValueError as e:
        raise ValueError(f"batch {i}: {e}") from e
      if config.metric == "cosine":
        keys = _normalized(keys)
      if fields is None:
        dim = keys.shape[1]
        fields = {name: FieldSpec(a.dtype, a.shape[1:])
                  for name, a in columns.items()}
      ann_store.append_columns(tmp, n, keys, columns, fields)
      n += len(keys)
      bar.update(task, completed=n)
    if n == 0:
      raise ValueError("build got no entries; a store needs at least one")
    config = resolved(config, n)
    keys = np.memmap(tmp / KEYS_FILE, np.float32, "r", shape=(n, dim))
    sample = None
    if config.backend == "ivfpq":  # (faiss trains inside `create`)
      sample = _train_sample(keys, config.ivfpq.train_size, config.seed)
    task = bar.add_task(f"index ({config.backend})", total=n)
    backend = ann_backends.create(config, keys, sample,
                                  lambda done: bar.update(task, completed=done))
    bar.update(task, completed=n)
    index_file = ann_backends.index_file_name(config, 0)
    backend.save(tmp / index_file)
  ann_store.commit_manifest(tmp, {
      "format": FORMAT, "version": VERSION, "generation": 0,
      "config": dataclasses.asdict(config), "dim": dim, "num_entries": n,
      "fields": {name: {"dtype": s.dtype.str, "shape": list(s.shape)}
                 for name, s in fields.items()},
      "index_file": index_file})


def build(directory: str | os.PathLike[str],
          keys_iter: Iterable[np.ndarray],
          payload_iter: Iterable[Mapping[str, np.ndarray]],
          config: IndexConfig | None = None, *,
          num_entries: int | None = None, progress: bool = True,
          overwrite: bool = False) -> Index:
  """Builds a store at `directory` from batches, then opens it.

  Batches are streamed to disk first, then indexed from the memory-mapped
  keys, so neither keys nor payload need fit in memory (except for ScaNN,
  whose builder takes all keys at once). The store is written to a hidden
  directory beside `directory` and renamed into place when complete.

  Args:
    directory: where the store goes; must not exist unless `overwrite`.
    keys_iter: batches of keys, each [B, D] floating point.
    payload_iter: one dict per key batch, field -> [B, ...] array of a fixed
      dtype and per-entry shape; must include "group" ([B] int64).
    config: the backend, metric and their parameters (default: HNSW, L2).
    num_entries: the expected total, only for the progress bar.
    progress: show a rich progress bar.
    overwrite: replace an existing store (or empty directory).

  Returns:
    The opened `Index`.

  Raises:
    ValueError: on bad input (naming the batch and what is wrong), on an
      existing `directory` without `overwrite`, or with no entries at all.
  """
  directory = pathlib.Path(directory)
  config = IndexConfig() if config is None else config
  if directory.exists():
    if not overwrite:
      raise ValueError(f"{str(directory)!r} exists; pass overwrite=True to "
                       f"replace it")
    if not directory.is_dir() or not ((directory / MANIFEST).exists() or
                                      not any(directory.iterdir())):
      raise ValueError(f"{str(directory)!r} is neither an index store nor an "
                       f"empty directory; refusing to overwrite it")
  directory.parent.mkdir(parents=True, exist_ok=True)
  tmp = pathlib.Path(tempfile.mkdtemp(dir=directory.parent,
                                      prefix=f".{directory.name}.building-"))
  try:
    _write_store(tmp, keys_iter, payload_iter, config, num_entries, progress)
    if directory.exists():  # move the old store aside, swap, delete it
      old = pathlib.Path(tempfile.mkdtemp(dir=directory.parent,
                                          prefix=f".{directory.name}.old-"))
      os.replace(directory, old / "store")
      os.replace(tmp, directory)
      shutil.rmtree(old)
    else:
      os.replace(tmp, directory)
    ann_backends.fsync(directory.parent)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  return open(directory)


def add(directory: str | os.PathLike[str], keys: np.ndarray,
        payload: Mapping[str, np.ndarray]) -> range:
  """Appends entries to the store at `directory` without rebuilding its index.

  The keys go into the existing index (HNSW links them into its graph,
  IVF-PQ encodes them with its trained quantizers, ScaNN upserts them), so
  ids continue from `num_entries`. Rows are appended to the columns past
  the committed ones, the grown index is saved under a new generation name
  (the whole file is rewritten: add in large batches), and replacing the
  manifest commits. A killed `add` leaves the previous store loadable.
  Writers are serialised by an flock on DIR/.lock.

  Args:
    directory: an existing store.
    keys: [B, D] floating point.
    payload: field -> [B, ...]: the store's fields, dtypes and shapes.

  Returns:
    The ids of the new entries.

  Raises:
    ValueError: if the store is missing or corrupt, or the batch does not
      match it.
  """
  directory = pathlib.Path(directory)
  ann_store.read_manifest(directory)
  with (directory / ".lock").open("a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
    manifest = ann_store.read_manifest(directory)  # as last committed
    config, dim, n, fields = ann_store.parse_manifest(manifest,
                                                      directory / MANIFEST)
    keys = ann_store.check_keys(keys, dim)
    columns = ann_store.check_payload(payload, len(keys), fields)
    if not len(keys):
      return range(n, n)
    if config.metric == "cosine":
      keys = _normalized(keys)
    backend = ann_store.load_backend(directory, manifest, config, n)
    ann_store.append_columns(directory, n, keys, columns, fields)
    backend.add(keys)
    generation = int(manifest.get("generation", 0)) + 1
    index_file = ann_backends.index_file_name(config, generation)
    backend.save(directory / index_file)
    ann_store.commit_manifest(directory, {
        **manifest, "generation": generation, "num_entries": n + len(keys),
        "index_file": index_file})
    for stale in directory.iterdir():  # older generations, killed adds' debris
      if stale.name != index_file and stale.name.startswith(
          ("index-", "scann-", ".tmp-", f".{MANIFEST}.")):
        if stale.is_dir():
          shutil.rmtree(stale)
        else:
          stale.unlink()
  return range(n, n + len(keys))


# ------------------------------------------------------------------ search ---


class Index:
  """An opened store: search with exclusion, payload reads, recall.

  Attributes:
    config: the resolved `IndexConfig` it was built with.
    dim, num_entries: key dimension and number of entries when opened.
    fields: field -> FieldSpec of the payload.
    keys: [N, D] float32 np.memmap of the keys as indexed.
    payload: field -> [N, ...] np.memmap.
  """

  def __init__(self, directory: pathlib.Path, searchable: bool = True):
    self.directory = directory
    manifest = ann_store.read_manifest(directory)
    (self.config, self.dim, self.num_entries,
     self.fields) = ann_store.parse_manifest(manifest, directory / MANIFEST)
    self.keys = self._map(KEYS_FILE,
                          FieldSpec(np.dtype(np.float32), (self.dim,)))
    self.payload = {n: self._map(f"{PAYLOAD_DIR}/{n}.bin", s)
                    for n, s in self.fields.items()}
    # Without search (payload and keys only), the index is not loaded.
    self._backend = (ann_store.load_backend(directory, manifest, self.config,
                                            self.num_entries)
                     if searchable else None)
    self._index_path = directory / manifest["index_file"]

  def _map(self, name: str, spec: FieldSpec) -> np.memmap:
    path = self.directory / name
    need = self.num_entries * spec.row_bytes
    have = path.stat().st_size if path.exists() else 0
    if have < need:
      raise IndexStoreError(f"corrupt store {str(self.directory)!r}: {name} "
                            f"has {have} bytes; {self.num_entries} entries "
                            f"need {need}")
    return np.memmap(path, spec.dtype, "r",
                     shape=(self.num_entries, *spec.shape))

  @property
  def larger_is_closer(self) -> bool:
    """True for the inner-product metrics (distances are similarities)."""
    return self.config.metric != "l2"

  def memory(self) -> MemoryUse:
    """Bytes of the index (its size on disk, about what faiss/ScaNN hold in
    RAM), of the payload columns and of the keys file."""
    p = self._index_path
    index = (sum(f.stat().st_size for f in p.iterdir()) if p.is_dir() else
             p.stat().st_size)
    return MemoryUse(index=index,
                     payload=sum(a.nbytes for a in self.payload.values()),
                     keys=self.keys.nbytes)

  def set_search_params(self, **params: float) -> None:
    """Sets ef_search (hnsw); nprobe, k_factor (ivfpq); leaves_to_search,
    reorder (scann). Raises ValueError for a name the backend lacks."""
    self._backend.set_params(**params)

  def gather(self, ids: np.ndarray) -> dict[str, np.ndarray]:
    """The payload of `ids` (int64, any shape): field -> [*ids.shape, ...];
    zeros where the id is -1."""
    ids = np.asarray(ids, np.int64)
    missing = ids.reshape(-1) < 0
    rows = np.where(missing, 0, ids.reshape(-1))
    out = {}
    for name, column in self.payload.items():
      values = np.asarray(column[rows])
      values[missing] = 0
      out[name] = values.reshape(*ids.shape, *column.shape[1:])
    return out

  def _queries(self, queries: Any) -> np.ndarray:
    queries = ann_store.check_keys(queries, self.dim, "queries")
    return _normalized(queries) if self.config.metric == "cosine" else queries

  def search(self, queries: np.ndarray, k: int,
             exclude_groups: np.ndarray | None = None, *,
             fetch: int | None = None, max_fetch: int = 2048) -> SearchResult:
    """The `k` nearest entries of each query, nearest first, with payload.

    Guarantee with `exclude_groups`: no returned entry has its query's group.
    The index is asked for `fetch` (default max(2k, k + 32)) neighbours and
    those of the query's group are dropped; rows left with fewer than k are
    asked again with 4x as many, up to `max_fetch`; rows still short are
    answered by exact search over the eligible entries. So a row is padded
    (id -1) only when the store has fewer than k entries outside the query's
    group. Without exclusion, padding happens only when k > num_entries.

    Args:
      queries: [Q, D] floating point.
      k: neighbours per query.
      exclude_groups: [Q] integers: the group each query must not get
        neighbours from; None excludes nothing.
      fetch: the first over-fetch when excluding.
      max_fetch: the largest approximate fetch before exact search.

    Returns:
      SearchResult(distances [Q, k] float32, ids [Q, k] int64,
      payload field -> [Q, k, ...]).

    Raises:
      ValueError: on queries of the wrong shape or dtype, k < 1, or
        exclude_groups that are not [Q] integers.
    """
    if self._backend is None:
      raise ValueError(f"{str(self.directory)!r} was opened without its "
                       "index (searchable=False); open it to search")
    queries = self._queries(queries)
    k = _check_k(k)
    if exclude_groups is None:
      dist, ids = self._backend.search(queries, k)
    else:
      groups = np.asarray(exclude_groups)
      if groups.shape != (len(queries),) or groups.dtype.kind not in "iu":
        raise ValueError(f"exclude_groups must be [Q={len(queries)}] integers, "
                         f"got {groups.dtype} {list(groups.shape)}")
      fetch = max(2 * k, k + 32) if fetch is None else _check_k(fetch, "fetch")
      dist, ids = self._search_excluding(
          queries, k, groups.astype(np.int64), fetch,
          _check_k(max_fetch, "max_fetch"))
    ids = np.asarray(ids, np.int64)
    worst = -np.inf if self.larger_is_closer else np.inf
    dist = np.where(ids < 0, worst, dist).astype(np.float32)
    return SearchResult(dist, ids, self.gather(ids))

  def _search_excluding(self, queries: np.ndarray, k: int, groups: np.ndarray,
                        fetch: int, max_fetch: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    n = self.num_entries
    dist = np.zeros((len(queries), k), np.float32)
    ids = np.full((len(queries), k), -1, np.int64)
    todo, exact_rows = np.arange(len(queries)), [np.zeros(0, np.int64)]
    fetch = min(max(fetch, k), n)
    while todo.size:
      d, i = self._backend.search(queries[todo], fetch)
      got = (i >= 0).sum(axis=1)
      ok = (i >= 0) & (np.asarray(self.payload[GROUP][np.maximum(i, 0)]) !=
                       groups[todo, None])
      done = (ok.sum(axis=1) >= k) | (got == n)  # got == n: saw every entry
      first = np.argsort(~ok[done], axis=1, kind="stable")[:, :k]
      picked = np.take_along_axis(ok[done], first, axis=1)
      dist[todo[done], :first.shape[1]] = np.take_along_axis(d[done], first, 1)
      ids[todo[done], :first.shape[1]] = np.where(
          picked, np.take_along_axis(i[done], first, axis=1), -1)
      # A row given fewer than it asked for has seen all the index reaches
      # (an HNSW graph region, IVF's probed lists); asking for more is futile.
      exhausted = ~done & (got < fetch)
      exact_rows.append(todo[exhausted])
      todo = todo[~done & ~exhausted]
      if fetch >= min(n, max_fetch):
        exact_rows.append(todo)
        break
      fetch = min(4 * fetch, max_fetch, n)
    rows = np.concatenate(exact_rows)
    if rows.size:  # exact search over the eligible entries
      dist[rows], ids[rows] = ann_backends.exact_knn(
          self.keys, queries[rows], k, self.config.metric,
          self.payload[GROUP], groups[rows])
    return dist, ids

  def exact_search(self, queries: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force (distances [Q, k], ids [Q, k]) over the stored keys."""
    return ann_backends.exact_knn(self.keys, self._queries(queries),
                                  _check_k(k), self.config.metric)

  def recall_at_k(self, queries: np.ndarray, k: int) -> float:
    """The mean fraction of each query's exact k nearest that `search` finds."""
    found = self.search(queries, k).ids
    _, true = self.exact_search(queries, k)
    hits = ((found[:, :, None] == true[:, None, :]) &
            (true[:, None, :] >= 0)).any(axis=-1)
    return float(hits.sum() / max(1, (true >= 0).sum()))


def open(  # pylint: disable=redefined-builtin
    directory: str | os.PathLike[str], *, searchable: bool = True) -> Index:
  """Opens the store at `directory` for search (with `searchable=False`,
  for payload and key reads only: the index is not loaded into memory).

  Raises:
    ValueError (IndexStoreError): if the directory is missing, incomplete or
      corrupt (manifest, index file or payload columns).
  """
  return Index(pathlib.Path(directory), searchable)
