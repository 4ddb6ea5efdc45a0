"""Ctrl-C and SIGTERM stop a run within seconds, in every phase."""

import os
import signal
import subprocess
import sys
import threading
import pathlib
import time

import pytest

from selfplay import signals

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_a_long_call_is_given_up_once_a_stop_is_requested():
  stop = threading.Event()
  threading.Timer(0.2, stop.set).start()
  start = time.monotonic()
  finished, out = signals.call_until_stopped(lambda: time.sleep(30) or 1,
                                             stop.is_set)
  assert (finished, out) == (False, None)
  assert time.monotonic() - start < 2.0


def test_a_call_that_ends_first_returns_or_raises_as_itself():
  never = lambda: False
  assert signals.call_until_stopped(lambda: 42, never) == (True, 42)
  with pytest.raises(ZeroDivisionError):
    signals.call_until_stopped(lambda: 1 / 0, never)
  stopped = threading.Event()
  stopped.set()
  calls = []
  assert signals.call_until_stopped(lambda: calls.append(1),
                                    stopped.is_set) == (False, None)
  assert not calls  # never started


def test_sigterm_during_the_warm_start_stops_the_run_within_seconds(tmp_path):
  """The warm start's steps are dispatched asynchronously; a stop request
  once had to wait for every step queued before the next progress line
  (here: never). Now the run stops in seconds and saves nothing."""
  run_dir = tmp_path / "run"
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  env.pop("XLA_FLAGS", None)
  proc = subprocess.Popen(
      [sys.executable, "-m", "arena", "train", "stratego_smoke", "--out",
       str(run_dir), "--no-progress", "--set", "warm_start.steps=1000000",
       "--set", "warm_start.log_every=1000000"],
      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
  deadline = time.monotonic() + 180
  while not (run_dir / "config.json").exists():
    assert proc.poll() is None and time.monotonic() < deadline, (
        proc.communicate()[1].decode()[-2000:])
    time.sleep(0.1)
  time.sleep(5.0)  # inside the warm start: compiling or stepping
  sent = time.monotonic()
  proc.send_signal(signal.SIGTERM)
  out, err = proc.communicate(timeout=60)
  assert time.monotonic() - sent < 15.0
  assert proc.returncode == 0, err.decode()[-2000:]
  assert "stopped at step 0 (signal)" in out.decode()
  assert not (run_dir / "checkpoints").exists() or not any(
      p.name.isdigit() for p in (run_dir / "checkpoints").iterdir())
