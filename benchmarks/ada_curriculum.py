"""AdA on XLand-MiniGrid: training-loop throughput, and adaptation on
held-out tasks.

  # Environment steps per second of the whole training loop (acting with
  # memory, the environments, the curriculum and the PPO update), per
  # memory and setting, on this machine's device:
  python benchmarks/ada_curriculum.py throughput [--config ada_xland9]
      [--memories transformer gru] [--batch 256 512] [--epochs 1 2]

  # Adaptation: each run's agent on N held-out tasks (the test split of the
  # run's own task generator, never trained on), per trial, with the
  # memory-reset and random controls (`arena eval trials`); a table and
  # JSON:
  python benchmarks/ada_curriculum.py adaptation RUN_DIR [RUN_DIR ...]
      [--tasks 1000] [--episodes 2] [--split test|train] [--json OUT]
  # (--split train: fresh tasks of the training structures instead, none in
  # the training pool: adaptation on the training distribution.)

  # Curricula compared: one run per curriculum kind (uniform, noop_filter,
  # plr), each for the same wall-clock budget, resumable (rerun the same
  # command), then `adaptation` on all of them:
  python benchmarks/ada_curriculum.py curricula --out runs/ada/curricula
      [--config ada_xland9] [--minutes 30] [--seed 0]

Compilation is excluded from throughput (one warm-up call). The record of
runs and what they taught is `benchmarks/ada_results.md`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # pylint: disable=g-import-not-at-top  # benchmarks/common.py
from agents.core import make_mesh, registry, replicate, runs  # pylint: disable=g-import-not-at-top
from agents.core import configs  # pylint: disable=g-import-not-at-top
from eval.xland import task_sets, trials_eval  # pylint: disable=g-import-not-at-top
from games import xland  # pylint: disable=g-import-not-at-top
from games.xland import canonical  # pylint: disable=g-import-not-at-top
from selfplay import drivers, task_mode  # pylint: disable=g-import-not-at-top

CURRICULA = ("uniform", "noop_filter", "plr")


def throughput(args) -> None:
  rows = []
  for memory in args.memories:
    for batch in args.batch:
      for epochs in args.epochs:
        config = configs.load(args.config, [
            f"agent.network.memory={memory}", f"agent.batch_size={batch}",
            f"agent.epochs={epochs}"])
        env, agent = registry.for_config(config).build(config)
        mesh = make_mesh(None)
        source = task_mode.TaskSource(env, agent, config, mesh, seed=0)
        update = source.make_update(1, unroll=False)
        state = replicate(agent.init(jax.random.key(0)), mesh)
        start = time.perf_counter()
        state, _ = update(state)
        jax.block_until_ready(state)
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(args.calls):
          state, metrics = update(state)
        jax.block_until_ready((state, metrics))
        seconds = time.perf_counter() - start
        steps = args.calls * source.steps_per_update
        rows.append({"memory": memory, "batch": batch,
                     "unroll": agent.unroll_length, "epochs": epochs,
                     "env_steps_per_s": round(steps / seconds),
                     "updates_per_s": round(args.calls / seconds, 3),
                     "compile_s": round(compile_s, 1)})
        print(json.dumps(rows[-1]), flush=True)
  common.emit_json({"device": common.device_name(),
                    "devices": jax.device_count(), "config": args.config,
                    "rows": rows}, path=args.json)


def _evaluation_tasks(run_dir: pathlib.Path, num_tasks: int,
                      split: str) -> pathlib.Path:
  """The tasks a run is judged on, as a task-set file beside the run
  (written once).

  split "test": its held-out tasks (its generator's test split: structures
  never trained on). "train": tasks of its training structures that are not
  in its training pool (drawn under the next seed, the pool's tasks
  removed), which separates adaptation on the training distribution from
  generalisation to unseen structures.
  """
  config = runs.read_config(run_dir)
  tasks = config.tasks
  name = "heldout" if split == "test" else "fresh-train"
  path = run_dir / f"{name}-{num_tasks}.xz"
  if path.exists():
    return path
  if split == "test":
    task_set = xland.generate(tasks.generator, num_tasks, tasks.seed,
                              split="test")
  else:
    pool = xland.generate(tasks.generator, tasks.num_train, tasks.seed,
                          split="train")
    seen = {row.tobytes() for row in canonical.canonical_keys(
        pool.goals, pool.rules, pool.init_tiles)}
    draw = xland.generate(tasks.generator, 4 * num_tasks, tasks.seed + 1,
                          split="train")
    keys = canonical.canonical_keys(draw.goals, draw.rules, draw.init_tiles)
    fresh = [i for i, row in enumerate(keys) if row.tobytes() not in seen]
    if len(fresh) < num_tasks:
      raise SystemExit(
          f"only {len(fresh)} of {draw.num_tasks} fresh draws of the training "
          f"structures are outside the pool; ask for --tasks <= {len(fresh)}")
    keep = np.asarray(fresh[:num_tasks])
    task_set = draw._replace(goals=draw.goals[keep], rules=draw.rules[keep],
                             init_tiles=draw.init_tiles[keep],
                             num_rules=draw.num_rules[keep])
    print(f"{run_dir}: {len(fresh)} of {draw.num_tasks} draws of the training "
          f"structures are not in the {pool.num_tasks:,}-task pool; the first "
          f"{num_tasks} are used", flush=True)
  task_sets.save_task_set(task_set, path)
  return path


def adaptation(args) -> None:
  results = {}
  for run in args.runs:
    run_dir = runs.resolve_run_dir(run)
    path = _evaluation_tasks(run_dir, args.tasks, args.split)
    start = time.perf_counter()
    result = trials_eval.evaluate_agent(
        str(run_dir), path, episodes=args.episodes, seed=args.seed,
        batch_size=args.batch_size)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["step"] = int(jax.device_get(runs.read_run(run_dir).state.step))
    results[str(run)] = result
    from rich.console import Console  # pylint: disable=g-import-not-at-top
    Console().print(trials_eval.trials_table(
        result, title=f"{run} (step {result['step']}), {args.tasks} "
        f"{'held-out' if args.split == 'test' else 'fresh training-structure'}"
        f" tasks x {args.episodes} episodes"))
    agent = result["agent"]["success_mean"]
    reset = result["memory_reset"]["success_mean"]
    ratio = lambda x: round(x[-1] / max(x[0], 1e-9), 3)
    print(json.dumps({"run": str(run), "split": args.split,
                      "trial_K_over_1": ratio(agent),
                      "memory_reset_K_over_1": ratio(reset)}), flush=True)
  common.emit_json({"device": common.device_name(), "runs": results},
                   path=args.json)


def curricula(args) -> None:
  out = pathlib.Path(args.out)
  run_dirs = []
  for kind in CURRICULA:
    config = configs.load(args.config, [f"curriculum.kind={kind}"])
    config = dataclasses.replace(config, run=dataclasses.replace(
        config.run, seed=args.seed))
    run_dir = out / f"{kind}_s{args.seed}"
    meta = run_dir / "budget.json"
    spent = json.loads(meta.read_text())["seconds"] if meta.exists() else 0.0
    left = args.minutes * 60 - spent
    if left > 1:
      start = time.monotonic()
      drivers.train(config, run_dir, resume=(run_dir / "config.json").exists(),
                    time_limit_s=left, progress="lines")
      spent += time.monotonic() - start
      meta.write_text(json.dumps({"seconds": spent}))
    run_dirs.append(str(run_dir))
  args.runs, args.split = run_dirs, "test"
  adaptation(args)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  sub = parser.add_subparsers(dest="mode", required=True)
  p = sub.add_parser("throughput")
  p.add_argument("--config", default="ada_xland9")
  p.add_argument("--memories", nargs="+", default=["transformer", "gru"])
  p.add_argument("--batch", nargs="+", type=int, default=[256, 512])
  p.add_argument("--epochs", nargs="+", type=int, default=[1, 2])
  p.add_argument("--calls", type=int, default=8)
  p.add_argument("--json")
  for name in ("adaptation", "curricula"):
    p = sub.add_parser(name)
    if name == "adaptation":
      p.add_argument("runs", nargs="+")
      p.add_argument("--split", choices=("test", "train"), default="test",
                     help="test: held-out structures (default); train: "
                     "fresh tasks of the training structures, the training "
                     "pool's removed")
    else:
      p.add_argument("--out", required=True)
      p.add_argument("--config", default="ada_xland9")
      p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--episodes", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--json")
  args = parser.parse_args()
  {"throughput": throughput, "adaptation": adaptation,
   "curricula": curricula}[args.mode](args)


if __name__ == "__main__":
  main()
