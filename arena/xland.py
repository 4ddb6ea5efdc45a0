"""`arena xland`: the AdA task space on XLand-MiniGrid; parse and call one
library function (see cli.py).

  arena xland tasks --out FILE --num N --seed S [--depth D] [--min-depth M]
      [--distractor-rules R] [--distractor-objects O]
      [--min-distractor-objects M] [--layout R1-9x9]
      [--split train|test|all] [--dead-end-prob P] [--test-fraction F]
      [--tiles ball,key] [--colors red,blue] [--goals tile_near,...]
      [--rules agent_hold,...] [--overwrite]

`arena eval trials` (registered by cli.py under `arena eval`) is here too:

  arena eval trials AGENT --tasks FILE [--trials K] [--episodes N]
      [--json OUT] [--seed S] [--batch-size B] [--steps-per-trial T]
      [--no-progress]

Each `arena xland WHAT` is a function `_WHAT(args) -> exit code` registered
in `_HANDLERS` by its `_add_WHAT(sub)` parser builder.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from arena import argtypes

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _names(table: str, valid: str):
  """An argparse type: comma-separated names of `games.xland.encoding`'s
  `table` whose ids are in its `valid` -> a tuple of ids. The tables are
  read on use, so that building the parser loads no game (and no JAX)."""
  def parse(text: str) -> tuple[int, ...]:
    from games.xland import encoding as enc  # pylint: disable=g-import-not-at-top
    ids = getattr(enc, valid)
    allowed = {n: i for n, i in getattr(enc, table).items() if i in ids}
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
      raise argparse.ArgumentTypeError(
          f"unknown {', '.join(map(repr, bad)) or 'empty list'}; valid: "
          f"{','.join(allowed)}")
    return tuple(allowed[n] for n in names)
  return parse


def _add_tasks(sub) -> None:
  p = sub.add_parser(
      "tasks", help="generate a task set (rulesets) in xminigrid's format",
      description="Generates N distinct XLand-MiniGrid tasks: a goal, a "
      "chain of D production rules built backwards from it (so every task "
      "is solvable, in exactly D rule firings), distractor rules (some dead "
      "ends, which destroy an object the solution needs) and distractor "
      "objects. Written atomically as a bz2 pickle that "
      "xminigrid.benchmarks.load_benchmark_from_path reads, with the layout "
      "and the generator's settings. --split train/test keeps only tasks whose "
      "structure (the goal's kind and the chain's rule kinds) is held in / "
      "held out by a fixed hash: a test set's structures never occur in a "
      "train set, whatever the seeds. Task i depends on --seed and the "
      "settings, not on N.")
  p.add_argument("--out", required=True, metavar="FILE",
                 help="the task set file (refused if it exists, unless "
                 "--overwrite)")
  p.add_argument("--num", required=True, type=argtypes.int_at_least(1), metavar="N",
                 help="number of tasks")
  p.add_argument("--seed", required=True, type=argtypes.int_at_least(0), metavar="S",
                 help="random seed")
  p.add_argument("--depth", type=argtypes.int_at_least(0), default=1, metavar="D",
                 help="rules on the chain to the goal (default 1; the most, "
                 "with --min-depth)")
  p.add_argument("--min-depth", type=argtypes.int_at_least(0), metavar="M",
                 help="draw each task's depth uniformly from M..D (default: "
                 "always D)")
  p.add_argument("--distractor-rules", type=argtypes.int_at_least(0), default=0,
                 metavar="R", help="rules besides the chain (default 0)")
  p.add_argument("--distractor-objects", type=argtypes.int_at_least(0), default=0,
                 metavar="O", help="objects besides the chain's (default 0; "
                 "the most, with --min-distractor-objects)")
  p.add_argument("--min-distractor-objects", type=argtypes.int_at_least(0),
                 metavar="M", help="draw each task's number of distractor "
                 "objects uniformly from M..O (default: always O)")
  p.add_argument("--layout", default="R1-9x9", metavar="LAYOUT",
                 help="xminigrid's XLand layout: R1, R2 or R4 rooms at 9x9, "
                 "11x11, 13x13, 15x15 or 17x17, R6-13x13, R6-17x17, "
                 "R6-19x19, R9-16x16, R9-19x19 or R9-25x25 (default R1-9x9)")
  p.add_argument("--split", default="all", choices=("train", "test", "all"),
                 help="structures held in (train), held out (test) or any "
                 "(all, the default)")
  p.add_argument("--dead-end-prob", type=argtypes.number, default=0.5, metavar="P",
                 help="chance that a tile-near distractor rule is a dead end "
                 "(default 0.5)")
  p.add_argument("--test-fraction", type=argtypes.number, default=0.2, metavar="F",
                 help="share of structures held out for test (default 0.2; "
                 "use the same value for a train set and its test set)")
  p.add_argument("--tiles", type=_names("TILES", "PICKABLE_TILES"),
                 metavar="NAMES", help="object tiles, comma-separated "
                 "(default all pickable: ball,square,pyramid,key,hex,star)")
  p.add_argument("--colors", type=_names("COLORS", "OBJECT_COLORS"),
                 metavar="NAMES", help="object colours, comma-separated "
                 "(default all but black, the floor's)")
  p.add_argument("--goals", type=_names("GOALS", "SUPPORTED_GOAL_IDS"),
                 metavar="NAMES", help="goal kinds, comma-separated (default "
                 "all generated: agent_hold, agent_near, tile_near, "
                 "tile_near_{up,right,down,left}, "
                 "agent_near_{up,right,down,left})")
  p.add_argument("--rules", type=_names("RULES", "SUPPORTED_RULE_IDS"),
                 metavar="NAMES", help="rule kinds, comma-separated (default "
                 "all: agent_hold, agent_near, tile_near and the directional "
                 "tile_near_* and agent_near_*)")
  p.add_argument("--overwrite", action="store_true",
                 help="replace an existing --out file")
  p.set_defaults(xland_command="tasks")


def _tasks(args: argparse.Namespace) -> int:
  from eval import xland as task_sets  # pylint: disable=g-import-not-at-top
  from games import xland  # pylint: disable=g-import-not-at-top
  out = pathlib.Path(args.out)
  if out.exists() and not args.overwrite:
    raise ValueError(f"{args.out!r} already exists; give --overwrite to "
                     "replace it")
  if out.is_dir():
    raise ValueError(f"{args.out!r} is a directory, not a file")
  optional = {"tiles": args.tiles, "colors": args.colors,
              "goal_ids": args.goals, "rule_ids": args.rules}
  config = xland.TaskConfig(
      depth=args.depth, min_depth=args.min_depth,
      num_distractor_rules=args.distractor_rules,
      num_distractor_objects=args.distractor_objects,
      min_distractor_objects=args.min_distractor_objects,
      dead_end_prob=args.dead_end_prob, layout=args.layout,
      test_fraction=args.test_fraction,
      **{k: v for k, v in optional.items() if v is not None})
  start = time.perf_counter()
  task_set = xland.generate(config, args.num, args.seed, split=args.split)
  seconds = time.perf_counter() - start
  task_sets.save_task_set(task_set, out)
  print(f"wrote {task_set.num_tasks} tasks ({args.split} split, depth "
        f"{config.depths}, {args.distractor_rules} distractor rules, "
        f"{_objects(args)} distractor objects, layout "
        f"{args.layout}) to {out}; generated in {seconds:.2f} s "
        f"({task_set.num_tasks / max(seconds, 1e-9):,.0f} tasks/s)",
        flush=True)
  return EXIT_OK


def _objects(args: argparse.Namespace) -> str:
  low, high = args.min_distractor_objects, args.distractor_objects
  return str(high) if low is None or low == high else f"{low}-{high}"


_HANDLERS = {"tasks": _tasks}


def add_parser(sub) -> None:
  """Adds the `xland` subcommand, with its own subcommands, to the `arena`
  subparsers `sub`."""
  p = sub.add_parser(
      "xland", help="XLand-MiniGrid (AdA) task sets",
      description="The AdA task space on XLand-MiniGrid. `arena xland WHAT "
      "--help` describes each.")
  xland_sub = p.add_subparsers(dest="xland_command", required=True,
                               metavar="WHAT")
  _add_tasks(xland_sub)
  p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
  """Runs `arena xland WHAT`; returns the exit code. Bad input raises
  ValueError, which the `arena` command reports in one line with exit
  code 2."""
  return _HANDLERS[args.xland_command](args)


class _BatchProgress:
  """A rich progress bar on a terminal, else one line per batch (when
  there is more than one)."""

  def __init__(self, bar: bool):
    self._bar = None
    self._tasks = {}
    if bar:
      from rich import console, progress  # pylint: disable=g-import-not-at-top
      self._bar = progress.Progress(
          progress.TextColumn("[bold]{task.description}"),
          progress.BarColumn(), progress.MofNCompleteColumn(),
          progress.TimeElapsedColumn(), progress.TimeRemainingColumn(),
          console=console.Console(stderr=True))

  def __call__(self, phase: str, done: int, total: int) -> None:
    if self._bar is None:
      if total > 1:
        print(f"{phase}: batch {done}/{total}", file=sys.stderr, flush=True)
      return
    if not self._tasks:
      self._bar.start()
    if phase not in self._tasks:
      self._tasks[phase] = self._bar.add_task(phase, total=total)
    self._bar.update(self._tasks[phase], completed=done)

  def close(self) -> None:
    if self._bar is not None and self._tasks:
      self._bar.stop()


def add_eval_parser(eval_sub) -> None:
  """Adds `trials` to the `arena eval` subparsers `eval_sub`."""
  p = eval_sub.add_parser(
      "trials", help="success per trial of an agent with memory on an "
      "XLand task set (AdA's few-shot adaptation)",
      description="Plays every task of FILE for N episodes of K trials (the "
      "world reset at each trial, the agent's memory kept) and prints, per "
      "trial, the success rate across tasks (mean, median, 20th percentile) "
      "and the mean return; with two controls on the same worlds: the "
      "agent with its memory cleared at every trial, and a uniformly random "
      "policy. AGENT is a run directory, a bundled agent's name, or "
      "'random'. K and T default to the agent's training setting (4 and "
      "xminigrid's step limit for 'random').")
  p.add_argument("agent", metavar="AGENT",
                 help="run directory, bundled agent name, or 'random'")
  p.add_argument("--tasks", required=True, metavar="FILE",
                 help="task set file (`arena xland tasks`, or xminigrid's "
                 "benchmark format)")
  p.add_argument("--trials", type=argtypes.int_at_least(1), metavar="K",
                 help="trials per episode (default: the agent's)")
  p.add_argument("--episodes", type=argtypes.int_at_least(1), default=4,
                 metavar="N", help="episodes per task (default 4)")
  p.add_argument("--steps-per-trial", type=argtypes.int_at_least(1),
                 metavar="T", help="step limit of a trial (default: the "
                 "agent's)")
  p.add_argument("--seed", type=argtypes.int_at_least(0), default=0,
                 metavar="S", help="random seed (default 0)")
  p.add_argument("--batch-size", type=argtypes.int_at_least(1), default=512,
                 metavar="B", help="environments per compiled call "
                 "(default 512); the random policy's actions depend on it")
  p.add_argument("--json", metavar="OUT",
                 help="also write the result as JSON (atomically)")
  p.add_argument("--no-progress", action="store_true",
                 help="no progress bar: plain lines instead")
  p.set_defaults(handler=eval_trials)


def eval_trials(args: argparse.Namespace) -> int:
  """Runs `arena eval trials`; returns the exit code. Bad input raises
  ValueError or FileNotFoundError (exit code 2 in `arena`)."""
  from rich.console import Console  # pylint: disable=g-import-not-at-top

  from agents.core import write_json_atomic  # pylint: disable=g-import-not-at-top
  from eval.xland import trials_eval  # pylint: disable=g-import-not-at-top
  if args.json is not None and pathlib.Path(args.json).is_dir():
    raise ValueError(f"--json {args.json!r} is a directory, not a file")
  progress = _BatchProgress(sys.stderr.isatty() and not args.no_progress)
  try:
    result = trials_eval.evaluate_agent(
        args.agent, args.tasks, num_trials=args.trials,
        steps_per_trial=args.steps_per_trial, episodes=args.episodes,
        seed=args.seed, batch_size=args.batch_size, progress=progress)
  finally:
    progress.close()
  console = Console(width=None if sys.stdout.isatty() else 110)
  step = "" if result["step"] is None else f" (step {result['step']:,})"
  console.print(trials_eval.trials_table(
      result, title=f"{args.agent}{step} on {args.tasks}: {result['tasks']} "
      f"tasks x {result['episodes']} episodes, {result['trials']} trials of "
      f"{result['steps_per_trial']} steps ({result['layout']})"))
  print(trials_eval.ratio_line(result), flush=True)
  if args.json is not None:
    write_json_atomic(args.json, {
        **result, "source": {"agent": args.agent, "tasks": args.tasks,
                             "seed": args.seed,
                             "batch_size": args.batch_size}})
    print(f"wrote {args.json}", flush=True)
  return EXIT_OK
