"""Real keys for the index benchmark: every position of a Go positions store
under the eight symmetries, embedded by a frozen key network.

Writes `keys.npy` ([N, D] float32) and `groups.npy` ([N] int64, each
entry's game, as `agents.go_retrieval.retrieval.game_group`) to `--out`,
in the layout `benchmarks/ann_index.py --keys-npy K --groups-npy G` reads:
the entries first (every split's positions, `--symmetries` each), then
`--num-queries` test-split positions as they were played (identity
symmetry) as the queries; no position of a query appears among the
entries under any symmetry. Both files are memory-mapped, so 10M keys need
not fit in memory.

Chunks of `--chunk` entries are embedded by `--workers` processes (each
pinned to one core) and recorded as done in `done-<worker>.txt` once
written: rerunning the same command resumes where it stopped.

  python benchmarks/go_keys.py --key go9-plain --positions POS --out DIR \\
      --workers 2
  python benchmarks/ann_index.py --keys-npy DIR/keys.npy \\
      --groups-npy DIR/groups.npy --backends scann,ivfpq
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pathlib
import sys
import time
from typing import Any

import numpy as np

from agents.core.checkpoint import write_json_atomic


def _layout(data: Any, num_queries: int, symmetries: int, seed: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(rows [N], symmetry [N], groups [N]) of every entry of a
  `PositionData`, queries last."""
  from agents.go_retrieval import retrieval  # pylint: disable=g-import-not-at-top
  test = data.rows["test"]
  if num_queries > len(test):
    raise SystemExit(f"{num_queries} queries asked for; the store's test "
                     f"split has {len(test)} positions")
  queries = np.sort(np.random.default_rng(seed).choice(
      test, num_queries, replace=False))
  every = np.arange(len(data.arrays["game"]))
  entries = np.setdiff1d(every, queries)
  rows = np.concatenate([np.repeat(entries, symmetries), queries])
  syms = np.concatenate([np.tile(np.arange(symmetries), len(entries)),
                         np.zeros(num_queries, np.int64)])
  groups = retrieval._row_groups(data)[rows]  # pylint: disable=protected-access
  return rows, syms, groups


def _work(args: argparse.Namespace, worker: int, rows: np.ndarray,
          syms: np.ndarray) -> None:
  """Embeds the chunks `worker` owns that are not done yet."""
  if args.workers > 1 and hasattr(os, "sched_setaffinity"):
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[worker % len(cores)]})
  from agents.go_retrieval import data as data_lib  # pylint: disable=g-import-not-at-top
  from agents.go_retrieval import retrieval  # pylint: disable=g-import-not-at-top
  out = pathlib.Path(args.out)
  done_file = out / f"done-{worker}.txt"
  done = {int(line) for f in out.glob("done-*.txt")
          for line in f.read_text().split()}  # by any earlier worker
  key_net = retrieval.KeyNetwork(args.key)
  data = data_lib.PositionData(args.positions)
  keys = np.load(out / "keys.npy", mmap_mode="r+")
  chunks = range(worker, -(-len(rows) // args.chunk), args.workers)
  todo = [c for c in chunks if c not in done]
  start = time.monotonic()
  with done_file.open("a") as log:
    for i, c in enumerate(todo):
      s = slice(c * args.chunk, min((c + 1) * args.chunk, len(rows)))
      keys[s] = key_net.keys(data.batch(rows[s], syms[s]))
      keys.flush()
      log.write(f"{c}\n")
      log.flush()
      if not args.no_progress and (i + 1) % 20 == 0:
        rate = (i + 1) * args.chunk / (time.monotonic() - start)
        print(f"worker {worker}: {i + 1}/{len(todo)} chunks, "
              f"{rate:,.0f} keys/s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--key", default="go9-plain",
                      help="key network (run directory or bundled name)")
  parser.add_argument("--positions", required=True,
                      help="positions store (`arena go positions`)")
  parser.add_argument("--out", required=True, help="output directory")
  parser.add_argument("--symmetries", type=int, default=8)
  parser.add_argument("--num-queries", type=int, default=1000)
  parser.add_argument("--chunk", type=int, default=8192)
  parser.add_argument("--workers", type=int, default=1)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--no-progress", action="store_true")
  args = parser.parse_args(argv)
  if not 1 <= args.symmetries <= 8:
    raise SystemExit(f"--symmetries must be 1..8, got {args.symmetries}")
  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  recipe = {"key": args.key, "positions": str(pathlib.Path(
      args.positions).absolute()), "symmetries": args.symmetries,
            "num_queries": args.num_queries, "chunk": args.chunk,
            "seed": args.seed}
  meta_file = out / "keys.json"
  from agents.go_retrieval import data as data_lib  # pylint: disable=g-import-not-at-top
  from agents.go_retrieval import retrieval  # pylint: disable=g-import-not-at-top
  data = data_lib.PositionData(args.positions)
  rows, syms, groups = _layout(data, args.num_queries, args.symmetries,
                               args.seed)
  if meta_file.exists():
    saved = json.loads(meta_file.read_text())
    if {k: saved.get(k) for k in recipe} != recipe:
      raise SystemExit(f"{out} holds keys of another recipe ({saved}); "
                       "choose another --out")
  else:
    dim = retrieval.KeyNetwork(args.key).keys(
        data.batch(rows[:1], syms[:1])).shape[1]
    np.lib.format.open_memmap(out / "keys.npy", "w+", np.float32,
                              (len(rows), dim)).flush()
    np.save(out / "groups.npy", groups)
    write_json_atomic(meta_file, {**recipe, "entries": int(len(rows)),
                                  "dim": int(dim)})
  start = time.monotonic()
  if args.workers == 1:
    _work(args, 0, rows, syms)
  else:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_work, args=(args, w, rows, syms))
             for w in range(args.workers)]
    for p in procs:
      p.start()
    for p in procs:
      p.join()
    if any(p.exitcode for p in procs):
      print("a worker failed; rerun the same command to resume",
            file=sys.stderr)
      return 1
  print(json.dumps({**recipe, "entries": int(len(rows) - args.num_queries),
                    "queries": args.num_queries,
                    "seconds": round(time.monotonic() - start, 1)}))
  return 0


if __name__ == "__main__":
  sys.exit(main())
