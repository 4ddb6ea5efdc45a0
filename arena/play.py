"""`arena play`: parse and call one library function (see cli.py).

  arena play stratego --agent SPEC [--variant classic|barrage|small]
      [--human-first] [--seed N] [--setup SETUP | --deploy random|manual]
      [--record FILE] [--max-plies N] [--color auto|always|never]
  arena play go --agent SPEC [--board-size N] [--komi K] [--human-first]
      [--seed N] [--record FILE]
  arena play --replay FILE [--step | --no-pause]

Records go to `records/stratego-<variant>-<time>.json` (Go:
`records/go-<N>x<N>-<time>.sgf`) under the current directory unless
`--record FILE` names one (an existing file is never overwritten).
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


def _float(text: str) -> float:
  try:
    return float(text)
  except ValueError:
    raise argparse.ArgumentTypeError(
        f"expected a number, got {text!r}") from None


def add_parser(sub) -> None:
  """Adds the `play` subcommand to the `arena` subparsers `sub`."""
  p = sub.add_parser(
      "play", help="play against an agent or bot in the terminal, or replay",
      description="Play Stratego or Go against an agent or bot. Stratego: "
      "the board from your side, enemy pieces hidden until revealed; moves "
      "typed as e4-e5; recorded as JSON after every move, --replay shows a "
      "record again. Go: Tromp-Taylor rules (area scoring), moves typed as "
      "GTP vertices (D4, pass); recorded as SGF after every move. In both, "
      "help lists the commands.")
  p.add_argument("game", nargs="?", metavar="GAME",
                 help="the game (one with a human-play view: go, stratego)")
  p.add_argument("--agent", metavar="SPEC",
                 help="the opponent: random, heuristic, a bundled agent "
                 "(deepnash-small), RUN_DIR or RUN_DIR@STEP, any but the bots "
                 "with :greedy to play the agent's most "
                 "likely move instead of sampling; for go also gnugo:L (GNU "
                 "Go at level 0-10), gtp:COMMAND (any GTP engine) and a Go "
                 "agent's RUN_DIR[:sims=N|:greedy]")
  p.add_argument("--variant", choices=("classic", "barrage", "small"),
                 help="stratego: board and army (default classic)")
  p.add_argument("--board-size", type=_positive_int, metavar="N",
                 help="go: an N x N board, 2 to 25 (default 9)")
  p.add_argument("--komi", type=_float, metavar="K",
                 help="go: points added to White's area (default 7.5)")
  p.add_argument("--human-first", action="store_true",
                 help="move first: Red in stratego, Black in go (default: "
                 "Blue or White, second)")
  p.add_argument("--seed", type=int,
                 help="seeds the opponent and random setups (default: "
                 "random, written to the record)")
  deploy = p.add_mutually_exclusive_group()
  deploy.add_argument(
      "--setup", metavar="SETUP",
      help="stratego: your army as a setup half (from your back rank "
      "forward, each rank from file a: M 9..2 S B F, '.' empty), or "
      "'FIRST/SECOND' to fix both armies (a game without deployment)")
  deploy.add_argument("--deploy", choices=("random", "manual"),
                      help="stratego: place your army at random (default) "
                      "or square by square")
  p.add_argument("--record", metavar="FILE",
                 help="record file (default records/stratego-<variant>-"
                 "<time>.json, records/go-<N>x<N>-<time>.sgf)")
  p.add_argument("--max-plies", type=_positive_int, metavar="N",
                 help="stratego: moves before a draw (default: the "
                 "variant's)")
  p.add_argument("--color", choices=("auto", "always", "never"),
                 default="auto", help="stratego's colours: auto (when the "
                 "output is a terminal), always or never (go is plain text)")
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
  if args.game == "go":
    kind, ext = f"{args.board_size}x{args.board_size}", ".sgf"
  else:
    kind, ext = args.variant, ".json"
  base = pathlib.Path(RECORDS_DIR) / f"{args.game}-{kind}-{stamp}"
  path, n = base.with_suffix(ext), 1
  while path.exists():
    n += 1
    path = base.parent / f"{base.name}-{n}{ext}"
  return path


# Options of one game only (their defaults are None), by game.
_GAME_OPTIONS = {
    "stratego": ("variant", "setup", "deploy", "max_plies"),
    "go": ("board_size", "komi"),
}


def _check_options(args: argparse.Namespace) -> None:
  for game, options in _GAME_OPTIONS.items():
    if game == args.game:
      continue
    for option in options:
      if getattr(args, option) is not None:
        flag = "--" + option.replace("_", "-")
        raise ValueError(f"{flag} is for {game}, not {args.game}")


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
    if args.game == "go":
      raise ValueError("--agent SPEC is needed: random, gnugo:L, "
                       "gtp:COMMAND or a Go agent's run directory")
    raise ValueError("--agent SPEC is needed: random, heuristic, a bundled "
                     "agent (deepnash-small) or a run directory")
  if args.step or args.no_pause:
    raise ValueError("--step and --no-pause go with --replay")
  _check_options(args)
  seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
  if args.game == "go":
    return _play_go(args, seed, echo)
  from eval.stratego import human  # pylint: disable=g-import-not-at-top
  args.variant = args.variant or "classic"
  cfg = human.PlayConfig(
      agent=args.agent, variant=args.variant,
      human_seat=0 if args.human_first else 1, seed=seed,
      deploy=args.deploy or "random", setup=args.setup,
      max_plies=args.max_plies)
  human.play(cfg, _record_path(args), inp=sys.stdin, out=sys.stdout,
             color=color, echo=echo)
  return 0


def _play_go(args: argparse.Namespace, seed: int, echo: bool) -> int:
  from eval.go import human  # pylint: disable=g-import-not-at-top
  args.board_size = args.board_size or 9
  cfg = human.PlayConfig(
      agent=args.agent, board_size=args.board_size,
      komi=7.5 if args.komi is None else args.komi,
      human_colour=0 if args.human_first else 1, seed=seed)
  try:
    human.play(cfg, _record_path(args), inp=sys.stdin, out=sys.stdout,
               echo=echo)
  except RuntimeError as e:
    print(f"arena play: error: {e}", file=sys.stderr)
    return 1
  return 0
