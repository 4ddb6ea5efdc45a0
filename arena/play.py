"""`arena play`: parse and call one library function (see cli.py).

  arena play stratego --agent SPEC [--variant classic|barrage|small]
      [--human-first] [--seed N] [--setup SETUP | --deploy random|manual]
      [--record FILE] [--max-plies N] [--color auto|always|never]
  arena play --replay FILE [--step | --no-pause]

Records go to `records/stratego-<variant>-<time>.json` under the current
directory unless `--record FILE` names one (an existing file is never
overwritten).
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import secrets
import sys

RECORDS_DIR = "records"


def _human_games() -> tuple[str, ...]:
  """The games with a human-play view (`games.spec(name).human_view`), read
  on use so that building the parser loads no game (and no JAX)."""
  import games  # pylint: disable=g-import-not-at-top
  return tuple(name for name in games.available_games()
               if games.spec(name).human_view)


def _positive_int(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(
        f"expected an integer, got {text!r}") from None
  if value <= 0:
    raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
  return value


def add_parser(sub) -> None:
  """Adds the `play` subcommand to the `arena` subparsers `sub`."""
  p = sub.add_parser(
      "play", help="play against an agent or bot in the terminal, or replay",
      description="Play Stratego against an agent or bot: the board from "
      "your side, enemy pieces hidden until revealed; moves typed as e4-e5 "
      "(help lists the commands). The game is recorded as JSON after every "
      "move; --replay shows a record again.")
  p.add_argument("game", nargs="?", metavar="GAME",
                 help="the game (one with a human-play view: stratego)")
  p.add_argument("--agent", metavar="SPEC",
                 help="the opponent: random, heuristic, a bundled agent "
                 "(deepnash-small), RUN_DIR or RUN_DIR@STEP, any but the bots "
                 "with :greedy to play the agent's most "
                 "likely move instead of sampling")
  p.add_argument("--variant", default="classic",
                 choices=("classic", "barrage", "small"),
                 help="board and army (default classic)")
  p.add_argument("--human-first", action="store_true",
                 help="play Red and move first (default: Blue, second)")
  p.add_argument("--seed", type=int,
                 help="seeds the opponent and random setups (default: "
                 "random, written to the record)")
  deploy = p.add_mutually_exclusive_group()
  deploy.add_argument(
      "--setup", metavar="SETUP",
      help="your army as a setup half (from your back rank forward, each "
      "rank from file a: M 9..2 S B F, '.' empty), or 'FIRST/SECOND' to fix "
      "both armies (a game without deployment)")
  deploy.add_argument("--deploy", choices=("random", "manual"),
                      default="random",
                      help="place your army at random (default) or square "
                      "by square")
  p.add_argument("--record", metavar="FILE",
                 help="record file (default records/stratego-<variant>-"
                 "<time>.json)")
  p.add_argument("--max-plies", type=_positive_int, metavar="N",
                 help="moves before a draw (default: the variant's)")
  p.add_argument("--color", choices=("auto", "always", "never"),
                 default="auto", help="colours: auto (when the output is a "
                 "terminal), always or never")
  p.add_argument("--replay", metavar="FILE",
                 help="replay a recorded game instead of playing")
  pause = p.add_mutually_exclusive_group()
  pause.add_argument("--step", action="store_true",
                     help="with --replay: wait for Enter after each move "
                     "(the default when the input is a terminal)")
  pause.add_argument("--no-pause", action="store_true",
                     help="with --replay: show every move at once")
  p.set_defaults(handler=run)


def _record_path(args: argparse.Namespace) -> pathlib.Path:
  if args.record:
    path = pathlib.Path(args.record)
    if path.exists():
      raise ValueError(f"record file {args.record!r} already exists; choose "
                       "another --record")
    return path
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  base = pathlib.Path(RECORDS_DIR) / f"{args.game}-{args.variant}-{stamp}"
  path, n = base.with_suffix(".json"), 1
  while path.exists():
    n += 1
    path = base.parent / f"{base.name}-{n}.json"
  return path


def run(args: argparse.Namespace) -> int:
  """Plays or replays; returns the exit code."""
  color = (args.color == "always" or
           (args.color == "auto" and sys.stdout.isatty()
            and "NO_COLOR" not in os.environ))
  echo = not sys.stdin.isatty()
  if args.replay:
    if args.game or args.agent:
      raise ValueError("--replay FILE takes no game or --agent")
    from eval.stratego import replay  # pylint: disable=g-import-not-at-top
    pause = args.step or (not args.no_pause and sys.stdin.isatty())
    replay.replay(args.replay, inp=sys.stdin, out=sys.stdout,
                  pause=pause, color=color, echo=echo)
    return 0
  if not args.game or args.game not in _human_games():
    given = f"{args.game!r} is not a game with a human-play view; " if (
        args.game) else ""
    raise ValueError(f"{given}name a game ({', '.join(_human_games())}) or "
                     "give --replay FILE")
  if not args.agent:
    raise ValueError("--agent SPEC is needed: random, heuristic, a bundled "
                     "agent (deepnash-small) or a run directory")
  if args.step or args.no_pause:
    raise ValueError("--step and --no-pause go with --replay")
  from eval.stratego import human  # pylint: disable=g-import-not-at-top
  cfg = human.PlayConfig(
      agent=args.agent, variant=args.variant,
      human_seat=0 if args.human_first else 1,
      seed=args.seed if args.seed is not None else secrets.randbelow(2**31),
      deploy=args.deploy, setup=args.setup, max_plies=args.max_plies)
  human.play(cfg, _record_path(args), inp=sys.stdin, out=sys.stdout,
             color=color, echo=echo)
  return 0
