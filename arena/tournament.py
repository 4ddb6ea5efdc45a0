"""`arena tournament`: parse and call one library function (see cli.py)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
  """Adds the `tournament` subcommand to the `arena` subparsers `sub`."""
  parser = sub.add_parser(
      "tournament", help="play a resumable round robin and rate the players",
      description="Play the round robin (or gauntlet) of the tournament file "
      "SPEC (TOML: game, [[players]] name/spec, games_per_pair, seed, "
      "workers, store, plot, gauntlet), storing each game in SQLite as it "
      "ends; a killed tournament resumes where it stopped. Prints scores, "
      "Elo with bootstrap intervals, Nash averaging and each pair's wins, "
      "draws and losses, and writes a PNG of the ratings.")
  parser.add_argument("spec", metavar="SPEC", help="tournament file (.toml)")
  parser.add_argument("--workers", type=int, metavar="N",
                      help="parallel game processes (default: the file's "
                      "workers, else 1)")
  parser.add_argument("--no-progress", action="store_true",
                      help="no progress bar: plain lines instead")
  parser.add_argument("--report", action="store_true",
                      help="print the table from the store without playing")
  parser.set_defaults(handler=run)


class _Progress:
  """A rich progress bar on a terminal, else about 20 plain lines."""

  def __init__(self, bar: bool):
    self._bar = None
    if bar:
      from rich import console, progress  # pylint: disable=g-import-not-at-top
      self._bar = progress.Progress(
          progress.TextColumn("[bold]tournament"), progress.BarColumn(),
          progress.MofNCompleteColumn(), progress.TimeElapsedColumn(),
          progress.TimeRemainingColumn(),
          progress.TextColumn("{task.fields[last]}"),
          console=console.Console(stderr=True))
      self._task = None

  def __call__(self, done: int, total: int, record) -> None:
    last = (f"{record.seats[0]} vs {record.seats[1]}: "
            f"{'/'.join(f'{x:g}' for x in record.returns)}")
    if self._bar is not None:
      if self._task is None:
        self._bar.start()
        self._task = self._bar.add_task("games", total=total, last="")
      self._bar.update(self._task, completed=done, last=last)
    elif done == total or done % max(1, total // 20) == 0:
      print(f"game {done}/{total}  {last}", flush=True)

  def close(self) -> None:
    if self._bar is not None and self._task is not None:
      self._bar.stop()


def run(args: argparse.Namespace) -> int:
  from rich.console import Console  # pylint: disable=g-import-not-at-top
  from eval import ratings as ratings_lib  # pylint: disable=g-import-not-at-top
  from eval import tournament  # pylint: disable=g-import-not-at-top
  from eval import tournament_spec  # pylint: disable=g-import-not-at-top
  spec = tournament_spec.load_spec(args.spec)
  if not args.report:
    progress = _Progress(sys.stderr.isatty() and not args.no_progress)
    try:
      played, total = tournament.run(spec, workers=args.workers,
                                     on_game=progress)
    except RuntimeError as e:
      print(f"arena tournament: error: {e}", file=sys.stderr)
      return 1
    finally:
      progress.close()
    print(f"played {played} games now; {total} in the tournament; "
          f"store {spec.store}", flush=True)
  records = tournament.stored_games(spec)
  ratings = tournament.ratings(spec, records)
  console = Console(width=None if sys.stdout.isatty() else 110)
  console.print(ratings_lib.ratings_table(
      ratings, title=f"{spec.game}: {len(records)} games"))
  console.print(ratings_lib.head_to_head_table(
      ratings, title="head to head: the row player's W-D-L"))
  if not args.report:
    ratings_lib.write_plot(ratings, spec.plot, title=spec.game)
    print(f"plot {spec.plot}", flush=True)
  return 0
