"""Human play (`eval.stratego.human`, `arena play`): input, boards, hidden
pieces, whole games, records and replays. The pure input parsing and board
view (`games.stratego.human_input`, `human_view`) are tested in
`tests/games/test_stratego_human_view.py`."""

import io
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from arena import cli
from eval.stratego import human
from eval.stratego import record as record_lib
from games.stratego import config

SMALL = config.get_variant("small")
# Red's half of a small-board setup: rank 1 then rank 2, files a..f.
#   2   B  2  S  2  4  3
#   1   F  B  3  B  9  M
SETUP = "FB3B9MB2S243"
REPO = pathlib.Path(__file__).resolve().parents[3]


def _play(tmp_path, lines, **kwargs):
  kwargs = {"agent": "random", "variant": "small", "seed": 1, **kwargs}
  out = io.StringIO()
  outcome = human.play(human.PlayConfig(**kwargs), tmp_path / "game.json",
                       inp=io.StringIO("".join(f"{x}\n" for x in lines)),
                       out=out, echo=True)
  return outcome, out.getvalue()


def _boards(text, variant=SMALL):
  """Every board printed in `text`: dicts square name -> 3-character cell."""
  lines, boards = text.splitlines(), []
  for i, line in enumerate(lines):
    if not re.fullmatch(r"    ( [a-z] )+ ?", line):
      continue
    files = [line[4 + 3 * k + 1] for k in range(variant.width)]
    rows = lines[i + 1:i + 1 + variant.height]
    if len(rows) < variant.height or not all(
        re.match(r"^ *\d+ ", r) for r in rows):
      continue
    board = {}
    for row in rows:
      rank = row[:3].strip()
      for k, f in enumerate(files):
        board[f + rank] = row[4 + 3 * k:7 + 3 * k]
    boards.append((board, [r[:3].strip() for r in rows], files))
  return boards


def _check_board(board, state, seat):
  """The printed board shows what `seat` may see of `state`, no more."""
  pos = state.position
  for sq in range(SMALL.num_squares):
    cell = board[config.square_name(SMALL, sq)]
    char = config.PIECE_CHARS[pos.rank[sq]]
    if pos.owner[sq] == seat:
      assert cell.strip(" *") == char
    elif pos.owner[sq] == 1 - seat:
      assert cell == (f"[{char}]" if pos.revealed[sq] else "[?]"), cell
    else:
      assert cell.strip() in (".", "~")


def _listed_moves(text):
  """(from, to) names from the last 'Legal moves' listing in `text`."""
  block = text[text.rindex("Legal moves"):].splitlines()[1:]
  out = set()
  for line in block:
    m = re.match(r"^  .+ at ([a-z]\d+): (.+)$", line)
    if not m:
      break
    out |= {(m.group(1), to) for to in m.group(2).split()}
  return out


def _legal_names(state):
  names = set()
  for a in state.legal_actions():
    src, dst = state.action_to_string(state.current_player(), a).split("-")
    names.add((src, dst))
  return names


class _ScriptedHuman:
  """Plays random legal moves, checking every board and move list shown.

  It follows the game through the record file, so it also checks that the
  record is rewritten after every action.
  """

  def __init__(self, out, path, seat, seed):
    self.out, self.path, self.seat = out, path, seat
    self.rng = np.random.default_rng(seed)
    self.seen, self.applied, self.state = 0, 0, None
    self.pending_moves = False
    self.boards_checked = self.lists_checked = 0

  def readline(self):
    text = self.out.getvalue()[self.seen:]
    self.seen += len(text)
    rec = record_lib.load(self.path)
    if self.state is None:
      self.state = record_lib.load_game(rec).new_initial_state()
    for move in rec.moves[self.applied:]:
      self.state.apply_action(move.action)
    self.applied = len(rec.moves)
    assert self.state.current_player() == self.seat
    for board, _, _ in _boards(text):
      _check_board(board, self.state, self.seat)
      self.boards_checked += 1
    if not self.pending_moves:
      self.pending_moves = True
      return "moves\n"
    self.pending_moves = False
    assert _listed_moves(text) == _legal_names(self.state)
    self.lists_checked += 1
    src, dst = sorted(_legal_names(self.state))[
        self.rng.integers(len(self.state.legal_actions()))]
    form = ("{}-{}", "{}{}", "{} {}")[self.rng.integers(3)]
    return form.format(src, dst).upper() + "\n"


@pytest.mark.parametrize("seat", [0, 1])
def test_whole_game_to_the_end_and_replay(tmp_path, seat):
  out, path = io.StringIO(), tmp_path / "game.json"
  player = _ScriptedHuman(out, path, seat, seed=seat)
  cfg = human.PlayConfig(agent="random", variant="small", human_seat=seat,
                         seed=seat)
  outcome = human.play(cfg, path, inp=player, out=out)
  assert outcome.state.is_terminal()
  assert player.lists_checked > 3 and player.boards_checked >= 3
  rec = record_lib.load(path)
  assert rec.result.returns == tuple(outcome.state.returns())
  assert rec.players[seat] == "human" and rec.players[1 - seat] == "random"
  assert str(record_lib.final_state(rec)) == str(outcome.state)
  text = out.getvalue()
  assert "The full board:" in text and "Record saved to" in text
  final = _boards(text)[-1][0]  # Revealed: every piece shows its rank.
  assert "[?]" not in "".join(final.values())
  replay_out = io.StringIO()
  human_replay_rec = _replay(path, replay_out)
  assert human_replay_rec == rec
  assert f"Result: {rec.result.reason}" in replay_out.getvalue()


def _replay(path, out):
  from eval.stratego import replay  # pylint: disable=g-import-not-at-top
  return replay.replay(path, inp=io.StringIO(), out=out, pause=False)


# Red (you, bottom) with SETUP; Blue's army unseen on ranks 5-6:
#   4   .  ~  .  .  ~  .
#   3   .  ~  .  .  ~  .
#   2   B  2  S  2  4  3
#   1   F  B  3  B  9  M
@pytest.mark.parametrize("move,why", [
    ("a1-a2", "your Flag on a1 cannot move"),
    ("b1-c1", "your Bomb on b1 cannot move"),
    ("c2-d3", "c2-d3 is not a straight line"),
    ("b2-b3", "b3 is a lake"),
    ("f1-f2", "f2 holds your own Miner (3)"),
    ("f2-f4", "your Miner (3) moves one square at a time"),
    ("d2-d6", "the way from d2 to d6 is blocked by a piece on d5"),
    ("d5-d4", "no piece of yours on d5 (that is an enemy piece)"),
    ("c4-c3", "no piece of yours on c4"),
])
def test_illegal_moves_get_a_reason_and_a_new_prompt(tmp_path, move, why):
  outcome, text = _play(tmp_path, [move, "resign"], human_seat=0,
                        setup=SETUP)
  assert f"Illegal: {why}" in text
  assert text.count("Red> ") == 2  # Asked again after the illegal move.
  assert outcome.record.result.reason == "Red resigned"
  assert outcome.record.result.returns == (-1.0, 1.0)


def test_malformed_input_help_and_moves(tmp_path):
  outcome, text = _play(tmp_path, ["xyz", "help", "moves", "moves d2", "",
                                   "board", "quit"], human_seat=0,
                        setup=SETUP)
  assert "can't read 'xyz': type a move like e4-e5, or help" in text
  assert "resign" in text and "Pieces: M Marshal (10)" in text  # help
  assert text.count("Red> ") == 7
  legal = _legal_names(outcome.state)
  listings = text.split("Legal moves")
  assert _listed_moves("Legal moves" + listings[1]) == legal
  assert _listed_moves("Legal moves" + listings[2]) == {
      m for m in legal if m[0] == "d2"} == {("d2", "d3"), ("d2", "d4"),
                                            ("d2", "d5")}
  assert _listed_moves("Legal moves" + listings[3]) == legal  # empty line
  assert outcome.record.result.returns is None  # quit: unfinished.
  assert len(_boards(text)) == 3  # turn, board, final


@pytest.mark.parametrize("seat", [0, 1])
def test_board_has_the_human_at_the_bottom(tmp_path, seat):
  outcome, text = _play(tmp_path, ["resign"], human_seat=seat)
  board, ranks, files = _boards(text)[0]
  if seat == 0:
    assert ranks == ["6", "5", "4", "3", "2", "1"] and files == list("abcdef")
  else:
    assert ranks == ["1", "2", "3", "4", "5", "6"] and files == list("fedcba")
  bottom = [c for name, c in board.items() if name[1:] in ranks[-2:]]
  assert all("[" not in c and c.strip() not in (".", "~") for c in bottom)
  _check_board(board, outcome.state, seat)
  assert sum(c == "[?]" for c in board.values()) == SMALL.num_pieces


def test_manual_deployment(tmp_path):
  outcome, text = _play(tmp_path, ["hello", "a1", "B6", "a6", "a6", "moves",
                                   "auto", "resign"], human_seat=1,
                        deploy="manual")
  assert "can't read 'hello': type a square like b2, auto, or help" in text
  assert "a1 is not a free square of your home ranks" in text
  assert "a6 is not a free square" in text  # Taken by the Flag.
  assert "type a square like b2, or auto" in text
  mine = [m.text for m in outcome.record.moves if m.player == 1]
  assert mine[:2] == ["F@b6", "B@a6"] and len(mine) == SMALL.num_pieces


def test_setups(tmp_path):
  outcome, _ = _play(tmp_path, ["resign"], human_seat=0, setup=SETUP)
  pos = outcome.state.position
  assert "".join(config.PIECE_CHARS[pos.rank[s]]
                 for s in config.home_squares(SMALL, 0)) == SETUP
  full = config.default_setup(SMALL)
  outcome, _ = _play(tmp_path / "full", ["resign"], setup=full, human_seat=0)
  assert outcome.record.game.count(full) == 1
  assert outcome.record.moves == ()  # No deployment phase.
  outcome, text = _play(tmp_path / "short", ["resign"], max_plies=4)
  assert "max_plies=4" in outcome.record.game and "(draw after 4)" in text
  with pytest.raises(ValueError, match="setup has 2 x Bomb"):
    _play(tmp_path / "bad", [], setup="FB3.9MB2S243")
  with pytest.raises(ValueError, match="outside your home ranks"):
    _play(tmp_path / "bad", [], setup=SETUP + "M")


def _write(path, obj):
  path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
  return str(path)


def test_corrupt_records_exit_2_in_one_line(tmp_path, capsys):
  outcome, _ = _play(tmp_path, ["d2-d3", "resign"], human_seat=0,
                     setup=SETUP)
  good = record_lib.to_json(outcome.record)
  kuhn = {**good, "game": "kuhn_poker()", "moves": [], "final_state": ""}
  moves = [dict(m) for m in good["moves"]]
  illegal = [*moves[:-2], {**moves[-2], "action": 0}, moves[-1]]
  renamed = [*moves[:-1], {**moves[-1], "text": "a1-a2"}]
  cases = [
      ("{not json", "is not valid JSON"),
      ({**good, "format": "x"}, "format is 'x'"),
      ({**good, "moves": "e4-e5"}, "'moves' must be a list"),
      ({**good, "players": ["human"]}, "has 2 players"),
      (kuhn, "is a game of 'kuhn_poker'"),
      ({**good, "game": "stratego(variant=huge)"}, "Unknown Stratego variant"),
      ({**good, "moves": illegal}, "is illegal in the position"),
      ({**good, "moves": renamed}, "the game calls that action"),
      ({**good, "final_state": "x"}, "do not lead to the recorded final"),
  ]
  for i, (obj, message) in enumerate(cases):
    path = _write(tmp_path / f"bad{i}.json", obj)
    code = cli.main(["play", "--replay", path, "--no-pause"])
    err = capsys.readouterr().err
    assert code == 2 and message in err, (message, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
  code = cli.main(["play", "--replay", _write(tmp_path / "ok.json", good),
                   "--no-pause"])
  assert code == 0 and "Result: Red resigned" in capsys.readouterr().out


def _arena(*args, stdin=""):
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  return subprocess.run([sys.executable, "-m", "arena", *args], input=stdin,
                        capture_output=True, text=True, cwd=REPO, env=env,
                        timeout=120, check=False)


def test_cli_play_record_and_replay(tmp_path):
  path = tmp_path / "cli.json"
  run = _arena("play", "stratego", "--agent", "random", "--variant", "small",
               "--human-first", "--seed", "4", "--setup", SETUP, "--record",
               str(path), stdin="xyz\nhelp\nmoves\nf2-f4\nd2-d3\nresign\n")
  assert run.returncode == 0, run.stderr
  out = run.stdout
  assert "can't read 'xyz'" in out and "Illegal: your Miner (3)" in out
  assert "You play d2-d3." in out and "You lose: Red resigned" in out
  rec = json.loads(path.read_text())
  assert rec["players"] == ["human", "random"] and rec["seed"] == 4
  assert rec["result"] == {"returns": [-1.0, 1.0], "reason": "Red resigned"}
  replay = _arena("play", "--replay", str(path), "--step", stdin="\nq\n")
  assert replay.returncode == 0, replay.stderr
  assert "Red (human) plays d2-d3." in replay.stdout
  assert replay.stdout.count("Enter: next move, q: stop> ") == 2
  assert replay.stdout.rstrip().endswith("Replay stopped.")


def test_cli_refuses_to_overwrite_and_bad_arguments(tmp_path, capsys):
  path = _write(tmp_path / "exists.json", "{}")
  for argv, message in [
      (["stratego", "--agent", "random", "--record", path], "already exists"),
      (["stratego"], "--agent SPEC is needed"),
      ([], "name a game (go, stratego) or give --replay FILE"),
      (["stratego", "--agent", "nowhere/run"], "not one of random"),
      (["--replay", path, "--agent", "random"], "takes no game or --agent"),
  ]:
    assert cli.main(["play", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_the_bundled_agent_plays_a_person_right_after_install(tmp_path):
  """`arena play stratego --variant small --agent deepnash-small`: the
  trained agent shipped in agents/bundled/ plays, with no library warnings
  on the way (orbax, absl), through the command line as a person runs it."""
  path = tmp_path / "bundled.json"
  run = _arena("play", "stratego", "--variant", "small", "--agent",
               "deepnash-small", "--human-first", "--seed", "4", "--setup",
               SETUP, "--record", str(path), stdin="d2-d3\nresign\n")
  assert run.returncode == 0, run.stderr
  assert run.stderr == "", run.stderr
  assert "You play d2-d3." in run.stdout
  rec = json.loads(path.read_text())
  assert rec["players"] == ["human", "deepnash-small"]
  agent_moves = [m for m in rec["moves"] if m["player"] == 1]
  assert len(agent_moves) >= 7  # its whole deployment, then a move
  assert rec["result"] == {"returns": [-1.0, 1.0], "reason": "Red resigned"}
