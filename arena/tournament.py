"""`arena tournament`: parse and call one library function (see cli.py)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
  """Adds the `tournament` subcommand to the `arena` subparsers `sub`."""
  del sub  # Not yet available.


def run(args: argparse.Namespace) -> int:
  raise NotImplementedError
