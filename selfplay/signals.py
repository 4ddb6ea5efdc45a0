"""Stopping a run on Ctrl-C or SIGTERM within seconds, in every phase.

The drivers poll a stop event between learner steps. A single call can take
much longer than a step: the first call of a compiled update (XLA compiles it
first, tens of seconds for a convolutional network on a CPU) or an evaluation
(its own compile plus hundreds of games). Python runs signal handlers only
between bytecodes of the main thread, so while the main thread waits inside
such a call a stop request would wait for it. `call_until_stopped` runs the
call in a worker thread instead and keeps the main thread waiting on the stop
event, so the driver can give up on the call, save what it has and exit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Callable, Iterator


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
  """Sets the yielded event on SIGINT/SIGTERM (main thread only)."""
  stop = threading.Event()
  if threading.current_thread() is not threading.main_thread():
    yield stop
    return
  previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
  for s in previous:
    signal.signal(s, lambda *_: stop.set())
  try:
    yield stop
  finally:
    for s, handler in previous.items():
      signal.signal(s, handler)


def call_until_stopped(fn: Callable[[], Any], should_stop: Callable[[], bool],
                       *, poll_s: float = 0.05) -> tuple[bool, Any]:
  """Runs `fn()` in a daemon thread until it returns or `should_stop()`
  (polled every `poll_s` seconds, e.g. a stop event's `is_set`) is true.

  Returns:
    `(True, fn())` when the call finished first; `(False, None)` when a stop
    was requested first (the call goes on in its thread and its result is
    dropped, so the caller must not use anything the call consumes, e.g.
    arrays it donates).

  Raises:
    Whatever `fn` raised.
  """
  if should_stop():
    return False, None
  box: dict[str, Any] = {}
  done = threading.Event()

  def run() -> None:
    try:
      box["result"] = fn()
    except BaseException as e:  # pylint: disable=broad-except
      box["error"] = e
    finally:
      done.set()

  threading.Thread(target=run, daemon=True, name="arena-call").start()
  while not done.wait(poll_s):
    if should_stop():
      return False, None
  if "error" in box:
    raise box["error"]
  return True, box["result"]


def calls_still_running() -> int:
  """How many calls given up by `call_until_stopped` are still running.

  A process that gave up on a call should end with `os._exit` once its
  output is flushed: the interpreter's normal exit would wait for, or abort
  inside, the native code the call runs (XLA).
  """
  return sum(t.name == "arena-call" and t.is_alive()
             for t in threading.enumerate())
