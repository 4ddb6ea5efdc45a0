"""`arena average`: parse and call one library function (see cli.py)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
  """Adds the `average` subcommand to the `arena` subparsers `sub`."""
  parser = sub.add_parser(
      "average", help="average a run's last checkpoints into a new run dir",
      description="Write OUT_DIR, a run directory whose policy is the mean "
      "of the parameters of RUN_DIR's last N checkpoints (R-NaD runs), for "
      "tournaments, play and load_policy. By default each checkpoint's "
      "test-time parameters are averaged (its Polyak average when the run "
      "had agent.test_policy_avg on). Several RUN_DIRs of the same game and "
      "network (forks of one run under other seeds) give the mean over each "
      "one's last N checkpoints, each run weighing the same.")
  parser.add_argument("run_dirs", metavar="RUN_DIR", nargs="+")
  parser.add_argument("--last", type=int, required=True, metavar="N",
                      help="how many of the latest checkpoints to average")
  parser.add_argument("--out", required=True, metavar="OUT_DIR",
                      help="the new run directory (must not exist)")
  parser.add_argument("--online", action="store_true",
                      help="average the learner's online parameters instead")
  parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
  from selfplay import average  # pylint: disable=g-import-not-at-top
  steps = average.average_run(args.run_dirs, args.out, args.last,
                              online=args.online)
  kind = "online" if args.online else "test-time"
  if len(args.run_dirs) == 1:
    source = f"at steps {', '.join(map(str, steps))} of {args.run_dirs[0]}"
  else:
    source = (f"of the last {args.last} checkpoint(s) of each of "
              f"{', '.join(args.run_dirs)}")
  print(f"arena average: wrote {args.out}: the mean of {kind} parameters "
        f"{source}")
  return 0
