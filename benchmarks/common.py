"""Helpers shared by the benchmarks: the device description, JSON output."""

from __future__ import annotations

import json
import os
import platform

import jax


def device_name() -> str:
  """The device kind, and for CPUs the model and core count.

  A process restricted to some cores (`taskset`) says how many it may use.
  """
  d = jax.devices()[0]
  name = getattr(d, "device_kind", d.platform)
  if d.platform == "cpu":
    try:
      with open("/proc/cpuinfo") as f:
        model = next(l.split(":", 1)[1].strip() for l in f
                     if l.startswith("model name"))
    except (OSError, StopIteration):
      model = platform.processor() or "cpu"
    total = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(
        os, "sched_getaffinity") else total
    name = (f"{model}, {total} cores" if usable == total else
            f"{model}, {usable} of {total} cores")
  return f"{d.platform}: {name} ({jax.device_count()} JAX device(s))"


def emit_json(shown, saved=None, path: str | None = None) -> None:
  """Prints `shown` as JSON; writes `saved` (default `shown`) to `path`."""
  print(json.dumps(shown, indent=1))
  if path:
    with open(path, "w") as f:
      json.dump(shown if saved is None else saved, f, indent=1)
