"""A human against an agent at Go (`eval.go.human`, `arena play go`):
games driven through stdin, what is shown, and the SGF record. The pure
view is tested in `tests/games/test_go_human_view.py`."""

from __future__ import annotations

import io
import os
import pathlib
import subprocess
import sys

import pyspiel
import pytest
from sgfmill import sgf

from arena import cli
from eval import players
from eval.go import gtp_client
from eval.go import human
from tests.eval.go import fake_engine

REPO = pathlib.Path(__file__).resolve().parents[3]
PASS = 81


class _Scripted(pyspiel.Bot):
  """Plays the given actions in turn, then passes; or forfeits."""

  def __init__(self, actions=(), forfeit: str = ""):
    pyspiel.Bot.__init__(self)
    self._actions = list(actions)
    self._forfeit = forfeit

  def restart_at(self, state):
    pass

  def inform_action(self, state, player_id, action):
    pass

  def step(self, state):
    if self._forfeit:
      raise players.Forfeit(self._forfeit)
    return self._actions.pop(0) if self._actions else PASS


def _play(tmp_path, lines, *, bot=None, **kwargs):
  kwargs = {"agent": "random", "seed": 1, **kwargs}
  make_bot = players.make_player if bot is None else (
      lambda spec, game, seat, seed: bot)
  out = io.StringIO()
  outcome = human.play(human.PlayConfig(**kwargs), tmp_path / "game.sgf",
                       inp=io.StringIO("".join(f"{x}\n" for x in lines)),
                       out=out, echo=True, make_bot=make_bot)
  return outcome, out.getvalue()


def _record(path: pathlib.Path):
  game = sgf.Sgf_game.from_bytes(path.read_bytes())
  root = game.get_root()
  moves = [node.get_move() for node in game.get_main_sequence()[1:]]
  return root, moves


def test_pass_pass_at_once_ends_the_game_and_scores_it(tmp_path):
  outcome, out = _play(tmp_path, ["pass"], agent="passer", bot=_Scripted())
  assert "You pass.\nWhite (passer) passes.\nGame over: both players " \
         "passed." in out
  assert ("Final score (area): Black 0, White 0 + 7.5 komi = 7.5; White "
          "wins by 7.5") in out
  assert "You lose (W+7.5), after 2 moves." in out
  assert outcome.returns == (-1.0, 1.0) and outcome.result == "W+7.5"
  assert outcome.history == (PASS, PASS)
  root, moves = _record(tmp_path / "game.sgf")
  assert root.get("RE") == "W+7.5" and root.get("KM") == 7.5
  assert root.get("SZ") == 9 and root.get("RU") == "Tromp-Taylor"
  assert (root.get("PB"), root.get("PW")) == ("human", "passer")
  assert moves == [("b", None), ("w", None)]


def test_bad_input_gets_a_reason_and_a_new_prompt(tmp_path):
  outcome, out = _play(tmp_path, ["xyz", "J10", "", "E5", "E5", "quit"])
  assert "Traceback" not in out
  assert ("Black> xyz\nCan't read 'xyz': it is neither a command nor a "
          "point. Type a point like D4 (columns A-J without I, rows 1-9), "
          "pass, or help.\nBlack> ") in out
  assert "Black> J10\nCan't read 'J10': it is off the 9x9 board." in out
  assert "Black> \nLegal points (81): A1 A2" in out
  assert "You play E5.\nWhite (random) plays " in out
  assert ("Black> E5\nIllegal: E5 is occupied (a Black stone).\nBlack> quit"
          in out)
  assert out.count("Black> ") == 6
  assert "Game stopped, unfinished." in out
  assert outcome.returns is None and outcome.result == ""
  root, moves = _record(tmp_path / "game.sgf")
  assert not root.has_property("RE")
  assert "unfinished: the human quit" in root.get("GC")
  assert moves[0] == ("b", (4, 4)) and moves[1][0] == "w" and len(moves) == 2


def test_ko_capture_and_a_retake_refused(tmp_path):
  """The agent (Black) takes a ko; the human (White) may not retake it.

       A B C D              A B C D
     3 . X O .            3 . X O .
     2 X O . O    C2 ->   2 X . X O    then White B2 is a ko retake.
     1 . X O .            1 . X O .
  """
  black = _Scripted([19, 9, 1, PASS, 11])  # B3 A2 B1 pass C2
  outcome, out = _play(tmp_path, ["B2", "C3", "D2", "C1", "B2", "resign"],
                       agent="scripted", bot=black, human_colour=1)
  assert "Black (scripted) plays C2, capturing 1 stone." in out
  assert "Captured: Black has taken 1, White 0" in out
  assert ("White> B2\nIllegal: B2 retakes the ko at once; play elsewhere "
          "first (or pass), then it may be taken back.\nWhite> resign") in out
  assert "You lose (B+R)" in out and outcome.result == "B+R"
  assert outcome.returns == (1.0, -1.0)
  root, moves = _record(tmp_path / "game.sgf")
  assert root.get("RE") == "B+R" and "White (you) resigned" in root.get("GC")
  assert len(moves) == 9  # The refused B2 is not in the record.


def test_undo_takes_back_the_humans_move_and_the_answer(tmp_path):
  outcome, out = _play(tmp_path, ["undo", "E5", "undo", "D4", "quit"])
  assert "Nothing to undo: you have not moved yet." in out
  assert "Taken back: your last move and the agent's answer." in out
  assert len(outcome.history) == 2 and outcome.history[0] == 30  # D4
  _, moves = _record(tmp_path / "game.sgf")
  assert moves[0] == ("b", (3, 3)) and len(moves) == 2


def test_an_agent_that_forfeits_loses(tmp_path):
  outcome, out = _play(tmp_path, ["E5"], agent="engine",
                       bot=_Scripted(forfeit="engine resigned"))
  assert "Game over: White forfeits: engine resigned." in out
  assert "You win (B+F), after 1 move." in out
  assert outcome.returns == (1.0, -1.0)
  root, _ = _record(tmp_path / "game.sgf")
  assert root.get("RE") == "B+F"


def test_an_engine_that_refuses_the_humans_move_forfeits(tmp_path):
  spec, log = fake_engine.engine_spec(tmp_path, "refuse")
  outcome, out = _play(tmp_path, ["E5"], agent=spec)
  assert "You play E5." in out and "You win (B+F)" in out
  assert "refused move 1 (E5)" in out
  assert outcome.history == (40,)  # The move stands in the record.
  root, moves = _record(tmp_path / "game.sgf")
  assert root.get("RE") == "B+F" and moves == [("b", (4, 4))]
  assert log.read_text().splitlines()[-2:] == ["play b E5", "quit"]


def test_help_board_and_the_end_of_the_input(tmp_path):
  outcome, out = _play(tmp_path, ["help", "board"], board_size=5, komi=0.5)
  assert "Commands:" in out and "undo" in out and "Rules: Tromp-Taylor" in out
  assert out.count("   A B C D E") >= 6  # start, board, and the final board
  assert "Score so far (area): Black 0, White 0 + 0.5 komi = 0.5" in out
  assert outcome.returns is None  # End of input: unfinished, like quit.


@pytest.mark.parametrize("kwargs,message", [
    ({"board_size": 30}, "board size must be an integer from 2 to 25"),
    ({"komi": float("nan")}, "komi must be a finite number"),
    ({"human_colour": 2}, "human_colour must be 0 (Black) or 1 (White)"),
])
def test_bad_configs(kwargs, message):
  with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(
      ")", r"\)")):
    human.PlayConfig(agent="random", **kwargs)


def _gnugo_installed() -> bool:
  try:
    gtp_client.gnugo_argv(0)
  except gtp_client.GnuGoNotFoundError:
    return False
  return True


@pytest.mark.skipif(not _gnugo_installed(),
                    reason="GNU Go is not installed (apt-get install gnugo)")
def test_gnugo_plays_a_person_and_is_closed(tmp_path):
  made = []

  def make_bot(spec, game, seat, seed):
    made.append(players.make_player(spec, game, seat, seed))
    return made[-1]

  out = io.StringIO()
  outcome = human.play(
      human.PlayConfig(agent="gnugo:0", human_colour=1, seed=3),
      tmp_path / "g.sgf", inp=io.StringIO("pass\nresign\n"), out=out,
      make_bot=make_bot)
  text = out.getvalue()
  assert text.count("Black (gnugo:0) plays ") == 2
  assert outcome.result == "B+R" and len(outcome.history) == 3
  assert not made[0]._engine.alive  # pylint: disable=protected-access


def _arena(*args, stdin=""):
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  return subprocess.run([sys.executable, "-m", "arena", *args], input=stdin,
                        capture_output=True, text=True, cwd=REPO, env=env,
                        timeout=120, check=False)


def test_cli_plays_go_and_records_sgf(tmp_path):
  path = tmp_path / "cli.sgf"
  run = _arena("play", "go", "--agent", "random", "--human-first", "--seed",
               "4", "--board-size", "7", "--komi", "5.5", "--record",
               str(path), stdin="xyz\nD4\nresign\n")
  assert run.returncode == 0, run.stderr
  assert run.stderr == "", run.stderr
  out = run.stdout
  assert out.startswith("Go 7x7, komi 5.5, Tromp-Taylor rules")
  assert "Can't read 'xyz'" in out and "You play D4." in out
  assert "You lose (W+R)" in out
  root, moves = _record(path)
  assert root.get("SZ") == 7 and root.get("KM") == 5.5
  assert root.get("RE") == "W+R" and "seed: 4" in root.get("GC")
  assert moves[0] == ("b", (3, 3)) and len(moves) == 2


def test_cli_bad_arguments_are_one_line_errors(tmp_path, capsys):
  exists = tmp_path / "exists.sgf"
  exists.write_text("(;)")
  for argv, message in [
      (["go"], "--agent SPEC is needed: random, gnugo:L, gtp:COMMAND"),
      (["go", "--agent", "random", "--variant", "small"],
       "--variant is for stratego, not go"),
      (["go", "--agent", "random", "--max-plies", "9"],
       "--max-plies is for stratego, not go"),
      (["stratego", "--agent", "random", "--komi", "6.5"],
       "--komi is for go, not stratego"),
      (["go", "--agent", "random", "--board-size", "30"],
       "board size must be an integer from 2 to 25, got 30"),
      (["go", "--agent", "nowhere/run"],
       "gnugo:L, gtp:COMMAND, not a bundled agent"),
      (["go", "--agent", "gnugo:12"], "'gnugo:L' with a level L from 0"),
      (["go", "--agent", "gtp:/no/such/engine"],
       "cannot start GTP engine '/no/such/engine'"),
      (["go", "--agent", "random", "--record", str(exists)],
       "already exists"),
      ([], "name a game (go, stratego) or give --replay FILE"),
  ]:
    assert cli.main(["play", *argv]) == 2, argv
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
  with pytest.raises(SystemExit) as e:
    cli.main(["play", "go", "--agent", "random", "--komi", "lots"])
  assert e.value.code == 2
  assert "expected a number, got 'lots'" in capsys.readouterr().err
