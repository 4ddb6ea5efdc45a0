"""Metric logging for training runs: JSONL, TensorBoard, and a progress bar."""

from __future__ import annotations

import json
import math
import os
import pathlib
import time
from typing import Any, Mapping

import numpy as np

METRICS_FILE = "metrics.jsonl"


def _to_python(value: Any) -> Any:
  value = np.asarray(value)
  value = value.item() if value.ndim == 0 else value.tolist()
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  return value


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
      from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
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
  path = pathlib.Path(run_dir) / METRICS_FILE
  if not path.exists():
    return []
  records = []
  for line in path.read_text(encoding="utf-8").splitlines():
    try:
      records.append(json.loads(line))
    except json.JSONDecodeError:
      continue
  return records


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

  def close(self) -> None:
    if self._mode == "bar":
      self._bar.stop()
