"""`arena gtp`: a Go engine that speaks GTP on stdin/stdout (see cli.py).

  arena gtp AGENT [--seed S] [--log FILE]

For GoGui, Sabaki, gogui-twogtp or GNU Go matches, e.g.
`gogui -program "arena gtp random"`. Only GTP goes to stdout; the session
can be copied to `--log FILE`. The protocol and its choices (rules, scoring,
time) are in `eval.go.gtp_server`.

AGENT names the player; `resolve_player` is the one place agents plug in
(run directories and bundled agents will be added there).
"""

from __future__ import annotations

import argparse
import contextlib
import sys

EXIT_OK, EXIT_USAGE = 0, 2

#: The agents `arena gtp` can play, as named on the command line.
AGENTS = ("random",)


def resolve_player(name: str, *, seed: int = 0):
  """The `eval.go.players.GoPlayer` that AGENT `name` names.

  Args:
    name: "random" (a uniformly random legal move).
    seed: seeds a player that draws moves at random.

  Raises:
    ValueError: `name` names no agent; the message lists those that exist.
  """
  from eval.go import players  # pylint: disable=g-import-not-at-top
  if name == "random":
    return players.RandomPlayer(seed)
  raise ValueError(f"unknown agent {name!r}; available: {', '.join(AGENTS)}")


def add_parser(sub) -> None:
  """Adds the `gtp` subcommand to the `arena` subparsers `sub`."""
  p = sub.add_parser(
      "gtp", help="a Go engine speaking GTP on stdin/stdout",
      description="Play Go as a GTP version 2 engine on stdin/stdout (for "
      "GoGui, Sabaki, gogui-twogtp, matches against GNU Go). Tromp-Taylor "
      "rules with positional superko; final_score is the area score of the "
      "board.")
  p.add_argument("agent", metavar="AGENT",
                 help=f"the player: {', '.join(AGENTS)}")
  p.add_argument("--seed", type=int, default=0,
                 help="seeds a random player (default 0)")
  p.add_argument("--log", metavar="FILE",
                 help="append every command and reply to FILE")
  p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
  """Serves GTP until `quit` or the end of stdin; returns the exit code."""
  try:
    player = resolve_player(args.agent, seed=args.seed)
  except ValueError as e:
    print(f"arena gtp: error: {e}", file=sys.stderr)
    return EXIT_USAGE
  from eval.go import gtp_server  # pylint: disable=g-import-not-at-top
  with contextlib.ExitStack() as stack:
    log = None
    if args.log:
      try:
        log = stack.enter_context(open(args.log, "a", encoding="utf-8"))
      except OSError as e:
        print(f"arena gtp: error: cannot open --log {args.log!r}: "
              f"{e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    gtp_server.GTPServer(player, log=log).serve(sys.stdin, sys.stdout)
  return EXIT_OK
