"""Nearest-neighbour index store (`agents.core.ann`): build time, memory,
recall@k against exact search and queries/s per core, for each backend.

Keys are clustered synthetic vectors (Gaussian blobs, each spread in its
own 16-dimensional subspace, or isotropically with `--intrinsic-dim 0`;
`--spread 2` makes the blobs overlap, a harder case), made batch by batch so
10M need not fit in memory, or real keys from a .npy file (memory-mapped;
its last `--num-queries` rows are held out as queries; `benchmarks/go_keys.py`
writes a Go store's, with `--groups-npy` giving each entry's game). Every
entry carries a Go-like payload (board int8 [81], next moves int16 [8],
outcome int8, game id int32, move number int16, group int64: 112 bytes;
the group from `--groups-npy` where given). Search is timed on one
thread (`faiss.omp_set_num_threads(1)`; ScaNN's non-parallel path) over the
held-out queries in one batch after a warm-up (best of 5 passes), swept
over efSearch (HNSW), nprobe (IVF-PQ) and leaves_to_search (ScaNN), with
and without group exclusion (each query excluding its own game with
`--groups-npy`, else the game of its exact nearest neighbour, as a position
from a stored game would). Builds use every core this process may use.

  python benchmarks/ann_index.py                          # 1M x 64
  python benchmarks/ann_index.py --num-entries 10000000   # needs ~24 GiB
  python benchmarks/ann_index.py --num-entries 200000 --backends hnsw,ivfpq
  python benchmarks/ann_index.py --keys-npy keys.npy

Prints one JSON object (device, per-backend results), then a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator

import faiss
import numpy as np

from agents.core import ann
import common  # benchmarks/common.py, beside this script

_GAME_LENGTH = 80  # entries per synthetic game (its group)


def _configs(dim: int) -> dict[str, ann.IndexConfig]:
  """The backends compared; PQ codes are 16 bytes per entry at D=64."""
  pq_m = max(1, dim // 4)
  while dim % pq_m:
    pq_m -= 1
  fs_m = max(1, dim // 2)
  while dim % fs_m:
    fs_m -= 1
  return {
      "exact": ann.IndexConfig(backend="exact"),
      "hnsw": ann.IndexConfig(backend="hnsw", hnsw=ann.HNSWParams(
          m=32, ef_construction=80, ef_search=64)),
      "ivfpq": ann.IndexConfig(backend="ivfpq", ivfpq=ann.IVFPQParams(
          pq_m=pq_m, pq_nbits=8, refine="flat")),
      "ivfpq-fs": ann.IndexConfig(backend="ivfpq", ivfpq=ann.IVFPQParams(
          pq_m=fs_m, pq_nbits=4, fast_scan=True, refine="flat",
          k_factor=16)),  # coarse 4-bit codes: re-rank more candidates
      "scann": ann.IndexConfig(backend="scann", scann=ann.ScannParams(
          reorder=256)),
  }


_SWEEPS = {
    "exact": ("none", [None]),
    "hnsw": ("ef_search", [16, 32, 64, 128, 256]),
    "ivfpq": ("nprobe", [4, 8, 16, 32, 64]),
    "ivfpq-fs": ("nprobe", [4, 8, 16, 32, 64]),
    "scann": ("leaves_to_search", [8, 16, 32, 64, 128]),
}


def _synthetic_batches(num: int, dim: int, num_clusters: int,
                       intrinsic_dim: int, spread: float, batch: int, seed: int,
                       stream: int) -> Iterator[np.ndarray]:
  """Batches of keys around `num_clusters` N(0, I) centres (fixed by `seed`).

  A key is its centre plus 0.5 * N(0, I_D) noise when `intrinsic_dim` is 0
  (hard: neighbours are barely nearer than the rest of the cluster), else
  plus a 0.5-scaled Gaussian in the cluster's own random `intrinsic_dim`-dim
  subspace and 0.05 * N(0, I_D): closer to learned embeddings, which lie
  near low-dimensional manifolds. `stream` separates entries from queries.
  """
  rng = np.random.default_rng([seed, 0])
  centres = rng.standard_normal((num_clusters, dim))
  bases = (rng.standard_normal((num_clusters, intrinsic_dim, dim)) /
           np.sqrt(max(1, intrinsic_dim)))
  for b, start in enumerate(range(0, num, batch)):
    rng = np.random.default_rng([seed, stream, b])
    size = min(batch, num - start)
    labels = rng.integers(0, num_clusters, size)
    if intrinsic_dim:
      z = rng.standard_normal((size, 1, intrinsic_dim))
      offsets = spread * (z @ bases[labels])[:, 0] + 0.1 * spread * (
          rng.standard_normal((size, dim)))
    else:
      offsets = spread * rng.standard_normal((size, dim))
    yield (centres[labels] + offsets).astype(np.float32)


def _payload(start: int, size: int, groups: np.ndarray | None = None
             ) -> dict[str, np.ndarray]:
  i = np.arange(start, start + size)
  rng = np.random.default_rng(start)
  return {
      "group": (i // _GAME_LENGTH if groups is None else
                np.asarray(groups[start:start + size], np.int64)),
      "board": rng.integers(-1, 2, (size, 81), dtype=np.int8),
      "next_moves": rng.integers(0, 82, (size, 8), dtype=np.int16),
      "outcome": rng.integers(-1, 2, size, dtype=np.int8),
      "game_id": (i // _GAME_LENGTH).astype(np.int32),
      "move_number": (i % _GAME_LENGTH).astype(np.int16),
  }


def _timed_search(index: ann.Index, queries: np.ndarray, k: int,
                  exclude: np.ndarray | None, repeats: int = 5
                  ) -> tuple[float, np.ndarray]:
  """(queries/s, ids): the best of `repeats` single-threaded passes over the
  queries in one batch, after a warm-up."""
  index.search(queries[:32], k, exclude_groups=None if exclude is None else
               exclude[:32])
  best = np.inf
  for _ in range(repeats):
    start = time.perf_counter()
    ids = index.search(queries, k, exclude_groups=exclude).ids
    best = min(best, time.perf_counter() - start)
  return len(queries) / best, ids


def _recall(found: np.ndarray, true: np.ndarray) -> float:
  hits = ((found[:, :, None] == true[:, None, :]) & (true[:, None, :] >= 0))
  return float(hits.any(-1).sum() / max(1, (true >= 0).sum()))


def _recall_ties(index: ann.Index, queries: np.ndarray, found: np.ndarray,
                 true_dist: np.ndarray) -> float:
  """Recall counting as found any neighbour no farther than the k-th exact
  one: real keys repeat (the same position in many games), and among equal
  keys which ids exact search returns is arbitrary."""
  ids, where = np.unique(np.maximum(found, 0), return_inverse=True)
  keys = np.asarray(index.keys[ids])[where.reshape(found.shape)]
  dist = ((keys - queries[:, None, :]) ** 2).sum(-1)
  kth = true_dist[:, -1:]
  hits = (found >= 0) & (dist <= kth + 1e-5 * (1 + np.abs(kth)))
  return float(np.minimum(hits.sum(1), (true_dist < np.inf).sum(1)).sum() /
               max(1, (true_dist < np.inf).sum()))


def run(args: argparse.Namespace) -> dict:
  workdir = pathlib.Path(tempfile.mkdtemp(prefix="ann_bench_",
                                          dir=args.workdir))
  build_threads = len(os.sched_getaffinity(0))
  groups = query_groups = None
  if args.groups_npy and not args.keys_npy:
    raise SystemExit("--groups-npy goes with --keys-npy")
  if args.keys_npy:
    source = np.load(args.keys_npy, mmap_mode="r")
    num = len(source) - args.num_queries
    if args.groups_npy:
      groups = np.load(args.groups_npy, mmap_mode="r")
      if len(groups) != len(source):
        raise SystemExit(f"{args.groups_npy} has {len(groups)} rows, "
                         f"{args.keys_npy} {len(source)}")
      query_groups = np.asarray(groups[num:], np.int64)
    dim = source.shape[1]
    queries = np.ascontiguousarray(source[num:], np.float32)
    def batches():
      for s in range(0, num, args.batch):
        yield np.asarray(source[s:min(s + args.batch, num)], np.float32)
  else:
    num, dim = args.num_entries, args.dim
    queries = next(_synthetic_batches(args.num_queries, dim, args.num_clusters,
                                      args.intrinsic_dim, args.spread,
                                      args.num_queries, args.seed, stream=2))
    def batches():
      return _synthetic_batches(num, dim, args.num_clusters,
                                args.intrinsic_dim, args.spread, args.batch,
                                args.seed, stream=1)
  configs = _configs(dim)
  results, true_ids = [], None
  try:
    for name in args.backends.split(","):
      if name not in configs:
        raise SystemExit(f"unknown backend {name!r}; valid: {sorted(configs)}")
      faiss.omp_set_num_threads(build_threads)
      start = time.perf_counter()
      index = ann.build(
          workdir / name, batches(),
          (_payload(s, min(args.batch, num - s), groups)
           for s in range(0, num, args.batch)),
          configs[name], num_entries=num, progress=not args.no_progress)
      build_s = time.perf_counter() - start
      faiss.omp_set_num_threads(1)
      if true_ids is None:
        start = time.perf_counter()
        true_dist, true_ids = index.exact_search(queries, args.k)
        exact_s = time.perf_counter() - start
        exclude = (np.asarray(index.payload["group"])[true_ids[:, 0]]
                   if query_groups is None else query_groups)
      memory = index.memory()
      param, values = _SWEEPS[name]
      sweep = []
      for value in values:
        if value is not None:
          index.set_search_params(**{param: value})
        qps, ids = _timed_search(index, queries, args.k, None)
        qps_excl, ids_excl = _timed_search(index, queries, args.k, exclude)
        found = np.asarray(index.payload["group"])[np.maximum(ids_excl, 0)]
        assert not (found == exclude[:, None]).any()
        sweep.append({param: value, "recall": round(_recall(ids, true_ids), 4),
                      "recall_ties": round(_recall_ties(
                          index, queries, ids, true_dist), 4),
                      "qps": round(qps), "qps_excluding": round(qps_excl)})
      results.append({
          "backend": name, "config": dataclasses.asdict(index.config),
          "build_s": round(build_s, 1), "index_bytes": memory.index,
          "payload_bytes": memory.payload, "keys_bytes": memory.keys,
          "sweep": sweep})
      print(f"{name}: built in {build_s:.1f} s; " + ", ".join(
          f"{s[param]}: recall {s['recall']:.3f} ({s['recall_ties']:.3f} "
          f"with ties) at {s['qps']} q/s"
          for s in sweep), file=sys.stderr, flush=True)
      del index
      shutil.rmtree(workdir / name)
  finally:
    shutil.rmtree(workdir, ignore_errors=True)
  return {
      "benchmark": "ann_index", "device": common.device_name(),
      "faiss": faiss.__version__, "scann": _scann_version(),
      "num_entries": num, "dim": dim, "num_queries": len(queries), "k": args.k,
      "groups": args.groups_npy,
      "keys": args.keys_npy or (
          f"synthetic, {args.num_clusters} clusters, spread {args.spread}, " +
          (f"intrinsic dim {args.intrinsic_dim}" if args.intrinsic_dim else
           "isotropic")),
      "build_threads": build_threads, "search_threads": 1,
      "exact_search_s": round(exact_s, 2), "results": results}


def _scann_version() -> str | None:
  try:
    from importlib import metadata  # pylint: disable=g-import-not-at-top
    return metadata.version("scann")
  except metadata.PackageNotFoundError:
    return None


def table(summary: dict) -> str:
  lines = [(f"{summary['num_entries']:,} x {summary['dim']} keys "
            f"({summary['keys']}), "
            f"{summary['num_queries']} held-out queries, recall@{summary['k']} "
            f"vs exact, search on 1 thread; {summary['device']}"), "",
           ("| backend | build s | index MiB | payload MiB | setting | "
            "recall | recall, ties | q/s | q/s excluding |"),
           "|---|---|---|---|---|---|---|---|---|"]
  for r in summary["results"]:
    for j, s in enumerate(r["sweep"]):
      param, value = next((p, v) for p, v in s.items()
                          if p not in ("recall", "recall_ties", "qps",
                                       "qps_excluding"))
      cells = ([r["backend"], str(r["build_s"]),
                f"{r['index_bytes'] / 2**20:.0f}",
                f"{r['payload_bytes'] / 2**20:.0f}"] if j == 0 else [""] * 4)
      cells += ["-" if value is None else f"{param}={value}",
                f"{s['recall']:.3f}", f"{s['recall_ties']:.3f}",
                f"{s['qps']:,}",
                f"{s['qps_excluding']:,}"]
      lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--num-entries", type=int, default=1_000_000)
  parser.add_argument("--dim", type=int, default=64)
  parser.add_argument("--num-queries", type=int, default=1000)
  parser.add_argument("--k", type=int, default=16)
  parser.add_argument("--num-clusters", type=int, default=1000)
  parser.add_argument("--intrinsic-dim", type=int, default=16,
                      help="dimension of each cluster's spread; 0: isotropic")
  parser.add_argument("--spread", type=float, default=1.0,
                      help="scale of a cluster against its centre's (1)")
  parser.add_argument("--keys-npy", default=None,
                      help="[N, D] keys; the last --num-queries rows are "
                      "the queries")
  parser.add_argument("--groups-npy", default=None,
                      help="[N] int64: each row's game (with --keys-npy)")
  parser.add_argument("--backends", default="exact,hnsw,ivfpq,ivfpq-fs,scann")
  parser.add_argument("--batch", type=int, default=100_000)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--workdir", default=None, help="where stores are built")
  parser.add_argument("--json", default=None, help="also write the JSON here")
  parser.add_argument("--no-progress", action="store_true")
  args = parser.parse_args()
  summary = run(args)
  common.emit_json(summary, path=args.json)
  print(table(summary))


if __name__ == "__main__":
  main()
