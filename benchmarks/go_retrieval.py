"""Retrieval Go, the whole experiment: does retrieval help predict expert moves?

After Humphreys et al. 2022 ("Large-scale Retrieval for Reinforcement
Learning", arXiv:2206.05314). From the expert games (`arena go games`):

1. positions (`arena go positions`), split by game into train / retrieval /
   test;
2. the key network (`configs/go9_key.py`, seed 0), frozen;
3. indexes of the retrieval split at each `--fractions` share of its games
   (nested subsets), each position under the eight symmetries;
4. neighbour tables: nearest entries (from the full index) and random
   entries for train and test positions; nearest entries from the smaller
   indexes for test positions;
5. for each seed: the plain network (no retrieval), the retrieval network
   (K nearest neighbours) and the control (K random neighbours: the same
   input size and parameters), equal training steps;
6. held-out test positions (games never in the retrieval set): top-1 move
   accuracy, policy cross-entropy and value loss (squared error to the
   outcome) of each, the retrieval network also read with the smaller
   indexes (no retraining), and on the test positions that do not occur
   exactly in the retrieval split;
7. the index: entries, memory, build time, recall@16 against exact search
   and queries per second on one core.

Every stage is skipped when its output exists (a killed run resumes; a
training run resumes from its checkpoint). Prints JSON, then markdown
tables, with the device name.

Usage:
  python benchmarks/go_retrieval.py --games games/go/expert_games \\
      --work runs/go9_bench [--seeds 0,1,2] [--steps 20000] [--key-steps N]
      [--k 16] [--fractions 0.1,0.3,1] [--eval-positions 8192]
      [--set KEY=VALUE ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # pylint: disable=g-import-not-at-top  # benchmarks/common.py
from agents.core import ann, configs, runs  # pylint: disable=g-import-not-at-top
from agents.go_retrieval import data as data_lib  # pylint: disable=g-import-not-at-top
from agents.go_retrieval import retrieval  # pylint: disable=g-import-not-at-top
from eval.go import positions as positions_lib  # pylint: disable=g-import-not-at-top
from selfplay import drivers, offline  # pylint: disable=g-import-not-at-top


def _log(text: str) -> None:
  print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _train(run_dir: pathlib.Path, overrides: list[str], steps: int) -> None:
  """Trains (or resumes) a go9_key-based config to `steps` steps."""
  config = configs.load("go9_key", overrides)
  resume = (run_dir / "config.json").exists()
  if resume and runs.read_run(run_dir).state.step >= steps:
    return
  _log(f"training {run_dir.name} to {steps} steps")
  drivers.train(config, run_dir, resume=resume, num_steps=steps,
                progress="off")


def _evaluate(run_dir: pathlib.Path, positions: pathlib.Path,
              table: pathlib.Path | None, index: pathlib.Path | None,
              rows: np.ndarray | None, count: int) -> dict[str, float]:
  loaded = runs.read_run(run_dir)
  cfg = loaded.config.agent.retrieval
  if cfg.num_neighbours:
    data = data_lib.NeighbourData(positions, table, index, cfg.num_neighbours,
                                  cfg.next_moves)
  else:
    data = data_lib.PositionData(positions)
  if rows is not None:
    data.rows["test"] = np.intersect1d(data.rows["test"], rows)
  out = offline.evaluate(loaded.agent, loaded.agent.test_params(loaded.state),
                         data, count, 512)
  return {k.split("/")[1]: v for k, v in out.items()} | {
      "positions": int(min(count, len(data.rows["test"])))}


def _unseen_test_rows(positions: pathlib.Path) -> np.ndarray:
  """Test rows whose (board, player) occurs nowhere in the retrieval split."""
  data = data_lib.PositionData(positions)
  board = np.asarray(data.arrays["board"])
  player = np.asarray(data.arrays["player"])

  def keys(rows):
    return {board[r].tobytes() + bytes([player[r]]) for r in rows}

  seen = keys(data.rows["retrieval"])
  test = data.rows["test"]
  return np.array([r for r in test
                   if board[r].tobytes() + bytes([player[r]]) not in seen],
                  np.int64)


def _index_stats(index_dir: pathlib.Path, key_run: pathlib.Path,
                 positions: pathlib.Path, build_s: float) -> dict:
  index = ann.open(index_dir)
  data = data_lib.PositionData(positions)
  rows = data.rows["test"][:1000]
  keys = retrieval.KeyNetwork(str(key_run)).keys(data.batch(rows))
  import faiss  # pylint: disable=g-import-not-at-top
  faiss.omp_set_num_threads(1)
  start = time.perf_counter()
  index.search(keys, 16)
  qps = len(keys) / (time.perf_counter() - start)
  memory = index.memory()
  return dict(entries=index.num_entries, index_mib=memory.index / 2**20,
              payload_mib=memory.payload / 2**20, build_s=build_s,
              recall_at_16=index.recall_at_k(keys, 16),
              queries_per_s_per_core=qps)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--games", nargs="+", required=True)
  parser.add_argument("--work", required=True)
  parser.add_argument("--seeds", default="0,1,2")
  parser.add_argument("--steps", type=int, default=20_000)
  parser.add_argument("--key-steps", type=int, default=None)
  parser.add_argument("--k", type=int, default=16)
  parser.add_argument("--fractions", default="0.1,0.3,1")
  parser.add_argument("--eval-positions", type=int, default=8192)
  parser.add_argument("--set", action="append", default=[],
                      help="a config override for every network trained")
  parser.add_argument("--json", default=None)
  args = parser.parse_args(argv)
  work = pathlib.Path(args.work)
  work.mkdir(parents=True, exist_ok=True)
  seeds = [int(s) for s in args.seeds.split(",")]
  fractions = sorted(float(f) for f in args.fractions.split(","))
  if fractions[-1] != 1.0:
    fractions.append(1.0)
  positions = work / "positions"
  if not positions.exists():
    _log("positions")
    positions_lib.build_positions(args.games, positions, progress=False)
  meta = data_lib.PositionData(positions).meta
  base = [f"data.positions={positions}",
          f"data.eval_positions={args.eval_positions}", *args.set]
  key = work / "key"
  _train(key, base + ["run.seed=0"], args.key_steps or args.steps)

  indexes, build_s = {}, {}
  for f in fractions:
    indexes[f] = work / f"index-{f:g}"
    if not indexes[f].exists():
      _log(f"index at {f:g}")
      start = time.monotonic()
      retrieval.build_index(str(key), positions, indexes[f], fraction=f,
                            progress=False)
      build_s[f] = time.monotonic() - start
  tables = {"index": work / "nb-index", "random": work / "nb-random"}
  for source, table in tables.items():
    if not table.exists():
      _log(f"neighbours ({source})")
      retrieval.neighbour_table(indexes[1.0], positions, table, k=args.k,
                                source=source, progress=False)
  for f in fractions[:-1]:
    tables[f] = work / f"nb-index-{f:g}-test"
    if not tables[f].exists():
      retrieval.neighbour_table(indexes[f], positions, tables[f], k=args.k,
                                splits=("test",), progress=False)
  unseen = _unseen_test_rows(positions)

  retrieval_set = [f"agent.retrieval.num_neighbours={args.k}",
                   f"agent.retrieval.index={indexes[1.0]}"]
  rows = []
  for seed in seeds:
    plain, near, rand = (work / f"plain-s{seed}", work / f"retrieval-s{seed}",
                         work / f"random-s{seed}")
    _train(plain, base + [f"run.seed={seed}"], args.steps)
    _train(near, base + [f"run.seed={seed}", *retrieval_set,
                         f"agent.retrieval.neighbours={tables['index']}"],
           args.steps)
    _train(rand, base + [f"run.seed={seed}", *retrieval_set,
                         f"agent.retrieval.neighbours={tables['random']}",
                         "agent.retrieval.source=random"], args.steps)
    for name, run, table, index in (
        ("no retrieval", plain, None, None),
        ("retrieval (100%)", near, tables["index"], indexes[1.0]),
        ("random neighbours", rand, tables["random"], indexes[1.0]),
        *[(f"retrieval ({f:.0%} of the set, not retrained)", near, tables[f],
           indexes[f]) for f in fractions[:-1]]):
      for subset, subset_rows in (("all test", None), ("unseen", unseen)):
        result = _evaluate(run, positions, table, index, subset_rows,
                           args.eval_positions)
        rows.append(dict(seed=seed, model=name, test=subset, **result))
        _log(f"seed {seed} {name} {subset}: {result}")
  stats = {f"{f:g}": _index_stats(indexes[f], key, positions,
                                  build_s.get(f, float("nan")))
           for f in fractions}
  summary = []
  for name in dict.fromkeys(r["model"] for r in rows):
    for subset in ("all test", "unseen"):
      sel = [r for r in rows if r["model"] == name and r["test"] == subset]
      acc = np.array([r["accuracy"] for r in sel])
      vl = np.array([r["value_loss"] for r in sel])
      summary.append(dict(model=name, test=subset, seeds=len(sel),
                          accuracy_mean=float(acc.mean()),
                          accuracy_std=float(acc.std()),
                          value_loss_mean=float(vl.mean()),
                          value_loss_std=float(vl.std()),
                          positions=sel[0]["positions"]))
  out = dict(benchmark="go_retrieval", device=common.device_name(),
             games=len(meta["games"]), positions=meta["positions"],
             distinct_positions=meta["distinct_positions"], steps=args.steps,
             k=args.k, seeds=seeds, unseen_test_positions=int(len(unseen)),
             rows=rows, summary=summary, index=stats)
  common.emit_json(out, path=args.json)
  print("\n| model | test positions | top-1 accuracy | value loss |")
  print("|---|---|---|---|")
  for s in summary:
    print(f"| {s['model']} | {s['test']} ({s['positions']}) | "
          f"{100 * s['accuracy_mean']:.1f}% ± {100 * s['accuracy_std']:.1f} | "
          f"{s['value_loss_mean']:.3f} ± {s['value_loss_std']:.3f} |")
  print("\n| index | entries | index MiB | payload MiB | build s | recall@16 "
        "| queries/s/core |\n|---|---|---|---|---|---|---|")
  for f, s in stats.items():
    print(f"| {float(f):.0%} | {s['entries']:,} | {s['index_mib']:.1f} | "
          f"{s['payload_mib']:.1f} | {s['build_s']:.0f} | "
          f"{s['recall_at_16']:.3f} | {s['queries_per_s_per_core']:,.0f} |")


if __name__ == "__main__":
  main()
