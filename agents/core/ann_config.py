"""What index to build: the backend, the metric and their parameters.

Configs for `agents.core.ann` (Humphreys et al. 2022,
https://arxiv.org/abs/2206.05314): HNSW (Malkov & Yashunin 2018,
https://arxiv.org/abs/1603.09320), IVF-PQ (Jégou et al. 2011,
https://doi.org/10.1109/TPAMI.2010.57) and ScaNN (Guo et al. 2020,
https://arxiv.org/abs/1908.10396). Zeros in sizes mean "pick for N"
(`resolved`); the resolved config is what a store's manifest records.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, get_args

import faiss
import numpy as np

Backend = Literal["exact", "hnsw", "ivfpq", "scann"]
Metric = Literal["l2", "ip", "cosine"]
Refine = Literal["none", "flat", "sq8", "fp16"]


@dataclasses.dataclass(frozen=True)
class HNSWParams:
  """HNSW graph (Malkov & Yashunin 2018)."""
  m: int = 32                 # links per node (memory: ~2 m int32 per entry)
  ef_construction: int = 80   # candidate list while inserting
  ef_search: int = 64         # candidate list while searching (max(ef, k))


@dataclasses.dataclass(frozen=True)
class IVFPQParams:
  """IVF + PQ (Jégou et al. 2011). Zeros mean automatic sizes."""
  nlist: int = 0              # coarse centroids; 0: ~4 sqrt(N), a power of 2
  pq_m: int = 16              # sub-quantizers; must divide the key dimension
  pq_nbits: int = 8           # bits per sub-quantizer code (4 with fast_scan)
  fast_scan: bool = False     # 4-bit codes scanned with SIMD ("PQ<m>x4fs")
  refine: Refine = "flat"     # re-rank candidates on full/fp16/8-bit keys
  nprobe: int = 16            # lists visited per query
  k_factor: float = 4.0       # candidates re-ranked per wanted neighbour
  train_size: int = 0         # training keys; 0: max(20k, 50 nlist), <= N


@dataclasses.dataclass(frozen=True)
class ScannParams:
  """ScaNN tree + anisotropic hashing. `num_leaves=0` picks ~sqrt(N)."""
  num_leaves: int = 0
  leaves_to_search: int = 64
  dims_per_block: int = 2
  reorder: int = 128          # candidates re-ranked exactly
  anisotropic_threshold: float = 0.2  # dot-product metrics only
  train_size: int = 100_000


_AUTO_OK = ("nlist", "train_size", "num_leaves", "anisotropic_threshold")


@dataclasses.dataclass(frozen=True)
class IndexConfig:
  """Which index to build. Search-time values (ef_search, nprobe, k_factor,
  leaves_to_search, reorder) can be changed after `open`."""
  backend: Backend = "hnsw"
  metric: Metric = "l2"
  hnsw: HNSWParams = dataclasses.field(default_factory=HNSWParams)
  ivfpq: IVFPQParams = dataclasses.field(default_factory=IVFPQParams)
  scann: ScannParams = dataclasses.field(default_factory=ScannParams)
  seed: int = 0               # draws the training sample

  def __post_init__(self):
    for name, value, valid in (("backend", self.backend, get_args(Backend)),
                               ("metric", self.metric, get_args(Metric)),
                               ("ivfpq.refine", self.ivfpq.refine,
                                get_args(Refine))):
      if value not in valid:
        raise ValueError(f"{name} must be one of {valid}, got {value!r}")
    if self.ivfpq.fast_scan and self.ivfpq.pq_nbits != 4:
      raise ValueError(f"ivfpq.fast_scan needs pq_nbits=4, got "
                       f"{self.ivfpq.pq_nbits}")
    for group in (self.hnsw, self.ivfpq, self.scann):
      for f in dataclasses.fields(group):
        value = getattr(group, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
          continue
        if value < 0 or (value == 0 and f.name not in _AUTO_OK):
          raise ValueError(f"{type(group).__name__}.{f.name} must be > 0, got "
                           f"{value}")

  @property
  def faiss_metric(self) -> int:
    if self.metric == "l2":
      return faiss.METRIC_L2
    return faiss.METRIC_INNER_PRODUCT


def resolved(config: IndexConfig, n: int) -> IndexConfig:
  """`config` with automatic sizes (0) replaced by values for `n` entries."""
  if config.backend == "ivfpq":
    p = config.ivfpq
    nlist = p.nlist or max(1, min(int(2 ** round(np.log2(4 * np.sqrt(n)))),
                                  n // 39 or 1))  # faiss wants >= 39 per list
    train_size = p.train_size or min(n, max(20_000, 50 * nlist))
    config = dataclasses.replace(config, ivfpq=dataclasses.replace(
        p, nlist=nlist, train_size=train_size))
  if config.backend == "scann" and config.scann.num_leaves == 0:
    leaves = max(1, min(int(np.sqrt(n)), n // 10 or 1))
    config = dataclasses.replace(config, scann=dataclasses.replace(
        config.scann, num_leaves=leaves,
        leaves_to_search=min(config.scann.leaves_to_search, leaves)))
  return config
