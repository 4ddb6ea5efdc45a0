"""argparse types shared by the `arena` subcommands: a bad value becomes a
one-line usage error naming it (exit code 2)."""

from __future__ import annotations

import argparse


def int_at_least(low: int):
  """An argparse type: an integer >= `low`."""
  def parse(text: str) -> int:
    try:
      value = int(text)
    except ValueError:
      raise argparse.ArgumentTypeError(
          f"expected an integer, got {text!r}") from None
    if value < low:
      raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
    return value
  return parse


def number(text: str) -> float:
  """An argparse type: any number."""
  try:
    return float(text)
  except ValueError:
    raise argparse.ArgumentTypeError(
        f"expected a number, got {text!r}") from None
