"""`arena gtp`: a Go engine that speaks GTP on stdin/stdout (see cli.py).

  arena gtp AGENT [--simulations N] [--retrieve-at node|root] [--seed S]
                  [--log FILE]

For GoGui, Sabaki, gogui-twogtp or GNU Go matches, e.g.
`gogui -program "arena gtp random"`. Only GTP goes to stdout; the session
can be copied to `--log FILE`. The protocol and its choices (rules, scoring,
time) are in `eval.go.gtp_server`.

AGENT names the player: "random", or a trained Go agent (a run directory of
`arena train go9_key`, or a bundled agent's name), which searches as long as
the game's clock allows (`eval.go.network_player`); `resolve_player` is the
one place agents plug in.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

EXIT_OK, EXIT_USAGE = 0, 2

#: The built-in agents `arena gtp` can play, besides trained ones.
AGENTS = ("random",)


def resolve_player(name: str, *, seed: int = 0,
                   simulations: int | None = None, retrieve_at: str = "node"):
  """The `eval.go.players.GoPlayer` that AGENT `name` names.

  Args:
    name: "random" (a uniformly random legal move), or a run directory or
      bundled agent of the Go agent.
    seed: seeds a player that draws moves at random.
    simulations: a trained agent's searches per move (0: none; None: by the
      clock).
    retrieve_at: for an agent with retrieval, "node" (each node of its
      search gets its own neighbours) or "root" (once a move).

  Raises:
    ValueError: `name` names no agent; the message lists what exists.
  """
  from eval.go import players  # pylint: disable=g-import-not-at-top
  if name == "random":
    return players.RandomPlayer(seed)
  from agents.core import CheckpointError  # pylint: disable=g-import-not-at-top
  from agents.core import runs  # pylint: disable=g-import-not-at-top
  from eval.go import network_player  # pylint: disable=g-import-not-at-top
  if not runs.resolve_run_dir(name).exists():
    go_agents = [a for a in runs.bundled_agents() if a.startswith("go")]
    raise ValueError(f"unknown agent {name!r}: no such run directory or "
                     f"bundled agent; available: "
                     f"{', '.join([*AGENTS, *go_agents])}, or a run directory")
  try:
    return network_player.NetworkPlayer(name, simulations=simulations,
                                        seed=seed, retrieve_at=retrieve_at)
  except CheckpointError as e:
    raise ValueError(str(e)) from None


def add_parser(sub) -> None:
  """Adds the `gtp` subcommand to the `arena` subparsers `sub`."""
  p = sub.add_parser(
      "gtp", help="a Go engine speaking GTP on stdin/stdout",
      description="Play Go as a GTP version 2 engine on stdin/stdout (for "
      "GoGui, Sabaki, gogui-twogtp, matches against GNU Go). Tromp-Taylor "
      "rules with positional superko; final_score is the area score of the "
      "board.")
  p.add_argument("agent", metavar="AGENT",
                 help=f"the player: {', '.join(AGENTS)}, a Go agent's run "
                 "directory or a bundled Go agent")
  p.add_argument("--seed", type=int, default=0,
                 help="seeds the player's random choices (default 0)")
  p.add_argument("--simulations", type=int, default=None, metavar="N",
                 help="a trained agent's tree-search simulations per move "
                 "(0: play the network's move; default: as many as the "
                 "clock allows, 128 without a clock)")
  p.add_argument("--retrieve-at", choices=("node", "root"), default="node",
                 help="an agent with retrieval: search its index at every "
                 "node of the tree search (default) or once a move, at the "
                 "root")
  p.add_argument("--log", metavar="FILE",
                 help="append every command and reply to FILE")
  p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
  """Serves GTP until `quit` or the end of stdin; returns the exit code."""
  try:
    player = resolve_player(args.agent, seed=args.seed,
                            simulations=args.simulations,
                            retrieve_at=args.retrieve_at)
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
