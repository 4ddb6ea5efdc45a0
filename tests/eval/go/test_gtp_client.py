"""The GTP client: answers, `?` failures, multi-line replies, dead, silent
and broken engines, and GNU Go's command line."""

import os
import shutil
import signal
import time

import pytest

from eval.go import gtp_client
from eval.go.gtp_client import GTPEngine, GTPEngineError, GTPError, GTPTimeoutError

HAVE_GNUGO = bool(shutil.which("gnugo")) or os.access(
    gtp_client.GNUGO_FALLBACK_PATH, os.X_OK)
needs_gnugo = pytest.mark.skipif(
    not HAVE_GNUGO, reason="GNU Go is not installed (apt-get install gnugo)")


def _sh(script: str) -> list[str]:
  """A fake engine: a shell script reading our commands on stdin."""
  return ["/bin/sh", "-c", script]


@pytest.fixture
def gnugo():
  with GTPEngine(gtp_client.gnugo_argv(1), timeout_s=30) as engine:
    yield engine


@needs_gnugo
def test_a_normal_answer_is_the_text_after_the_equals_sign(gnugo):
  assert gnugo.send("protocol_version") == "2"
  assert gnugo.send("name") == "GNU Go"
  assert gnugo.send("boardsize 5") == ""
  assert gnugo.send("play b C3") == ""
  assert gnugo.send("genmove w") in {
      f"{c}{r}" for c in "ABCDE" for r in range(1, 6)} - {"C3"}


@needs_gnugo
def test_gnugo_knows_the_commands_the_generator_uses(gnugo):
  commands = set(gnugo.send("list_commands").split("\n"))
  assert {"set_random_seed", "final_score", "clear_cache", "genmove", "play",
          "komi", "boardsize", "clear_board", "version"} <= commands


@needs_gnugo
def test_a_question_mark_answer_raises_gtp_error_and_the_engine_goes_on(gnugo):
  with pytest.raises(GTPError, match="'play b Z9' failed: invalid color or "
                     "coordinate") as e:
    gnugo.send("play b Z9")
  assert (e.value.command, e.value.message) == (
      "play b Z9", "invalid color or coordinate")
  gnugo.send("boardsize 5")
  gnugo.send("play b C3")
  with pytest.raises(GTPError, match="illegal move"):
    gnugo.send("play w C3")  # occupied
  with pytest.raises(GTPError, match="unknown command"):
    gnugo.send("no_such_command")
  assert gnugo.send("version") == "3.8"


@needs_gnugo
def test_a_multi_line_answer_comes_whole(gnugo):
  gnugo.send("boardsize 5")
  gnugo.send("play b C3")
  board = gnugo.send("showboard").split("\n")
  #    A B C D E
  #  5 . . . . . 5
  #  4 . + . + . 4
  #  3 . . X . . 3   ...
  assert board[0].split() == ["A", "B", "C", "D", "E"]
  assert board[3].split()[:7] == ["3", ".", ".", "X", ".", ".", "3"]
  assert len(board) == 7
  assert gnugo.send("echo after") == "after"  # the next reply is not mixed in


def test_replies_with_crlf_and_blank_lines_before_them_are_read():
  engine = _sh(r"""while read id cmd; do
    printf '\r\n=%s  two\r\nlines\r\n\r\n' "$id"; done""")
  with GTPEngine(engine, timeout_s=5) as e:
    assert e.send("x") == " two\nlines"  # one space after the id is dropped
    assert e.send("y") == " two\nlines"


@needs_gnugo
def test_an_engine_killed_between_commands_is_a_clear_error(gnugo):
  os.kill(gnugo.pid, signal.SIGKILL)
  with pytest.raises(GTPEngineError, match=r"exited \(code -9\) during "
                     "'genmove b'"):
    gnugo.send("genmove b")
  assert not gnugo.alive
  with pytest.raises(GTPEngineError, match="is closed"):
    gnugo.send("name")


def test_an_engine_dying_mid_command_reports_its_stderr_tail():
  engine = _sh("read line; echo 'first line' >&2; echo 'fatal: out of "
               "cheese' >&2; exit 3")
  with GTPEngine(engine, timeout_s=5) as e:
    with pytest.raises(GTPEngineError, match=r"exited \(code 3\) during "
                       r"'name'; its stderr ends: first line \| fatal: out "
                       "of cheese"):
      e.send("name")


def test_an_engine_that_does_not_answer_times_out_and_is_stopped():
  with GTPEngine(_sh("sleep 30"), timeout_s=0.3) as e:
    start = time.monotonic()
    with pytest.raises(GTPTimeoutError, match=r"did not answer 'genmove b' "
                       r"within 0.3 s"):
      e.send("genmove b")
    assert time.monotonic() - start < 5
    assert not e.alive
  assert issubclass(GTPTimeoutError, GTPEngineError)


def test_a_reply_without_equals_or_the_wrong_id_breaks_the_protocol():
  with GTPEngine(_sh("read x; printf 'hello\\n\\n'; sleep 5"),
                 timeout_s=5) as e:
    with pytest.raises(GTPEngineError, match="broke the protocol"):
      e.send("name")
  with GTPEngine(_sh("read x; printf '=99 hi\\n\\n'; sleep 5"),
                 timeout_s=5) as e:
    with pytest.raises(GTPEngineError, match="with id '99', expected 1"):
      e.send("name")


def test_bad_commands_and_engines_are_refused():
  with pytest.raises(GTPEngineError, match="cannot start GTP engine "
                     "'/nonexistent/engine'"):
    GTPEngine(["/nonexistent/engine"])
  with pytest.raises(ValueError, match="argv is empty"):
    GTPEngine([])
  with GTPEngine(_sh("cat >/dev/null"), timeout_s=1) as e:
    with pytest.raises(ValueError, match="one non-empty line"):
      e.send("play b A1\ngenmove w")
    with pytest.raises(ValueError, match="one non-empty line"):
      e.send("  ")


@needs_gnugo
def test_the_context_manager_ends_the_engine():
  with GTPEngine(gtp_client.gnugo_argv(1)) as e:
    assert e.alive
  assert not e.alive
  assert e._proc.returncode == 0  # it quit when asked  # pylint: disable=protected-access
  e.close()  # idempotent


def test_gnugo_argv_says_how_to_install_gnu_go_when_missing(monkeypatch):
  monkeypatch.setattr(gtp_client.shutil, "which", lambda name: None)
  monkeypatch.setattr(gtp_client, "GNUGO_FALLBACK_PATH", "/nonexistent/gnugo")
  with pytest.raises(gtp_client.GnuGoNotFoundError,
                     match="apt-get install gnugo"):
    gtp_client.gnugo_argv(5)


@needs_gnugo
def test_gnugo_argv_is_a_gtp_command_line_at_the_level():
  argv = gtp_client.gnugo_argv(3, extra=("--capture-all-dead",))
  assert argv[1:] == ["--mode", "gtp", "--level", "3", "--capture-all-dead"]
  assert os.path.basename(argv[0]) == "gnugo"
  for bad in (-1, 11, 2.5, True):
    with pytest.raises(ValueError, match="level must be an integer from 0 "
                       "to 10"):
      gtp_client.gnugo_argv(bad)
