"""Helpers shared by the benchmarks: the device description, JSON output."""

from __future__ import annotations

import json

from selfplay import logging as log_lib


def device_name() -> str:
  """The device kind, and for CPUs the model and usable core count."""
  return log_lib.device_description()


def emit_json(shown, saved=None, path: str | None = None) -> None:
  """Prints `shown` as JSON; writes `saved` (default `shown`) to `path`."""
  print(json.dumps(shown, indent=1))
  if path:
    with open(path, "w") as f:
      json.dump(shown if saved is None else saved, f, indent=1)
