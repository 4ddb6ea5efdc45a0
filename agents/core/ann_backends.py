"""The index backends behind `agents.core.ann`; exact k-NN over keys on disk.

Each backend wraps one library index with the same small surface: `add`,
`search`, `set_params`, `save` and `size`; ids are the order of insertion.
  FaissBackend  "exact" (IndexFlat), "hnsw" (IndexHNSWFlat; Malkov & Yashunin
                2018, https://arxiv.org/abs/1603.09320), "ivfpq" (IVF + PQ,
                Jégou et al. 2011, https://doi.org/10.1109/TPAMI.2010.57,
                optionally refined on full, fp16 or 8-bit keys)
  ScannBackend  ScaNN 1.4.2 (Guo et al. 2020, https://arxiv.org/abs/1908.10396),
                the library of Humphreys et al. 2022
"""

from __future__ import annotations

import os
import pathlib
import shutil
from collections.abc import Mapping
from typing import Any

import faiss
import numpy as np

from agents.core.ann_config import IndexConfig

_REFINE_SPEC = {"none": "", "flat": ",RFlat", "sq8": ",Refine(SQ8)",
                "fp16": ",Refine(SQfp16)"}
_ADD_CHUNK = 65_536  # rows read from disk per `add` call while building


def fsync(path: pathlib.Path) -> None:
  """Flushes a file or directory to disk."""
  fd = os.open(path, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def _check_param_names(backend: str, params: Mapping[str, Any],
                       valid: tuple[str, ...]) -> None:
  unknown = sorted(set(params) - set(valid))
  if unknown:
    raise ValueError(f"backend {backend!r} has no search parameter(s) "
                     f"{unknown}; valid: {list(valid) or 'none'}")


class FaissBackend:
  """A faiss index: exact, HNSW or IVF-PQ (with optional refine)."""

  def __init__(self, index: faiss.Index, config: IndexConfig):
    self.index = index
    self.config = config
    if config.backend == "hnsw":
      self.set_params(ef_search=config.hnsw.ef_search)
    elif config.backend == "ivfpq":
      self.set_params(nprobe=config.ivfpq.nprobe,
                      k_factor=config.ivfpq.k_factor)

  @classmethod
  def create(cls, config: IndexConfig, dim: int,
             sample: np.ndarray | None) -> FaissBackend:
    """An empty index; IVF-PQ is trained on `sample` [S, D] float32."""
    metric = config.faiss_metric
    if config.backend == "exact":
      return cls(faiss.IndexFlat(dim, metric), config)
    if config.backend == "hnsw":
      index = faiss.IndexHNSWFlat(dim, config.hnsw.m, metric)
      index.hnsw.efConstruction = config.hnsw.ef_construction
      return cls(index, config)
    p = config.ivfpq
    if dim % p.pq_m:
      raise ValueError(f"ivfpq.pq_m={p.pq_m} must divide the key dimension "
                       f"{dim}")
    if sample is None or len(sample) < p.nlist:
      raise ValueError(f"ivfpq.nlist={p.nlist} needs at least as many "
                       f"training keys, got "
                       f"{0 if sample is None else len(sample)}; use a "
                       f"smaller nlist")
    # "np": no polysemous training, which only speeds up Hamming filtering
    # (unused here) and costs minutes.
    spec = (f"IVF{p.nlist},PQ{p.pq_m}x{p.pq_nbits}"
            f"{'fs' if p.fast_scan else 'np'}{_REFINE_SPEC[p.refine]}")
    index = faiss.index_factory(dim, spec, metric)
    index.train(sample)
    return cls(index, config)

  @classmethod
  def load(cls, path: pathlib.Path, config: IndexConfig) -> FaissBackend:
    return cls(faiss.read_index(str(path)), config)

  @property
  def size(self) -> int:
    return int(self.index.ntotal)

  def add(self, keys: np.ndarray) -> None:
    self.index.add(keys)

  def search(self, queries: np.ndarray, k: int
             ) -> tuple[np.ndarray, np.ndarray]:
    return self.index.search(queries, k)

  def set_params(self, **params: float) -> None:
    valid = {"exact": (), "hnsw": ("ef_search",),
             "ivfpq": ("nprobe", "k_factor")}[self.config.backend]
    _check_param_names(self.config.backend, params, valid)
    if "ef_search" in params:
      self.index.hnsw.efSearch = int(params["ef_search"])
    if "nprobe" in params:
      faiss.extract_index_ivf(self.index).nprobe = int(params["nprobe"])
    if "k_factor" in params and self.config.ivfpq.refine != "none":
      self.index.k_factor = float(params["k_factor"])

  def save(self, path: pathlib.Path) -> None:
    """Writes the index to `path` (a file) atomically."""
    tmp = path.with_name(f".tmp-{path.name}")
    faiss.write_index(self.index, str(tmp))
    fsync(tmp)
    os.replace(tmp, path)


class ScannBackend:
  """A ScaNN searcher; entries are added with `upsert` (ids continue)."""

  def __init__(self, searcher: Any, config: IndexConfig):
    self.searcher = searcher
    self.config = config
    self.params = {"leaves_to_search": config.scann.leaves_to_search,
                   "reorder": config.scann.reorder}

  @staticmethod
  def _module() -> Any:
    try:
      import scann  # pylint: disable=g-import-not-at-top
    except ImportError as e:
      raise ValueError("backend 'scann' needs the scann package: "
                       "pip install scann==1.4.2") from e
    return scann.scann_ops_pybind

  @classmethod
  def create(cls, config: IndexConfig, keys: np.ndarray) -> ScannBackend:
    """A searcher over all `keys` [N, D] (ScaNN's builder takes them all)."""
    p = config.scann
    dot = config.metric != "l2"
    builder = cls._module().builder(
        np.ascontiguousarray(keys), 10, "dot_product" if dot else "squared_l2")
    builder = builder.tree(num_leaves=p.num_leaves,
                           num_leaves_to_search=p.leaves_to_search,
                           training_sample_size=min(p.train_size, len(keys)))
    builder = builder.score_ah(
        p.dims_per_block, anisotropic_quantization_threshold=(
            p.anisotropic_threshold if dot else float("nan")))
    return cls(builder.reorder(p.reorder).build(), config)

  @classmethod
  def load(cls, path: pathlib.Path, config: IndexConfig) -> ScannBackend:
    return cls(cls._module().load_searcher(str(path)), config)

  @property
  def size(self) -> int:
    return int(self.searcher.size())

  def add(self, keys: np.ndarray) -> None:
    # The wrapper's `upsert` wants docids; the pybind one appends the rows
    # given index None, numbering them on from the current size.
    before = self.size
    ids = self.searcher.searcher.upsert([None] * len(keys), keys, 1024)
    if list(ids) != list(range(before, before + len(keys))):
      raise RuntimeError(f"ScaNN numbered {len(keys)} added entries "
                         f"{ids[:1]}..{ids[-1:]}, expected from {before}")

  def search(self, queries: np.ndarray, k: int
             ) -> tuple[np.ndarray, np.ndarray]:
    ids, dist = self.searcher.search_batched(
        queries, k, max(k, self.params["reorder"]),
        self.params["leaves_to_search"])
    ids = np.asarray(ids, np.int64).reshape(len(queries), -1)
    dist = np.asarray(dist, np.float32).reshape(len(queries), -1)
    if ids.shape[1] < k:  # fewer entries than k
      pad = ((0, 0), (0, k - ids.shape[1]))
      ids = np.pad(ids, pad, constant_values=-1)
      dist = np.pad(dist, pad, constant_values=np.nan)
    return dist, ids

  def set_params(self, **params: float) -> None:
    _check_param_names("scann", params, ("leaves_to_search", "reorder"))
    self.params.update({k: int(v) for k, v in params.items()})

  def save(self, path: pathlib.Path) -> None:
    """Writes the searcher's assets to `path` (a directory) atomically."""
    tmp = path.with_name(f".tmp-{path.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    self.searcher.serialize(str(tmp), relative_path=True)
    for f in tmp.iterdir():
      fsync(f)
    os.replace(tmp, path)


Backend = FaissBackend | ScannBackend


def index_file_name(config: IndexConfig, generation: int) -> str:
  """The index's name inside the store for `generation`."""
  if config.backend == "scann":
    return f"scann-{generation:06d}"
  return f"index-{generation:06d}.faiss"


def create(config: IndexConfig, keys: np.ndarray, sample: np.ndarray | None,
           on_progress: Any = None) -> Backend:
  """An index over all `keys` [N, D] (a memmap is read in chunks).

  `sample` trains IVF-PQ; `on_progress(num_done)` is called after each chunk.
  """
  if config.backend == "scann":
    return ScannBackend.create(config, keys)
  backend = FaissBackend.create(config, keys.shape[1], sample)
  for start in range(0, len(keys), _ADD_CHUNK):
    backend.add(np.ascontiguousarray(keys[start:start + _ADD_CHUNK]))
    if on_progress is not None:
      on_progress(min(len(keys), start + _ADD_CHUNK))
  return backend


def load(path: pathlib.Path, config: IndexConfig) -> Backend:
  if config.backend == "scann":
    return ScannBackend.load(path, config)
  return FaissBackend.load(path, config)


def exact_knn(keys: np.ndarray, queries: np.ndarray, k: int, metric: str,
              groups: np.ndarray | None = None,
              exclude: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
  """Exact k nearest rows of `keys` in chunks, optionally skipping groups.

  Args:
    keys: [N, D] float32, e.g. a memmap (read a chunk at a time).
    queries: [Q, D] float32.
    k: neighbours per query.
    metric: "l2" (squared distances, ascending) or "ip"/"cosine" (inner
      products of the given vectors, descending).
    groups: [N] int64, with `exclude` [Q] int64: row j is skipped for query
      q when groups[j] == exclude[q].

  Returns:
    (distances [Q, k] float32, ids [Q, k] int64), nearest first; padded with
    id -1 and distance +inf (l2) or -inf (ip) when fewer rows are eligible.
  """
  larger = metric != "l2"
  worst = np.float32(-np.inf if larger else np.inf)
  best_d = np.full((len(queries), k), worst, np.float32)
  best_i = np.full((len(queries), k), -1, np.int64)
  # Chunks of at most 2^18 rows (64 MiB of keys at D=64) and 2^24 distances.
  step = min(1 << 18, max(4096, (1 << 24) // max(1, len(queries))))
  for start in range(0, len(keys), step):
    block = np.ascontiguousarray(keys[start:start + step], np.float32)
    if exclude is None:
      metric_id = faiss.METRIC_INNER_PRODUCT if larger else faiss.METRIC_L2
      d, i = faiss.knn(queries, block, min(k, len(block)), metric_id)
    else:
      d = queries @ block.T
      if not larger:
        d = (queries ** 2).sum(1)[:, None] - 2 * d + (block ** 2).sum(1)[None]
      block_groups = np.asarray(groups[start:start + step])
      d[block_groups[None, :] == exclude[:, None]] = worst
      kk = min(k, len(block))
      i = np.argpartition(-d if larger else d, kk - 1, axis=1)[:, :kk]
      d = np.take_along_axis(d, i, axis=1)
    i = np.where((i < 0) | ~np.isfinite(d) | (np.abs(d) >= 3e38), -1, i + start)
    d = np.where(i < 0, worst, d).astype(np.float32)
    cand_d = np.concatenate([best_d, d], axis=1)
    cand_i = np.concatenate([best_i, i.astype(np.int64)], axis=1)
    top = np.argsort(-cand_d if larger else cand_d, axis=1,
                     kind="stable")[:, :k]
    best_d = np.take_along_axis(cand_d, top, axis=1)
    best_i = np.take_along_axis(cand_i, top, axis=1)
  return best_d, best_i
