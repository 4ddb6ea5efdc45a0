"""A progress bar on stderr for the long jobs of the suite.

Index builds, neighbour tables and game replays show one; stdout stays free
for what a command answers (a GTP engine's stdout is its protocol channel).
"""

from __future__ import annotations

from typing import Any


def bar(enabled: bool) -> Any:
  """A `rich.progress.Progress` on stderr, inert when not `enabled`.

  Use it as a context manager and add one task per stage:

    with progress.bar(enabled) as p:
      task = p.add_task("write entries", total=n)
      p.update(task, advance=k)
  """
  from rich import console, progress  # pylint: disable=g-import-not-at-top
  return progress.Progress(
      progress.TextColumn("[bold]{task.description}"), progress.BarColumn(),
      progress.MofNCompleteColumn(), progress.TimeElapsedColumn(),
      progress.TimeRemainingColumn(), console=console.Console(stderr=True),
      disable=not enabled)
