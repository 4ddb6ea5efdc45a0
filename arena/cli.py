"""The `arena` command: parse, build the config, call one library function.

Bad input (arguments, config keys, run directories) gets a one-line message
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import pathlib
import sys
from typing import Callable, Sequence

from arena import average as _average
from arena import go as _go
from arena import gtp as _gtp
from arena import play as _play
from arena import tournament as _tournament
from arena import xland as _xland

# Modules that add a subcommand: `add_parser(subparsers)` sets `run` as the
# parser's `handler` default; `run(args) -> exit code`.
_SUBCOMMAND_MODULES = (_average, _go, _gtp, _play, _tournament, _xland)

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
  """Bad input from the user: reported in one line with exit code 2."""


def _positive(kind: type, what: str):
  """An argparse type: a number of `kind` that must be > 0."""
  def parse(text: str):
    try:
      value = kind(text)
    except ValueError:
      raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value <= 0:
      raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value
  return parse


_positive_int = _positive(int, "an integer")
_positive_float = _positive(float, "a number")


def _build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="arena",
      description="Reinforcement learning for games: train, evaluate, play.")
  sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

  train = sub.add_parser(
      "train", help="run self-play training from a config file",
      description="Run self-play training. Stops at --steps or --time-limit, "
      "whichever comes first, or on Ctrl-C, always writing a final checkpoint.")
  train.add_argument("config", nargs="?", metavar="CONFIG",
                     help="config file (configs/leduc_rnad.py) or bundled "
                     "config name (leduc_rnad); optional with --resume")
  train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     dest="overrides",
                     help="override a config value, e.g. agent.batch_size=256 "
                     "(repeatable)")
  train.add_argument("--resume", metavar="RUN_DIR",
                     help="continue the run in RUN_DIR from its last checkpoint")
  train.add_argument("--out", metavar="RUN_DIR",
                     help="run directory (default runs/<config>-<time>)")
  train.add_argument("--steps", type=_positive_int, metavar="N",
                     help="total learner steps to reach (default: run.num_steps)")
  train.add_argument("--time-limit", type=_positive_float, metavar="SECONDS",
                     help="stop after this much wall time in this invocation")
  train.add_argument(
      "--seed", type=int,
      help="shortcut for --set run.seed=N; with --resume on a copy of a run, "
      "continues it under this seed (a fork)")
  train.add_argument(
      "--init-from", metavar="RUN",
      help="start from the network of RUN (a run directory or bundled "
      "agent; its latest checkpoint), with a fresh optimiser and step count: "
      "shortcut for --set run.init_from=RUN; not with --resume")
  train.add_argument("--no-progress", action="store_true",
                     help="no progress bar: one plain line per log record instead")

  ev = sub.add_parser("eval", help="evaluate a training run")
  ev_sub = ev.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
  nc = ev_sub.add_parser(
      "nashconv", help="exact NashConv (exploitability) of a run's policy",
      description="NashConv of the run's policy, computed by OpenSpiel, with "
      "and without test-time post-processing.")
  nc.add_argument("run_dir", metavar="RUN_DIR")
  nc.add_argument("--step", type=int, help="checkpoint step (default: latest)")
  _xland.add_eval_parser(ev_sub)  # `eval trials`
  for module in _SUBCOMMAND_MODULES:
    module.add_parser(sub)
  return parser


def _train(args: argparse.Namespace) -> int:
  from agents.core import configs as config_lib  # pylint: disable=g-import-not-at-top
  from agents.core import runs  # pylint: disable=g-import-not-at-top
  from selfplay import drivers  # pylint: disable=g-import-not-at-top
  overrides = list(args.overrides)
  if args.seed is not None:
    overrides.append(f"run.seed={args.seed}")
  if args.init_from is not None:
    if args.resume:
      raise UsageError("--init-from starts a new run; a resumed run "
                       "continues from its own checkpoint")
    overrides.append(f"run.init_from={args.init_from}")
  if args.resume:
    if args.out:
      raise UsageError("give either --resume RUN_DIR or --out RUN_DIR, not both")
    if not pathlib.Path(args.resume).is_dir():  # never a bundled agent's
      raise UsageError(f"run directory {args.resume!r} does not exist")
    saved = runs.read_config(args.resume)
    config = config_lib.apply_overrides(saved, overrides)
    if args.config:
      given = config_lib.load(args.config, overrides)
      if dataclasses.replace(given, run=config.run) != config:
        raise UsageError(
            f"{args.config} differs from the config saved in {args.resume} "
            "(beyond the run section); resume without CONFIG, or change "
            "values with --set")
    run_dir = pathlib.Path(args.resume)
  else:
    if not args.config:
      raise UsageError("a CONFIG is needed (or --resume RUN_DIR)")
    config = config_lib.load(args.config, overrides)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = pathlib.Path(
        args.out or f"runs/{pathlib.Path(args.config).stem}-{stamp}")
  result = drivers.train(config, run_dir, resume=bool(args.resume),
                         num_steps=args.steps, time_limit_s=args.time_limit,
                         progress=("bar" if sys.stderr.isatty() and
                                   not args.no_progress else "lines"))
  shown = {k: v for k, v in result.metrics.items()
           if k in ("nash_conv", "nash_conv_raw", "loss", "steps_per_s",
                    "eval_return", "env_steps")}
  summary = "  ".join(f"{k}={v:.4g}" for k, v in sorted(shown.items())
                      if isinstance(v, (int, float)))
  print(f"arena: stopped at step {result.step} ({result.stop_reason}); "
        f"run dir {result.run_dir}  {summary}", flush=True)
  return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
  from eval import exploitability  # pylint: disable=g-import-not-at-top
  if args.eval_command == "nashconv":
    out = exploitability.nash_conv_of_run(args.run_dir, step=args.step)
    for k, v in out.items():
      print(f"{k}: {v:.6f}")
  return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": _train,
    "eval": _eval,
}


def main(argv: Sequence[str] | None = None) -> int:
  parser = _build_parser()
  args = parser.parse_args(argv)
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  absl_logging.set_verbosity(absl_logging.ERROR)  # orbax's info chatter
  from agents.core import CheckpointError  # pylint: disable=g-import-not-at-top
  try:
    handler = getattr(args, "handler", None) or _COMMANDS[args.command]
    code = handler(args)
  except (UsageError, CheckpointError, ValueError, FileNotFoundError) as e:
    print(f"arena {args.command}: error: {e}", file=sys.stderr)
    code = EXIT_USAGE
  except KeyboardInterrupt:
    print("arena: interrupted", file=sys.stderr)
    code = 130
  if "selfplay.signals" in sys.modules:
    from selfplay import signals  # pylint: disable=g-import-not-at-top
    if signals.calls_still_running() and argv is None:
      # A stop request gave up on a compile or evaluation still running in
      # native code; end the process (ours: run as the `arena` program, not
      # called with arguments from another program) instead of waiting.
      sys.stdout.flush()
      sys.stderr.flush()
      os._exit(code)  # pylint: disable=protected-access
  return code


if __name__ == "__main__":
  sys.exit(main())
