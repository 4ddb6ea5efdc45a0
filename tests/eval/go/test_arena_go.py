"""`arena go games`: help, a run and its rerun, and bad input as one line
with exit code 2.

The `go` subcommand is added to the `arena` parser here if cli.py does not
list it yet.
"""

import os
import shutil

import pytest

from arena import cli
from arena import go
from eval.go import expert_games, gtp_client

HAVE_GNUGO = bool(shutil.which("gnugo")) or os.access(
    gtp_client.GNUGO_FALLBACK_PATH, os.X_OK)
needs_gnugo = pytest.mark.skipif(
    not HAVE_GNUGO, reason="GNU Go is not installed (apt-get install gnugo)")


@pytest.fixture(autouse=True)
def with_go(monkeypatch):
  if go not in cli._SUBCOMMAND_MODULES:  # pylint: disable=protected-access
    monkeypatch.setattr(cli, "_SUBCOMMAND_MODULES",
                        (*cli._SUBCOMMAND_MODULES, go))  # pylint: disable=protected-access


def _run(capsys, *argv):
  code = cli.main(list(argv))
  out = capsys.readouterr()
  return code, out.out, out.err


def test_help(capsys):
  for argv in (["go", "--help"], ["go", "games", "--help"]):
    with pytest.raises(SystemExit) as e:
      cli.main(argv)
    assert e.value.code == 0
  assert "--opening LOW-HIGH" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["go"], "the following arguments are required: WHAT"),
    (["go", "games", "--games", "2", "--level", "1"],
     "the following arguments are required: --out"),
    (["go", "games", "--out", "d", "--games", "0", "--level", "1"],
     "--games: must be >= 1, got 0"),
    (["go", "games", "--out", "d", "--games", "2", "--level", "11"],
     "GNU Go levels go from 0 to 10, got 11"),
    (["go", "games", "--out", "d", "--games", "2", "--level", "1",
      "--opening", "5-2"], "expected 0 <= LOW <= HIGH, got '5-2'"),
    (["go", "games", "--out", "d", "--games", "2", "--level", "1",
      "--opening", "two"], "expected LOW-HIGH (e.g. 2-6) or N, got 'two'"),
])
def test_bad_arguments_exit_2(capsys, argv, message):
  with pytest.raises(SystemExit) as e:
    cli.main(argv)
  assert e.value.code == 2
  err = capsys.readouterr().err
  assert message in err and "Traceback" not in err


@needs_gnugo
def test_games_then_rerun_then_other_arguments(tmp_path, capsys):
  argv = ["go", "games", "--out", str(tmp_path), "--games", "1", "--level",
          "1", "--board-size", "7", "--opening", "2", "--no-progress"]
  code, out, _ = _run(capsys, *argv)
  assert code == 0 and out.startswith("played 1 game (")
  assert "wrote 1 shards" in out
  code, out, _ = _run(capsys, *argv)
  assert code == 0 and "nothing to do: all 1 shards" in out
  code, _, err = _run(capsys, *argv, "--seed", "1")
  assert code == 2
  assert len(err.strip().splitlines()) == 1
  assert err.startswith("arena go: error: ") and "seed 0 there, 1 now" in err


@needs_gnugo
def test_bad_values_and_missing_gnugo_are_one_line_exit_2(
    tmp_path, capsys, monkeypatch):
  argv = ["go", "games", "--out", str(tmp_path / "d"), "--games", "1",
          "--level", "1", "--no-progress"]
  code, _, err = _run(capsys, *argv, "--board-size", "5")
  assert code == 2 and len(err.strip().splitlines()) == 1
  assert "5x5 board has 1 point off the first two lines" in err
  monkeypatch.setattr(gtp_client.shutil, "which", lambda name: None)
  monkeypatch.setattr(gtp_client, "GNUGO_FALLBACK_PATH", "/nonexistent/gnugo")
  code, _, err = _run(capsys, *argv)
  assert code == 2 and len(err.strip().splitlines()) == 1
  assert "apt-get install gnugo" in err
  assert not (tmp_path / "d").exists()


@needs_gnugo
def test_gnu_go_failing_during_a_run_is_exit_1_with_its_message(
    tmp_path, capsys, monkeypatch):
  def dying_engine(argv):
    del argv
    return gtp_client.GTPEngine(
        ["/bin/sh", "-c", "read line; echo 'gnugo: segfault' >&2; exit 3"])
  monkeypatch.setattr(expert_games, "_engine", dying_engine)
  code, _, err = _run(capsys, "go", "games", "--out", str(tmp_path),
                      "--games", "2", "--level", "1", "--no-progress")
  assert code == 1 and len(err.strip().splitlines()) == 1
  assert "exited (code 3) during 'boardsize 9'" in err
  assert "gnugo: segfault" in err
  assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]
