"""A client for Go engines that speak GTP version 2 (the Go Text Protocol).

GTP (https://www.lysator.liu.se/~gunnar/gtp/gtp2-spec-draft2/gtp2-spec.html):
the controller writes one command per line; the engine answers `=` (success)
or `?` (failure), then the answer text, which may span lines, and ends the
reply with an empty line. Each command is sent with a numeric id, which the
engine echoes (`=7 D4`), so that a reply is never matched to the wrong
command.

`GTPEngine(argv)` runs any engine command line as a child process;
`gnugo_argv(level)` is the command line for GNU Go.
"""

from __future__ import annotations

import collections
import os
import pathlib
import selectors
import shutil
import subprocess
import tempfile
import time
from typing import Sequence

GNUGO_FALLBACK_PATH = "/usr/games/gnugo"  # Debian's gnugo package puts it here.
_STDERR_TAIL_CHARS = 2000
_QUIT_WAIT_S = 5.0


class GTPError(RuntimeError):
  """The engine answered a command with `?` (a failure it reports).

  Attributes:
    command: the command as sent (without its id).
    message: the engine's answer text, e.g. "illegal move".
  """

  def __init__(self, command: str, message: str):
    super().__init__(f"GTP command {command!r} failed: {message}")
    self.command = command
    self.message = message


class GTPEngineError(RuntimeError):
  """The engine cannot be used: it did not start, died, broke the protocol
  or did not answer in time. The engine process is ended."""


class GTPTimeoutError(GTPEngineError, TimeoutError):
  """The engine did not answer a command within `timeout_s`."""


class GnuGoNotFoundError(FileNotFoundError):
  """GNU Go is not installed."""


def gnugo_argv(level: int, extra: Sequence[str] = ()) -> list[str]:
  """The command line of GNU Go as a GTP engine at `level`.

  Args:
    level: GNU Go's strength, 0 (weakest, fastest) to 10 (its default).
    extra: further GNU Go options, e.g. ("--capture-all-dead",).

  Raises:
    GnuGoNotFoundError: neither `gnugo` on PATH nor /usr/games/gnugo exists.
    ValueError: `level` is not an integer from 0 to 10.
  """
  if isinstance(level, bool) or not isinstance(level, int) or not (
      0 <= level <= 10):
    raise ValueError(f"GNU Go level must be an integer from 0 to 10, got "
                     f"{level!r}")
  binary = shutil.which("gnugo")
  if binary is None and os.access(GNUGO_FALLBACK_PATH, os.X_OK):
    binary = GNUGO_FALLBACK_PATH
  if binary is None:
    raise GnuGoNotFoundError(
        "GNU Go not found (no `gnugo` on PATH, no "
        f"{GNUGO_FALLBACK_PATH}); install it with `apt-get install gnugo`")
  return [binary, "--mode", "gtp", "--level", str(level), *extra]


class GTPEngine:
  """A GTP engine run as a child process; a context manager.

  >>> with GTPEngine(gnugo_argv(1), timeout_s=30) as engine:
  ...   engine.send("boardsize 9")
  ...   move = engine.send("genmove b")   # "E5"

  After a `GTPEngineError` (death, timeout, protocol error) the engine is
  closed and every later `send` raises `GTPEngineError`; a `GTPError` (a `?`
  answer) leaves it usable.
  """

  def __init__(self, argv: Sequence[str], *, timeout_s: float | None = 60.0,
               cwd: str | os.PathLike | None = None):
    """Starts the engine.

    Args:
      argv: the engine's command line, e.g. `gnugo_argv(5)`.
      timeout_s: the longest wait for one reply, in seconds (None: forever).
      cwd: the engine's working directory (default: ours).

    Raises:
      ValueError: `argv` is empty or `timeout_s` is not > 0.
      GTPEngineError: the engine cannot be started.
    """
    if not argv:
      raise ValueError("the engine command line argv is empty")
    if timeout_s is not None and timeout_s <= 0:
      raise ValueError(f"timeout_s must be > 0 or None, got {timeout_s}")
    self.argv = [str(a) for a in argv]
    self.timeout_s = timeout_s
    self._name = pathlib.Path(self.argv[0]).name
    self._next_id = 1
    self._buffer = b""
    self._closed = False
    # The engine's stderr goes to a file, not a pipe: nothing needs to drain
    # it while we wait on stdout, and its tail explains a death.
    self._stderr = tempfile.TemporaryFile()
    try:
      self._proc = subprocess.Popen(
          self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
          stderr=self._stderr, cwd=cwd, bufsize=0)
    except OSError as e:
      self._stderr.close()
      self._closed = True
      raise GTPEngineError(
          f"cannot start GTP engine {self.argv[0]!r}: {e}") from e
    self._selector = selectors.DefaultSelector()
    self._selector.register(self._proc.stdout, selectors.EVENT_READ)

  @property
  def pid(self) -> int:
    return self._proc.pid

  @property
  def alive(self) -> bool:
    return not self._closed and self._proc.poll() is None

  def __enter__(self) -> GTPEngine:
    return self

  def __exit__(self, *exc) -> None:
    self.close()

  def send(self, command: str) -> str:
    """Sends one command; returns the answer text of its `=` reply.

    The answer has the reply's `=`, id and one space removed, and no leading
    or trailing empty lines: "D4" for `genmove`, several lines for
    `showboard`, "" for a command with no answer.

    Raises:
      ValueError: `command` is empty or holds a newline.
      GTPError: the engine answered `?`; the engine stays usable.
      GTPEngineError: the engine is closed, died, broke the protocol or (as
        `GTPTimeoutError`) did not answer within `timeout_s`; it is closed.
    """
    command = command.strip()
    if not command or "\n" in command or "\r" in command:
      raise ValueError(f"a GTP command is one non-empty line, got {command!r}")
    if self._closed:
      raise GTPEngineError(
          f"GTP engine {self._name} is closed; cannot send {command!r}")
    cid = self._next_id
    self._next_id += 1
    try:
      self._proc.stdin.write(f"{cid} {command}\n".encode())
      self._proc.stdin.flush()
    except (BrokenPipeError, ConnectionResetError, ValueError):
      self._died(command)
    reply = self._read_reply(command)
    status, rest = reply[0], reply[1:]
    if status not in "=?":
      self._fail(f"GTP engine {self._name} broke the protocol: reply to "
                 f"{command!r} starts with {reply[:40]!r}, not '=' or '?'")
    digits = len(rest) - len(rest.lstrip("0123456789"))
    if rest[:digits] != str(cid):
      self._fail(f"GTP engine {self._name} answered {command!r} with id "
                 f"{rest[:digits] or 'none'!r}, expected {cid}")
    text = rest[digits:]
    text = text[1:] if text.startswith(" ") else text
    text = text.strip("\n").rstrip()
    if status == "?":
      raise GTPError(command, text)
    return text

  def close(self) -> None:
    """Sends `quit` and waits for the engine to exit, killing it after a few
    seconds; idempotent."""
    if self._closed:
      return
    self._closed = True
    if self._proc.poll() is None:
      try:
        self._proc.stdin.write(f"{self._next_id} quit\n".encode())
        self._proc.stdin.flush()
      except (BrokenPipeError, ConnectionResetError, ValueError):
        pass
    self._end_process(wait_s=_QUIT_WAIT_S)

  def _end_process(self, wait_s: float) -> None:
    self._closed = True
    try:
      self._proc.stdin.close()
    except OSError:
      pass
    try:
      self._proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
      self._proc.kill()
      self._proc.wait()
    self._selector.close()
    self._proc.stdout.close()
    self._stderr.close()

  def _read_reply(self, command: str) -> str:
    """Reads up to the empty line that ends a reply; returns it without that
    line, with CRs removed (GTP allows CRLF line ends)."""
    deadline = (None if self.timeout_s is None
                else time.monotonic() + self.timeout_s)
    while True:
      self._buffer = self._buffer.replace(b"\r", b"")
      # Empty lines before a reply are not part of it (GTP 2.1 allows them).
      self._buffer = self._buffer.lstrip(b"\n")
      end = self._buffer.find(b"\n\n")
      if end >= 0:
        reply, self._buffer = self._buffer[:end], self._buffer[end + 2:]
        return reply.decode("utf-8", errors="replace")
      wait = None if deadline is None else deadline - time.monotonic()
      if wait is not None and wait <= 0:
        self._kill()
        self._end_process(wait_s=_QUIT_WAIT_S)
        raise GTPTimeoutError(
            f"GTP engine {self._name} did not answer {command!r} within "
            f"{self.timeout_s:g} s; the engine was stopped")
      if not self._selector.select(wait):
        continue
      chunk = os.read(self._proc.stdout.fileno(), 65536)
      if not chunk:
        self._died(command)
      self._buffer += chunk

  def _kill(self) -> None:
    if self._proc.poll() is None:
      self._proc.kill()

  def _died(self, command: str):
    try:
      code = self._proc.wait(timeout=_QUIT_WAIT_S)
    except subprocess.TimeoutExpired:
      self._proc.kill()
      code = self._proc.wait()
    tail = self._stderr_tail()
    self._end_process(wait_s=0.0)
    raise GTPEngineError(
        f"GTP engine {self._name} exited (code {code}) during {command!r}"
        + (f"; its stderr ends: {tail}" if tail else "; no stderr output"))

  def _fail(self, message: str):
    self._kill()
    self._end_process(wait_s=_QUIT_WAIT_S)
    raise GTPEngineError(message)

  def _stderr_tail(self) -> str:
    try:
      self._stderr.seek(0, os.SEEK_END)
      size = self._stderr.tell()
      self._stderr.seek(max(0, size - _STDERR_TAIL_CHARS))
      text = self._stderr.read().decode("utf-8", errors="replace")
    except (OSError, ValueError):
      return ""
    lines = collections.deque(
        (ln.rstrip() for ln in text.splitlines() if ln.strip()), maxlen=10)
    return " | ".join(lines)
