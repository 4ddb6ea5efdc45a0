"""`arena go`: Go data and engines; parse and call one library function
(see cli.py).

  arena go games --out DIR --games N --level L [--seed S] [--workers W]
      [--opening 2-6] [--shard-size 100] [--board-size 9] [--komi 7.5]
      [--max-moves N] [--no-progress]
  arena go positions SOURCE... --out DIR [--next-moves 8] [--no-progress]
  arena go index --key RUN --positions DIR --out DIR [--fraction 1]
      [--symmetries 8] [--backend hnsw|ivfpq|scann|exact] [--overwrite]
  arena go index --add --positions DIR --out DIR
  arena go index --agent AGENT
  arena go neighbours --index DIR --positions DIR --out DIR [--k 32]
      [--source index|random]

Each `arena go WHAT` is a function `_WHAT(args) -> exit code` registered in
`_HANDLERS` by its `_add_WHAT(sub)` parser builder.
"""

from __future__ import annotations

import argparse
import sys
import time

from arena import argtypes

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _level(text: str) -> int:
  value = argtypes.int_at_least(0)(text)
  if value > 10:
    raise argparse.ArgumentTypeError(
        f"GNU Go levels go from 0 to 10, got {value}")
  return value


def _opening(text: str) -> tuple[int, int]:
  """"2-6" -> (2, 6); "4" -> (4, 4)."""
  low, sep, high = text.partition("-")
  try:
    lo, hi = int(low), int(high if sep else low)
  except ValueError:
    raise argparse.ArgumentTypeError(
        f"expected LOW-HIGH (e.g. 2-6) or N, got {text!r}") from None
  if not 0 <= lo <= hi:
    raise argparse.ArgumentTypeError(
        f"expected 0 <= LOW <= HIGH, got {text!r}")
  return lo, hi


def _add_games(sub) -> None:
  p = sub.add_parser(
      "games", help="expert games from GNU Go self-play, as SGF shards",
      description="GNU Go plays itself over GTP (--chinese-rules "
      "--positional-superko --capture-all-dead --play-out-aftermath --never-resign, so RE is the "
      "area score of the final position) after a few random opening moves off the first "
      "two lines. Games go to DIR as xz-compressed SGF shards, one game per "
      "line, each written once complete, with manifest.json. Rerunning the "
      "same command resumes, skipping complete shards, and a larger --games "
      "adds games; other arguments into the same DIR are an error. Game i is reproducible from (--seed, i).")
  p.add_argument("--out", required=True, metavar="DIR",
                 help="output directory (created if missing)")
  p.add_argument("--games", required=True, type=argtypes.int_at_least(1),
                 metavar="N", help="games in all (earlier runs' included)")
  p.add_argument("--level", required=True, type=_level, metavar="L",
                 help="GNU Go level, 0 (fastest) to 10 (strongest)")
  p.add_argument("--seed", type=argtypes.int_at_least(0), default=0, metavar="S",
                 help="seed of the openings and of GNU Go (default 0)")
  p.add_argument("--workers", type=argtypes.int_at_least(1), default=1, metavar="W",
                 help="parallel processes, each with its own GNU Go "
                 "(default 1)")
  p.add_argument("--opening", type=_opening, default=(2, 6),
                 metavar="LOW-HIGH",
                 help="random opening moves per game, uniform in LOW..HIGH "
                 "(default 2-6)")
  p.add_argument("--shard-size", type=argtypes.int_at_least(1), default=100,
                 metavar="N", help="games per shard file (default 100)")
  p.add_argument("--board-size", type=argtypes.int_at_least(2), default=9,
                 metavar="N", help="board size (default 9)")
  p.add_argument("--komi", type=float, default=7.5,
                 help="komi (default 7.5)")
  p.add_argument("--max-moves", type=argtypes.int_at_least(1), metavar="N",
                 help="moves after which a game stops unfinished (default "
                 "3 per point: 243 on 9x9)")
  p.add_argument("--no-progress", action="store_true",
                 help="no progress bar")
  p.set_defaults(go_command="games")


def _games(args: argparse.Namespace) -> int:
  from eval.go import expert_games  # pylint: disable=g-import-not-at-top
  summary = expert_games.generate(
      args.out, num_games=args.games, level=args.level, seed=args.seed,
      workers=args.workers, opening_moves=args.opening,
      board_size=args.board_size, komi=args.komi,
      games_per_shard=args.shard_size, max_moves=args.max_moves,
      progress=not args.no_progress)
  if summary.games:
    print(f"played {summary.games} game{'s' if summary.games != 1 else ''} "
          f"({summary.states} states) in "
          f"{summary.seconds:.1f} s: {summary.states_per_hour:,.0f} "
          f"states/hour; wrote {summary.shards_written} shards, skipped "
          f"{summary.shards_skipped} complete ones; out {args.out}",
          flush=True)
  else:
    print(f"nothing to do: all {summary.shards_skipped} shards in "
          f"{args.out} are complete", flush=True)
  return EXIT_OK


def _add_positions(sub) -> None:
  p = sub.add_parser(
      "positions", help="expert positions for training, from game records",
      description="Replays the games under each SOURCE (directories or "
      "files of SGF records, one game per line, as `arena go games` writes "
      "them) and writes a column store of positions at which the expert "
      "chose the move: board, player to move, ko, last move, the next moves, "
      "the outcome for the player to move, game and split. Games are split "
      "into train / retrieval / test by a hash of their id, so a game keeps "
      "its split as games are added. DIR is replaced atomically.")
  p.add_argument("sources", nargs="+", metavar="SOURCE",
                 help="directories or files of game records")
  p.add_argument("--out", required=True, metavar="DIR",
                 help="the positions store (replaced)")
  p.add_argument("--next-moves", type=argtypes.int_at_least(1), default=8,
                 metavar="M", help="moves kept per position (default 8)")
  p.add_argument("--no-progress", action="store_true",
                 help="no progress bar")
  p.set_defaults(go_command="positions")


def _positions(args: argparse.Namespace) -> int:
  from eval.go import positions  # pylint: disable=g-import-not-at-top
  store = positions.build_positions(args.sources, args.out,
                                    next_moves=args.next_moves,
                                    progress=not args.no_progress)
  meta = store.meta
  print(f"{len(meta['games'])} games, {store.num_rows} positions "
        f"(train {meta['positions']['train']}, retrieval "
        f"{meta['positions']['retrieval']}, test {meta['positions']['test']}; "
        f"distinct in train {meta['distinct_positions']['train']}); "
        f"recorded result and area score disagree in "
        f"{meta['result_disagreements']} games; out {args.out}", flush=True)
  if positions.skipped_message(meta):
    print(positions.skipped_message(meta), flush=True)
  return EXIT_OK


def _add_index(sub) -> None:
  p = sub.add_parser(
      "index", help="the nearest-neighbour index of the retrieval split",
      description="Embeds every position of the retrieval split (each under "
      "the board's eight symmetries) with a frozen key network (a run of "
      "`arena train go9_key`) and indexes the keys, with each position's "
      "board, next moves, outcome and game as payload. With --add, adds the "
      "retrieval-split games of a rebuilt positions store that the index "
      "lacks, without rebuilding it or retraining anything. With --agent, "
      "builds (or brings up to date) the index a retrieval agent plays with "
      "from its recipe (a bundled agent's is built on first use anyway), in "
      "the cache ($ARENA_CACHE_DIR, else ~/.cache/arena).")
  p.add_argument("--agent", metavar="AGENT", help="a retrieval agent (run "
                 "directory or bundled name) whose index to build")
  p.add_argument("--key", metavar="RUN", help="the key network's run "
                 "directory (not with --add: the index names its own)")
  p.add_argument("--positions", metavar="DIR",
                 help="the positions store (`arena go positions`)")
  p.add_argument("--out", metavar="DIR", help="the index")
  p.add_argument("--fraction", type=_fraction, default=1.0, metavar="F",
                 help="index only this share of the retrieval games, a fixed "
                 "nested subset (default 1)")
  p.add_argument("--symmetries", type=argtypes.int_at_least(1), default=8,
                 metavar="S", help="symmetries per position, 1-8 (default 8)")
  p.add_argument("--backend", default="hnsw",
                 choices=("hnsw", "ivfpq", "scann", "exact"),
                 help="nearest-neighbour backend (default hnsw)")
  p.add_argument("--add", action="store_true",
                 help="add the games the index lacks to an existing index")
  p.add_argument("--overwrite", action="store_true",
                 help="replace an existing index")
  p.add_argument("--no-progress", action="store_true", help="no progress bar")
  p.set_defaults(go_command="index")


def _fraction(text: str) -> float:
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a number, got {text!r}"
                                     ) from None
  if not 0 < value <= 1:
    raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
  return value


def _index(args: argparse.Namespace) -> int:
  from agents.core import ann  # pylint: disable=g-import-not-at-top
  from agents.go_retrieval import retrieval  # pylint: disable=g-import-not-at-top
  if args.agent:
    return _agent_index(args)
  if not (args.positions and args.out):
    raise ValueError("--positions DIR and --out DIR are needed (or --agent "
                     "AGENT)")
  if args.add:
    if args.key:
      raise ValueError("--add uses the index's own key network; drop --key")
    games, entries = retrieval.add_new_games(args.out, args.positions)
    print(f"added {games} games ({entries} entries) to {args.out}"
          if games else f"nothing to add: {args.out} has every game",
          flush=True)
    return EXIT_OK
  if not args.key:
    raise ValueError("--key RUN is needed to build an index")
  start = time.monotonic()
  index = retrieval.build_index(
      args.key, args.positions, args.out, fraction=args.fraction,
      symmetries=args.symmetries,
      config=ann.IndexConfig(backend=args.backend),
      progress=not args.no_progress, overwrite=args.overwrite)
  memory = index.memory()
  print(f"indexed {index.num_entries} entries ({args.symmetries} symmetries) "
        f"in {time.monotonic() - start:.1f} s: index {memory.index / 2**20:.1f}"
        f" MiB, payload {memory.payload / 2**20:.1f} MiB; out {args.out}",
        flush=True)
  return EXIT_OK


def _agent_index(args: argparse.Namespace) -> int:
  from agents.core import ann, runs  # pylint: disable=g-import-not-at-top
  from eval.go import index_cache  # pylint: disable=g-import-not-at-top
  extra = [f for f in ("key", "positions", "out", "add", "overwrite")
           if getattr(args, f)]
  if extra:
    raise ValueError(f"--agent builds from the agent's own recipe; drop "
                     f"--{extra[0]}")
  config = runs.read_config(args.agent)
  retrieval_cfg = getattr(getattr(config, "agent", None), "retrieval", None)
  if retrieval_cfg is None or not retrieval_cfg.num_neighbours:
    raise ValueError(f"{args.agent} is no Go agent with retrieval")
  start = time.monotonic()
  where = index_cache.index_for(args.agent, retrieval_cfg.index,
                                progress=not args.no_progress)
  index = ann.open(where)
  print(f"{args.agent}: index of {index.num_entries} entries ready in "
        f"{time.monotonic() - start:.1f} s; at {where}", flush=True)
  return EXIT_OK


def _add_neighbours(sub) -> None:
  p = sub.add_parser(
      "neighbours", help="precompute training and test positions' neighbours",
      description="Finds the K nearest index entries of every training and "
      "test position (never from the position's own game) and stores their "
      "ids and distances, for training a retrieval network. --source random "
      "draws K random entries instead (the control with the same input).")
  p.add_argument("--index", required=True, metavar="DIR",
                 help="the index (`arena go index`)")
  p.add_argument("--positions", required=True, metavar="DIR",
                 help="the positions store the index was built from")
  p.add_argument("--out", required=True, metavar="DIR",
                 help="the neighbour table (replaced)")
  p.add_argument("--k", type=argtypes.int_at_least(1), default=32, metavar="K",
                 help="neighbours per position (default 32)")
  p.add_argument("--source", choices=("index", "random"), default="index",
                 help="nearest (index) or random entries (default index)")
  p.add_argument("--no-progress", action="store_true", help="no progress bar")
  p.set_defaults(go_command="neighbours")


def _neighbours(args: argparse.Namespace) -> int:
  from agents.go_retrieval import retrieval  # pylint: disable=g-import-not-at-top
  start = time.monotonic()
  retrieval.neighbour_table(args.index, args.positions, args.out, k=args.k,
                            source=args.source,
                            progress=not args.no_progress)
  print(f"neighbours ({args.source}, k={args.k}) in "
        f"{time.monotonic() - start:.1f} s; out {args.out}", flush=True)
  return EXIT_OK


_HANDLERS = {"games": _games, "positions": _positions, "index": _index,
             "neighbours": _neighbours}


def add_parser(sub) -> None:
  """Adds the `go` subcommand, with its own subcommands, to the `arena`
  subparsers `sub`."""
  p = sub.add_parser(
      "go", help="Go: expert games, positions, the retrieval index",
      description="Go tools. `arena go WHAT --help` describes each.")
  go_sub = p.add_subparsers(dest="go_command", required=True, metavar="WHAT")
  _add_games(go_sub)
  _add_positions(go_sub)
  _add_index(go_sub)
  _add_neighbours(go_sub)
  p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
  """Runs `arena go WHAT`; returns the exit code.

  Bad input raises ValueError (or FileNotFoundError when GNU Go is missing),
  which the `arena` command reports in one line with exit code 2; a failure
  of GNU Go itself is reported here, with exit code 1.
  """
  try:
    return _HANDLERS[args.go_command](args)
  except RuntimeError as e:  # GNU Go failed (eval.go's GTP errors included)
    print(f"arena go {args.go_command}: error: {e}", file=sys.stderr)
    return EXIT_ERROR
