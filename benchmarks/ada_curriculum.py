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

  # What the agent does after failed trials (`eval.xland.behaviour`): per
  # trial, after failures in every earlier trial and after a success, its
  # success, whether it held an object, whether the first one was the last
  # trial's, an earlier one or a new one, and its policy's entropy and
  # value, beside its memory-reset control's; same tasks and worlds as
  # `adaptation`:
  python benchmarks/ada_curriculum.py behaviour RUN_DIR [RUN_DIR ...]
      [--tasks 1000] [--episodes 2] [--split test|train] [--json OUT]

  # Curricula compared at equal environment steps: one run per curriculum
  # kind (uniform, noop_filter, plr) and seed, each for the same number of
  # environment steps (resumable: rerun the same command; seeds can be
  # trained in separate processes and joined by a last call naming all of
  # them), every run played on the same held-out tasks; a table of
  # trial-1 and trial-K success with bootstrap intervals over seeds and
  # tasks, and the ratio of each curriculum to uniform:
  python benchmarks/ada_curriculum.py curricula --out runs/ada/curricula
      [--config ada_xland9] [--set KEY=VALUE ...] [--env-steps 20e6]
      [--seeds 0 1 2] [--kinds uniform noop_filter plr] [--tasks 1000]
      [--variant NAME KEY=VALUE ... [--variant ...]] [--baseline uniform]
  # (--variant: one more row, runs NAME_s<seed>, with these overrides on
  # top of --set, e.g. --variant plr_value curriculum.kind=plr
  # curriculum.score=value_loss.)

Compilation is excluded from throughput (one warm-up call). The record of
runs and what they taught is `benchmarks/ada_results.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # pylint: disable=g-import-not-at-top  # benchmarks/common.py
from agents.core import CheckpointError, Checkpointer, make_mesh, registry, replicate, runs, write_json_atomic  # pylint: disable=g-import-not-at-top
from agents.core import configs  # pylint: disable=g-import-not-at-top
from eval.xland import behaviour as behaviour_lib  # pylint: disable=g-import-not-at-top
from eval.xland import compare, task_sets, trials_eval  # pylint: disable=g-import-not-at-top
from games import xland  # pylint: disable=g-import-not-at-top
from games.xland import canonical, trials  # pylint: disable=g-import-not-at-top
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


def _each_run(args, play, show) -> None:
  """Plays each of `args.runs` on its evaluation tasks (`play(run_dir,
  tasks_path, episodes=, seed=, batch_size=)` -> a result with "step"),
  shows it (`show(run, result, title)`) and emits the results' JSON."""
  results = {}
  split = "held-out" if args.split == "test" else "fresh training-structure"
  for run in args.runs:
    run_dir = runs.resolve_run_dir(run)
    path = _evaluation_tasks(run_dir, args.tasks, args.split)
    start = time.perf_counter()
    result = play(str(run_dir), path, episodes=args.episodes, seed=args.seed,
                  batch_size=args.batch_size)
    result["seconds"] = round(time.perf_counter() - start, 1)
    results[str(run)] = result
    show(run, result, f"{run} (step {result['step']}), {args.tasks} {split} "
         f"tasks x {args.episodes} episodes")
  common.emit_json({"device": common.device_name(), "runs": results},
                   path=args.json)


def adaptation(args) -> None:
  from rich.console import Console  # pylint: disable=g-import-not-at-top

  def show(run, result, title):
    Console().print(trials_eval.trials_table(result, title=title))
    print(trials_eval.ratio_line(result), flush=True)
    ratios = result["trial_k_over_1"]
    print(json.dumps({"run": str(run), "split": args.split,
                      "trial_K_over_1": ratios["agent"],
                      "memory_reset_K_over_1": ratios["memory_reset"]}),
          flush=True)

  _each_run(args, trials_eval.evaluate_agent, show)


def behaviour(args) -> None:
  from rich.console import Console  # pylint: disable=g-import-not-at-top

  def show(run, result, title):
    del run
    for who, group, label in (
        ("agent", "after_failures", "agent, after failures in every earlier "
         "trial"),
        ("memory_reset", "after_failures", "memory-reset control, after "
         "failures in every earlier trial"),
        ("agent", "after_success", "agent, after a success in the last "
         "trial")):
      Console().print(behaviour_lib.table(result, who, group,
                                          title=f"{title}: {label}"))

  _each_run(args, behaviour_lib.inspect_agent, show)


def _held_out(out: pathlib.Path, config, num_tasks: int) -> pathlib.Path:
  """The held-out tasks every run of a comparison is played on (written
  once; the runs differ only in curriculum and seed, so the test split is
  theirs alike)."""
  path = out / f"heldout-{num_tasks}.xz"
  if not path.exists():
    tasks = config.tasks
    task_sets.save_task_set(xland.generate(tasks.generator, num_tasks,
                                           tasks.seed, split="test"), path)
  return path


def _eval_cache(run_dir: pathlib.Path, tasks_path: pathlib.Path, args,
                step: int) -> pathlib.Path:
  return run_dir / (f"curricula-eval-{tasks_path.stem}-e{args.episodes}-"
                    f"seed{args.seed}-step{step}.json")


def _per_task_success(run_dir: pathlib.Path, tasks_path: pathlib.Path,
                      args, step: int) -> dict:
  """The run's agent at learner step `step` (its latest checkpoint) on the
  held-out tasks: per task, its success rate in each trial (over
  `args.episodes` episodes), kept beside the run, so that a comparison at
  fewer steps than a run has since gone on to stays available."""
  task_set = task_sets.load_task_set(tasks_path)
  policy, config, _ = trials_eval.load_trials_agent(str(run_dir),
                                                    layout=task_set.layout)
  start = time.perf_counter()
  success, returns = trials_eval.play_trials(
      policy, trials.tasks_of(task_set, config), config,
      episodes=args.episodes, key=jax.random.key(args.seed),
      batch_size=args.batch_size)
  result = {"step": step, "seconds": round(time.perf_counter() - start, 1),
            "summary": trials_eval.summarise(success, returns),
            "per_task_success": success.mean(axis=1).round(4).tolist()}
  write_json_atomic(_eval_cache(run_dir, tasks_path, args, step), result)
  return result


def _step(run_dir: pathlib.Path) -> int:
  """The run's latest checkpointed learner step (0 before the first)."""
  try:
    return Checkpointer(run_dir, read_only=True).latest_step() or 0
  except CheckpointError:  # no checkpoint yet
    return 0


def _differences(a, b, prefix: str = "") -> list[str]:
  """The dotted keys at which two JSON trees differ."""
  if isinstance(a, dict) and isinstance(b, dict):
    return [d for k in sorted(set(a) | set(b))
            for d in _differences(a.get(k), b.get(k), f"{prefix}{k}.")]
  return [] if a == b else [prefix.rstrip(".")]


def _check_same_setup(run_dir: pathlib.Path, config) -> None:
  """Refuses to resume a run under other settings than it was started with
  (all but `run.num_steps`, which a longer comparison raises)."""
  saved = configs.to_json(runs.read_config(run_dir))["config"]
  wanted = configs.to_json(config)["config"]
  for tree in (saved, wanted):
    tree.get("run", {}).pop("num_steps", None)
  differ = _differences(saved, wanted)
  if differ:
    raise SystemExit(f"{run_dir} was started with other settings (they "
                     f"differ in {', '.join(differ)}); use the same --config "
                     "and --set, or another --out")


def _setups(args) -> dict[str, list[str]]:
  """{row name: its overrides on top of --set}: the kinds, then variants.

  Raises:
    SystemExit: a variant's name is not a plain name or is taken, or the
      baseline is none of the rows.
  """
  setups = {kind: [f"curriculum.kind={kind}"] for kind in args.kinds}
  for name, *overrides in args.variant:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
      raise SystemExit(f"--variant {name!r}: a variant starts with its name "
                       "(letters, digits, '_', '.', '-'), then KEY=VALUE "
                       "overrides")
    if name in setups:
      raise SystemExit(f"--variant {name}: the name is already a row")
    setups[name] = overrides
  if args.baseline not in setups:
    raise SystemExit(f"--baseline {args.baseline} is not among the rows "
                     f"{' '.join(setups)}")
  return setups


def curricula(args) -> None:
  if not args.env_steps >= 1:
    raise SystemExit(f"--env-steps must be >= 1, got {args.env_steps:g}")
  setups = _setups(args)
  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  base = configs.load(args.config, args.set)
  per_update = base.agent.batch_size * base.agent.unroll_length
  num_steps = max(1, -(-int(args.env_steps) // per_update))
  tasks_path = _held_out(out, base, args.tasks)
  evaluations = {}
  for seed in args.seeds:  # seed by seed, so a partial comparison is whole
    for kind, overrides in setups.items():
      config = configs.load(args.config, [
          *args.set, *overrides, f"run.seed={seed}",
          f"run.num_steps={num_steps}"])
      run_dir = out / f"{kind}_s{seed}"
      cache = _eval_cache(run_dir, tasks_path, args, num_steps)
      if cache.exists():  # trained and played at this budget already
        evaluations[(kind, seed)] = json.loads(cache.read_text())
        continue
      resume = (run_dir / "config.json").exists()
      if resume:  # the same comparison, perhaps with more steps
        _check_same_setup(run_dir, config)
        step = _step(run_dir)
        if step > num_steps:
          raise SystemExit(f"{run_dir} is at step {step:,}, past this "
                           f"comparison's {num_steps:,}, and was not played "
                           "there; compare at its own step or more")
      print(f"{run_dir}: {num_steps:,} updates of {per_update:,} environment "
            f"steps", flush=True)
      drivers.train(config, run_dir, resume=resume, progress="lines")
      step = _step(run_dir)
      if step < num_steps:  # a time limit or a signal
        raise SystemExit(f"{run_dir} stopped at step {step:,} of "
                         f"{num_steps:,}; rerun the same command to go on")
      evaluations[(kind, seed)] = _per_task_success(run_dir, tasks_path, args,
                                                    step)
  num_trials = len(next(iter(evaluations.values()))["summary"]["success_mean"])
  stats = {}
  for label, trial in (("trial_1", 0), (f"trial_{num_trials}", -1)):
    per_task = {kind: np.asarray([
        np.asarray(evaluations[(kind, seed)]["per_task_success"])[:, trial]
        for seed in args.seeds]) for kind in setups}
    stats[label] = compare.compare(per_task, baseline=args.baseline)
  from rich.console import Console  # pylint: disable=g-import-not-at-top
  from rich.table import Table  # pylint: disable=g-import-not-at-top
  last = f"trial_{num_trials}"
  table = Table(title=(
      f"{out}: {num_steps * per_update:,} environment steps per run, "
      f"{args.tasks} held-out tasks x {args.episodes} episodes, "
      "95% intervals over seeds and tasks"))
  for column in ("curriculum", "seeds", f"trial {num_trials}, per seed",
                 f"trial {num_trials}", "x baseline", "trial 1",
                 f"trial {num_trials} / trial 1"):
    table.add_column(column, justify="right")
  for kind in setups:
    k, one = stats[last][kind], stats["trial_1"][kind]
    ratio = ("-" if k["ratio"] is None else
             f"{k['ratio']:.2f} [{k['ratio_low']:.2f}, {k['ratio_high']:.2f}]")
    table.add_row(
        kind, str(k["seeds"]),
        " / ".join(f"{100 * m:.1f}" for m in k["seed_means"]),
        f"{100 * k['mean']:.1f} [{100 * k['low']:.1f}, {100 * k['high']:.1f}]",
        ratio, f"{100 * one['mean']:.1f}",
        f"{k['mean'] / one['mean']:.2f}" if one["mean"] else "-")
  Console(width=160).print(table)
  common.emit_json({
      "device": common.device_name(), "env_steps_per_run":
      num_steps * per_update, "tasks": args.tasks, "episodes": args.episodes,
      "trials": num_trials, "seeds": list(args.seeds), "stats": stats,
      "runs": {f"{kind}_s{seed}": {"step": e["step"],
                                   "success_mean": e["summary"]["success_mean"]}
               for (kind, seed), e in evaluations.items()}}, path=args.json)


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
  for name in ("adaptation", "behaviour", "curricula"):
    p = sub.add_parser(name)
    if name in ("adaptation", "behaviour"):
      p.add_argument("runs", nargs="+")
      p.add_argument("--split", choices=("test", "train"), default="test",
                     help="test: held-out structures (default); train: "
                     "fresh tasks of the training structures, the training "
                     "pool's removed")
    else:
      p.add_argument("--out", required=True)
      p.add_argument("--config", default="ada_xland9")
      p.add_argument("--set", action="append", default=[],
                     metavar="KEY=VALUE", help="config override for every run")
      p.add_argument("--env-steps", type=float, default=20e6,
                     help="environment steps per run (default 20e6)")
      p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
      p.add_argument("--kinds", nargs="+", choices=CURRICULA,
                     default=list(CURRICULA))
      p.add_argument("--variant", nargs="+", action="append", default=[],
                     metavar="NAME KEY=VALUE",
                     help="one more row: its name, then config overrides on "
                     "top of --set (repeatable)")
      p.add_argument("--baseline", default="uniform",
                     help="the row the others are divided by")
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--episodes", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--json")
  args = parser.parse_args()
  try:
    {"throughput": throughput, "adaptation": adaptation,
     "behaviour": behaviour, "curricula": curricula}[args.mode](args)
  except (ValueError, FileNotFoundError) as e:  # bad settings or files
    raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
  main()
