"""Metric logging for training runs: JSONL, TensorBoard, and a progress bar;
the machine each invocation of a run trained on."""

from __future__ import annotations

import json
import logging
import math
import os
import pathlib
import platform
import time
from typing import Any, Mapping

import jax
import numpy as np

METRICS_FILE = "metrics.jsonl"
SESSIONS_FILE = "sessions.jsonl"


def device_description() -> str:
  """The JAX device kind, and for CPUs the model and usable core count.

  A process restricted to some cores (`taskset`) says how many it may use.
  """
  d = jax.devices()[0]
  name = getattr(d, "device_kind", d.platform)
  if d.platform == "cpu":
    try:
      with open("/proc/cpuinfo", encoding="utf-8") as f:
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


def _append_line(path: pathlib.Path, record: Mapping[str, Any]) -> None:
  with open(path, "a", encoding="utf-8") as f:
    f.write(json.dumps(record, sort_keys=True) + "\n")
    f.flush()
    os.fsync(f.fileno())


def _read_lines(path: pathlib.Path) -> list[dict[str, Any]]:
  """The JSON records of a JSONL file (a torn or foreign line is skipped)."""
  if not path.exists():
    return []
  records = []
  for line in path.read_text(encoding="utf-8").splitlines():
    try:
      record = json.loads(line)
    except json.JSONDecodeError:
      continue
    if isinstance(record, dict):
      records.append(record)
  return records


def record_session(run_dir: str | os.PathLike[str], step: int) -> None:
  """Appends to RUN_DIR/sessions.jsonl that training (re)starts at `step`
  on this machine, so a report made elsewhere names the right hardware."""
  _append_line(pathlib.Path(run_dir) / SESSIONS_FILE, {
      "step": int(step), "time": time.time(), "host": platform.node(),
      "device": device_description()})


def read_sessions(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
  """The run's `record_session` records, oldest first."""
  return _read_lines(pathlib.Path(run_dir) / SESSIONS_FILE)


def _to_python(value: Any) -> Any:
  value = np.asarray(value)
  value = value.item() if value.ndim == 0 else value.tolist()
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  return value


class MetricsMean:
  """The mean of each learner metric over the updates since the last record.

  A record every `log_every` learner steps then reports those steps, not
  only the last one's batch (one batch of 8 games is too few to read a
  result against a bot from). Sums stay on the device until `pop`, so adding
  costs no transfer; `pop` returns the means (None when nothing was added)
  and starts over. An update of several compiled steps (`steps_per_call`)
  already reports their mean, so it counts by its steps.
  """

  def __init__(self):
    self._sum = None
    self._count = 0

  def add(self, metrics: Mapping[str, Any], steps: int = 1) -> None:
    scaled = jax.tree.map(lambda m: m * steps, dict(metrics))
    self._sum = scaled if self._sum is None else jax.tree.map(
        lambda a, b: a + b, self._sum, scaled)
    self._count += steps

  def pop(self) -> dict[str, Any] | None:
    if self._sum is None:
      return None
    sums = jax.device_get(self._sum)
    mean = {k: np.asarray(v, np.float64) / self._count for k, v in
            sums.items()}
    self._sum, self._count = None, 0
    return mean


class MetricsLogger:
  """Appends one JSON object per record to RUN_DIR/metrics.jsonl and mirrors
  scalars to TensorBoard event files in RUN_DIR/tb/.

  Each line is flushed and fsynced, so a killed run keeps every record it
  wrote; a resumed run appends to the same file.
  """

  def __init__(self, run_dir: str | os.PathLike[str], tensorboard: bool = True):
    self._run_dir = pathlib.Path(run_dir)
    self._run_dir.mkdir(parents=True, exist_ok=True)
    self._file = open(self._run_dir / METRICS_FILE, "a", encoding="utf-8")
    self._tb = None
    if tensorboard:
      try:
        from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
      except ImportError:
        # A dependency of arena, so only a broken install lacks it; the run
        # goes on, its metrics in metrics.jsonl alone.
        logging.getLogger(__name__).warning(
            "tensorboardX is not installed (pip install -e . installs it); "
            "metrics go to %s only, not to TensorBoard",
            self._run_dir / METRICS_FILE)
      else:
        self._tb = SummaryWriter(str(self._run_dir / "tb"))

  def write(self, step: int, metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Logs `metrics` at learner step `step`; returns the record written."""
    record = {"step": int(step), "time": time.time()}
    record.update({k: _to_python(v) for k, v in metrics.items()})
    self._file.write(json.dumps(record, sort_keys=True) + "\n")
    self._file.flush()
    os.fsync(self._file.fileno())
    if self._tb is not None:
      for k, v in record.items():
        if k not in ("step", "time") and isinstance(v, (int, float)):
          self._tb.add_scalar(k, v, global_step=int(step))
      self._tb.flush()
    return record

  def close(self) -> None:
    self._file.close()
    if self._tb is not None:
      self._tb.close()


def read_metrics(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
  """Every record of a run's metrics.jsonl (a torn last line is skipped)."""
  return _read_lines(pathlib.Path(run_dir) / METRICS_FILE)


def format_evaluation(step: int, metrics: Mapping[str, Any]) -> str | None:
  """One console line for an evaluation's results, or None when `metrics`
  hold none: win/draw/loss against each bot (`vs_<bot>[_greedy]/...`),
  NashConv, evaluation returns, and a supervised agent's test accuracy and
  losses (`test/...`).

  >>> format_evaluation(400, {"vs_random/win": 0.9, "vs_random/draw": 0.05,
  ...                         "vs_random/loss": 0.05, "loss": 1.0})
  'eval at step 400: vs random W-D-L 90%-5%-5%'
  """
  parts = []
  for key in sorted(metrics):
    if key.startswith("vs_") and key.endswith("/win"):
      name = key[len("vs_"):-len("/win")]
      try:
        wdl = [float(np.asarray(metrics[f"vs_{name}/{k}"]))
               for k in ("win", "draw", "loss")]
      except KeyError:
        continue
      label = (f"{name[:-len('_greedy')]} (greedy)"
               if name.endswith("_greedy") else name)
      parts.append(f"vs {label} W-D-L " +
                   "-".join(f"{100 * x:.0f}%" for x in wdl))
  for key, label in (("nash_conv", "NashConv"), ("nash_conv_raw",
                                                 "NashConv raw"),
                     ("eval_return", "return")):
    if key in metrics:
      parts.append(f"{label} {float(np.asarray(metrics[key])):.4g}")
  if "test/accuracy" in metrics:  # Supervised agents (`selfplay.offline`).
    parts.append(f"test accuracy {100 * float(metrics['test/accuracy']):.1f}%")
  for key in ("test/policy_loss", "test/value_loss"):
    if key in metrics:
      parts.append(f"{key[len('test/'):].replace('_', ' ')} "
                   f"{float(np.asarray(metrics[key])):.4g}")
  return f"eval at step {step}: " + ", ".join(parts) if parts else None


class Progress:
  """Training progress: learner steps/s and the latest metrics.

  Modes: "bar" (a rich progress bar, for terminals), "lines" (one plain line
  per new log record, for batch jobs and log files) and "off".
  """

  def __init__(self, total: int, start: int = 0, mode: str = "bar",
               shown: tuple[str, ...] = ("loss", "nash_conv")):
    if mode not in ("bar", "lines", "off"):
      raise ValueError(f"progress mode must be bar, lines or off, got {mode!r}")
    self._mode = mode
    self._shown = shown
    self._total = total
    self._last_printed: Any = None
    if mode != "bar":
      return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,  # pylint: disable=g-import-not-at-top
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)
    self._bar = RichProgress(
        TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8} steps/s"), TimeElapsedColumn(),
        TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
        transient=False)
    self._task = self._bar.add_task("train", total=total, completed=start,
                                    rate="-", info="")
    self._bar.start()

  def update(self, step: int, rate: float, metrics: Mapping[str, Any]) -> None:
    info = "  ".join(f"{k}={float(np.asarray(metrics[k])):.4g}"
                     for k in self._shown if k in metrics)
    if self._mode == "off":
      return
    if self._mode == "lines":
      if metrics and metrics.get("step") != self._last_printed:
        self._last_printed = metrics.get("step")
        print(f"step {step}/{self._total}  {rate:.1f} steps/s  {info}",
              flush=True)
      return
    self._bar.update(self._task, completed=step, rate=f"{rate:.1f}", info=info)

  def report_evaluation(self, step: int, metrics: Mapping[str, Any]) -> None:
    """Prints an evaluation's results as they land (`format_evaluation`):
    above the bar in "bar" mode, as a line in "lines" mode."""
    line = format_evaluation(step, metrics)
    if line is None or self._mode == "off":
      return
    if self._mode == "bar":
      self._bar.console.print(line, highlight=False)
    else:
      print(line, flush=True)

  def close(self) -> None:
    if self._mode == "bar":
      self._bar.stop()
