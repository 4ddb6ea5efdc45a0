"""The GTP engine: framing, every command with good and bad input, the rules
answers (occupied, suicide, ko), genmove, the clock, SGF in and out, a game
against GNU Go over pipes, `arena gtp`, and the board picture.

Every server here plays 9x9 with komi 7.5 where it steps moves, so the jitted
rules compile once for the whole file.
"""

import io
import itertools
import os
import shutil
import subprocess

import numpy as np
import pytest

from arena import cli, gtp
from eval.go import gtp_record
from eval.go.gtp_clock import move_budget
from eval.go.gtp_server import GTPServer
from eval.go.players import RESIGN, GoPlayer, RandomPlayer
from games.go import coords, render

GNUGO = shutil.which("gnugo") or "/usr/games/gnugo"
needs_gnugo = pytest.mark.skipif(
    not os.access(GNUGO, os.X_OK),
    reason="GNU Go is not installed (apt-get install gnugo)")


class FakePlayer:
  """Plays the moves it is given (action ids, or a callable of the game),
  the pass once they run out; records the budgets it was handed."""

  name, version = "fake", "9.9"

  def __init__(self, moves=(), sizes=None, on_move=None):
    self.moves = list(moves)
    self.sizes = sizes
    self.on_move = on_move
    self.seconds = []
    self.histories = []

  def supports(self, board_size):
    return self.sizes is None or board_size in self.sizes

  def genmove(self, game, state, seconds, history):
    self.seconds.append(seconds)
    self.histories.append(tuple(history))
    if self.on_move is not None:
      return self.on_move(game, state)
    return self.moves.pop(0) if self.moves else game.pass_action


def _ok(server, command):
  """The answer text of a command that must succeed."""
  reply = server.handle(command)
  assert reply.startswith("= ") and reply.endswith("\n\n"), (command, reply)
  return reply[2:-2]


def _fail(server, command):
  """The message of a command that must fail."""
  reply = server.handle(command)
  assert reply.startswith("? ") and reply.endswith("\n\n"), (command, reply)
  return reply[2:-2]


def _play(server, *moves):
  for move in moves:
    colour, vertex = move.split()
    _ok(server, f"play {colour} {vertex}")


def _point(vertex):
  return coords.from_gtp(vertex, 9)


@pytest.fixture
def server():
  return GTPServer(RandomPlayer(seed=0))


# --- Framing.


def test_ids_are_echoed_and_every_reply_ends_with_an_empty_line(server):
  assert server.handle("7 protocol_version") == "=7 2\n\n"
  assert server.handle("protocol_version") == "= 2\n\n"
  assert server.handle("8 clear_board") == "=8 \n\n"
  assert server.handle("9 no_such_command") == (
      "?9 unknown command: no_such_command\n\n")
  assert server.handle("10 play b Z9").startswith("?10 syntax error: ")
  assert server.handle("11") == "?11 syntax error: no command after the id\n\n"


def test_input_is_preprocessed_as_the_spec_says(server):
  for ignored in ("", "   ", "\n", "# a comment", "  \t # indented comment",
                  "\r\n"):
    assert server.handle(ignored) is None
  assert server.handle("name\r\n") == "= arena-random\n\n"
  assert server.handle("3\tknown_command\tplay") == "=3 true\n\n"
  assert server.handle("na\x01me\x7f") == "= arena-random\n\n"
  assert server.handle("version # what version?") == "= 0.1.0\n\n"
  # A word that is not all digits is the command, not an id.
  assert server.handle("12a name").startswith("? unknown command: 12a")
  # Command names are case-sensitive (the spec's are lower case).
  assert server.handle("NAME").startswith("? unknown command")


def test_serve_answers_until_quit(server):
  out = io.StringIO()
  server.serve(io.StringIO("1 name\n# comment\n\n2 quit\n3 name\n"), out)
  assert out.getvalue() == "=1 arena-random\n\n=2 \n\n"
  assert server.finished


def test_serve_stops_at_the_end_of_input_and_logs_the_session():
  log = io.StringIO()
  server = GTPServer(RandomPlayer(), log=log)
  out = io.StringIO()
  server.serve(io.StringIO("protocol_version\nfoo"), out)
  assert out.getvalue() == "= 2\n\n? unknown command: foo\n\n"
  assert log.getvalue() == ("> protocol_version\n< = 2\n> foo\n"
                            "< ? unknown command: foo\n")


# --- Administrative commands.


def test_administrative_commands(server):
  assert _ok(server, "protocol_version") == "2"
  assert _ok(server, "name") == "arena-random"
  assert _ok(server, "version") == "0.1.0"
  assert _ok(server, "known_command genmove") == "true"
  assert _ok(server, "known_command fly") == "false"
  commands = _ok(server, "list_commands").split("\n")
  required = {"protocol_version", "name", "version", "known_command",
              "list_commands", "quit", "boardsize", "clear_board", "komi",
              "play", "genmove"}
  assert required | {"undo", "showboard", "final_score", "final_status_list",
                     "time_settings", "time_left", "loadsgf", "printsgf",
                     "reg_genmove"} <= set(commands)
  for command in commands:
    assert _ok(server, f"known_command {command}") == "true"


@pytest.mark.parametrize("command,message", [
    ("protocol_version 2", "syntax error: no arguments expected"),
    ("name x", "syntax error: no arguments expected"),
    ("list_commands all", "syntax error"),
    ("known_command", "syntax error: expected a command name"),
    ("known_command a b", "syntax error"),
    ("quit now", "syntax error"),
    ("clear_board 9", "syntax error"),
    ("boardsize", "syntax error: expected a board size"),
    ("boardsize 9 9", "syntax error"),
    ("boardsize nine", "syntax error: the board size must be an integer"),
    ("boardsize 1", "unacceptable size: 1"),
    ("boardsize 0", "unacceptable size"),
    ("boardsize -9", "unacceptable size"),
    ("boardsize 26", "unacceptable size: 26"),
    ("komi", "syntax error: expected a komi"),
    ("komi six", "syntax error: komi must be a number, got 'six'"),
    ("komi nan", "syntax error: komi must be finite"),
    ("komi inf", "syntax error: komi must be finite"),
    ("komi 6.5 0", "syntax error"),
    ("play", "syntax error: expected a color and a vertex"),
    ("play b", "syntax error: expected a color and a vertex"),
    ("play b e5 e6", "syntax error"),
    ("play x e5", "syntax error: invalid color 'x'"),
    ("play blk e5", "syntax error: invalid color"),
    ("play b z9", "syntax error: 'z9' is off the 9x9 board"),
    ("play b j10", "syntax error: 'j10' is off the 9x9 board"),
    ("play b a0", "syntax error: 'a0' is off the 9x9 board"),
    ("play b i5", "syntax error: 'i5' is not a vertex"),
    ("play b e", "syntax error: 'e' is not a vertex"),
    ("play b 55", "syntax error: '55' is not a vertex"),
    ("play b resign", "syntax error: 'resign' is not a vertex"),
    ("genmove", "syntax error: expected a color"),
    ("genmove b w", "syntax error"),
    ("genmove red", "syntax error: invalid color 'red'"),
    ("reg_genmove", "syntax error"),
    ("undo 1", "syntax error"),
    ("showboard big", "syntax error"),
    ("final_score now", "syntax error"),
    ("final_status_list", "syntax error"),
    ("final_status_list unknown",
     "syntax error: status must be alive, dead or seki"),
    ("time_settings 60 10", "syntax error: expected main_time"),
    ("time_settings 60 10 5 1", "syntax error"),
    ("time_settings 60 ten 5",
     "syntax error: byo_yomi_time must be an integer"),
    ("time_settings -1 0 0", "syntax error: main_time must be >= 0"),
    ("time_settings 60 10 -5", "syntax error: byo_yomi_stones must be >= 0"),
    ("time_left b 10", "syntax error"),
    ("time_left z 10 0", "syntax error: invalid color"),
    ("time_left b ten 0", "syntax error: time must be a number"),
    ("time_left b 10 -1", "syntax error: stones must be >= 0"),
    ("time_left b 10 2.5", "syntax error: stones must be an integer"),
    ("loadsgf", "syntax error"),
    ("loadsgf a.sgf 3 4", "syntax error"),
    ("loadsgf a.sgf three",
     "syntax error: the move number must be an integer"),
    ("loadsgf a.sgf 0", "syntax error: the move number must be >= 1"),
    ("loadsgf /no/such/file.sgf",
     "cannot load file: No such file or directory: /no/such/file.sgf"),
    ("printsgf a b", "syntax error"),
    ("printsgf /no/such/dir/out.sgf", "cannot write file"),
])
def test_bad_input_fails_with_a_message_and_the_engine_goes_on(
    server, command, message):
  _play(server, "b e5")
  before = server.board.copy()
  assert _fail(server, command).startswith(message)
  np.testing.assert_array_equal(server.board, before)
  assert len(server.moves) == 1
  assert _ok(server, "name") == "arena-random"


def test_quit_answers_then_ends_the_session(server):
  assert server.handle("5 quit") == "=5 \n\n"
  assert server.finished


# --- Setup commands.


def test_boardsize_sets_an_empty_board_of_that_size(server):
  _play(server, "b e5")
  _ok(server, "boardsize 19")
  picture = _ok(server, "showboard").split("\n")
  assert picture[1] == "   " + " ".join("ABCDEFGHJKLMNOPQRST")
  assert picture[2].startswith("19 . . .") and picture[2].endswith(". 19")
  assert picture[5] == ("16 . . . + . . . . . + . . . . . + . . . 16")
  assert server.board.shape == (361,) and not server.board.any()
  assert server.moves == ()
  _ok(server, "boardsize 2")
  assert server.board.shape == (4,)
  _ok(server, "boardsize 25")
  assert _fail(server, "play b Z26").startswith("syntax error")


def test_boardsize_a_player_cannot_play_is_unacceptable():
  server = GTPServer(FakePlayer(sizes={9, 13}))
  _ok(server, "boardsize 13")
  assert _fail(server, "boardsize 19") == (
      "unacceptable size: 19 (fake cannot play it)")
  with pytest.raises(ValueError, match="cannot play on a 19x19 board"):
    GTPServer(FakePlayer(sizes={9}), board_size=19)


def test_clear_board_empties_the_board_and_the_history(server):
  _play(server, "b e5", "w d5")
  _ok(server, "clear_board")
  assert not server.board.any() and server.moves == ()
  assert server.to_move == 0
  _fail(server, "undo")


def test_komi_enters_the_score(server):
  assert _ok(server, "final_score") == "W+7.5"
  _ok(server, "komi 6")
  assert _ok(server, "final_score") == "W+6"
  _ok(server, "komi -3.5")
  assert _ok(server, "final_score") == "B+3.5"
  _ok(server, "komi 0")
  assert _ok(server, "final_score") == "0"
  assert server.game.rules.komi == 0.0


# --- Core play.


def test_play_accepts_colours_and_vertices_in_any_case(server):
  _ok(server, "play B e5")
  _ok(server, "play WHITE D5")
  _ok(server, "play black a1")
  _ok(server, "play w PASS")
  _ok(server, "play Black J9")
  board = server.board
  assert board[_point("E5")] == 1 and board[_point("D5")] == -1
  assert board[_point("A1")] == 1 and board[_point("J9")] == 1
  assert [m.player for m in server.moves] == [0, 1, 0, 1, 0]
  assert server.moves[3].action == 81


def test_an_occupied_point_is_an_illegal_move(server):
  _play(server, "b e5")
  assert _fail(server, "play w e5") == "illegal move: E5 is occupied"
  assert _fail(server, "play b E5") == "illegal move: E5 is occupied"


def test_suicide_is_an_illegal_move(server):
  # 2 X . .
  # 1 . X .     White A1 would have no liberty and capture nothing.
  #   A B C
  _play(server, "b a2", "w h8", "b b1")
  assert _fail(server, "play w a1") == "illegal move: A1 is suicide"
  # For Black, A1 joins A2 and B1, which keep liberties (A3, B2, C1).
  _ok(server, "play b a1")


def test_ko_recapture_waits_for_a_move_elsewhere(server):
  # 3 . X O .
  # 2 X O . O      Black C2 takes B2; White may not retake at B2 at once.
  # 1 . X O .
  #   A B C D
  _play(server, "b b3", "w c3", "b a2", "w b2", "b b1", "w c1", "b h8",
        "w d2", "b c2")
  assert server.board[_point("B2")] == 0
  assert _fail(server, "play w b2") == ("illegal move: B2 repeats an earlier "
                                        "position (ko)")
  _play(server, "w h2", "b h3")  # A ko threat and its answer.
  _ok(server, "play w b2")
  assert server.board[_point("C2")] == 0


def test_either_colour_may_play_at_any_time(server):
  _play(server, "b e5", "b d5")
  assert [m.player for m in server.moves] == [0, 0]
  assert server.to_move == 1
  _play(server, "w e6", "w d6", "b c5")
  assert server.to_move == 1
  board = server.board
  assert (board[_point("E5")], board[_point("D6")], board[_point("C5")]) == (
      1, -1, 1)
  # Superko still bars a position seen before, across the turn changes:
  # the ko below is fought with moves out of turn.
  _ok(server, "clear_board")
  _play(server, "b b3", "w c3", "b a2", "w b2", "b b1", "w c1", "w d2",
        "b c2")
  assert _fail(server, "play w b2").startswith("illegal move: B2 repeats")


def test_play_and_genmove_go_on_after_two_passes():
  server = GTPServer(RandomPlayer(seed=3))
  _play(server, "b e5", "w pass", "b pass")
  assert _ok(server, "final_score") == "B+73.5"
  _ok(server, "play w d5")
  vertex = _ok(server, "genmove w")
  assert vertex != "pass" and server.board[_point(vertex)] == -1
  assert _ok(server, "genmove b") != "pass"
  assert len(server.moves) == 6


def test_undo_takes_back_moves_one_by_one(server):
  _play(server, "b e5", "w d5", "b c5")
  _ok(server, "undo")
  assert server.board[_point("C5")] == 0 and server.to_move == 0
  _ok(server, "undo")
  _ok(server, "undo")
  assert not server.board.any()
  assert _fail(server, "undo") == "cannot undo: no move to take back"
  _play(server, "b e5")  # The record still plays after undoing everything.
  assert server.board[_point("E5")] == 1


def test_undo_restores_a_capture_and_the_ko_ban(server):
  _play(server, "b b3", "w c3", "b a2", "w b2", "b b1", "w c1", "b h8",
        "w d2", "b c2", "w h2", "b h3", "w b2")
  _ok(server, "undo")  # White's retake goes: C2 is back, B2 empty.
  assert server.board[_point("C2")] == 1 and server.board[_point("B2")] == 0
  _ok(server, "undo")
  _ok(server, "undo")  # Back to just after Black took the ko.
  assert _fail(server, "play w b2").startswith("illegal move: B2 repeats")


def test_genmove_plays_a_legal_move_for_either_colour():
  server = GTPServer(RandomPlayer(seed=5))
  colours = "bwbwbbwwbw" * 4
  for colour in colours:
    before = server.board.copy()
    vertex = _ok(server, f"genmove {colour}")
    point = coords.from_gtp(vertex, 9)
    assert point < 81 and before[point] == 0
    assert server.board[point] == (1 if colour == "b" else -1)
  assert len(server.moves) == len(colours)


def test_the_random_player_is_seeded_and_passes_when_nothing_is_legal(
    tmp_path):
  moves = [GTPServer(RandomPlayer(seed=s)).handle("genmove b")
           for s in (7, 7, 8)]
  assert moves[0] == moves[1]
  # Black everywhere but nine single-point eyes: White has no legal move.
  eyes = {(r, c) for r in (1, 4, 7) for c in (1, 4, 7)}
  black = "".join(f"[{'abcdefghi'[c]}{'abcdefghi'[8 - r]}]" for r in range(9)
                  for c in range(9) if (r, c) not in eyes)
  path = tmp_path / "eyes.sgf"
  path.write_text(f"(;GM[1]FF[4]SZ[9]KM[7.5]PL[W]AB{black})")
  server = GTPServer(RandomPlayer(seed=0))
  _ok(server, f"loadsgf {path}")
  assert server.to_move == 1
  assert _ok(server, "genmove w") == "pass"
  assert _ok(server, "genmove b") != "pass"  # Black may fill an eye.


def test_reg_genmove_does_not_play():
  server = GTPServer(RandomPlayer(seed=1))
  first = _ok(server, "reg_genmove b")
  assert _ok(server, "reg_genmove b") == first
  assert server.moves == () and not server.board.any()


def test_player_errors_answer_a_failure_and_the_engine_goes_on():
  def boom(game, state):
    raise RuntimeError("boom")
  server = GTPServer(FakePlayer(on_move=boom))
  assert _fail(server, "genmove b") == "player error: RuntimeError: boom"
  assert _ok(server, "name") == "fake"
  server = GTPServer(FakePlayer(moves=[_point("E5"), _point("E5"), 82]))
  assert _ok(server, "genmove b") == "E5"
  assert _fail(server, "genmove w") == ("player error: fake chose an illegal "
                                        "move 40")
  assert _fail(server, "genmove w").startswith("player error: fake chose an "
                                               "illegal move 82")
  assert len(server.moves) == 1
  server = GTPServer(FakePlayer(moves=[RESIGN]))
  assert _ok(server, "genmove w") == "resign"
  assert server.moves == ()


def test_the_player_gets_the_game_the_history_and_a_live_position():
  seen = []
  def look(game, state):
    seen.append((game.board_size, game.rules.komi, int(state.current_player),
                 bool(state.terminated), int(state.last_move)))
    return game.pass_action
  player = FakePlayer(on_move=look)
  server = GTPServer(player)
  _ok(server, "komi 5.5")
  _play(server, "b e5", "w pass", "b pass")
  _ok(server, "genmove w")  # After the end, and out of turn.
  assert seen == [(9, 5.5, 1, False, 81)]
  assert [m.action for m in player.histories[0]] == [_point("E5"), 81, 81]


# --- Scoring and the board picture.


def test_final_score_is_the_area_score_of_the_board(server):
  _play(server, "b e5")
  assert _ok(server, "final_score") == "B+73.5"
  _play(server, "w d5")  # Both touch every empty point: 1 - 1 - 7.5.
  assert _ok(server, "final_score") == "W+7.5"
  _ok(server, "komi 0")
  assert _ok(server, "final_score") == "0"


def test_final_status_list_lists_every_string_as_alive(server):
  _play(server, "b e5", "w d5", "b e6", "w a1", "b j9", "w a2")
  strings = _ok(server, "final_status_list alive").split("\n")
  assert sorted(tuple(sorted(s.split())) for s in strings) == sorted(
      [("E5", "E6"), ("D5",), ("A1", "A2"), ("J9",)])
  assert _ok(server, "final_status_list dead") == ""
  assert _ok(server, "final_status_list SEKI") == ""
  _ok(server, "clear_board")
  assert _ok(server, "final_status_list alive") == ""


def test_showboard_draws_the_board_with_the_last_move(server):
  _play(server, "b e5", "w d5")
  assert server.handle("showboard") == (
      "= \n"
      "   A B C D E F G H J\n"
      " 9 . . . . . . . . . 9\n"
      " 8 . . . . . . . . . 8\n"
      " 7 . . + . . . + . . 7\n"
      " 6 . . . . . . . . . 6\n"
      " 5 . . .(O)X . . . . 5\n"
      " 4 . . . . . . . . . 4\n"
      " 3 . . + . . . + . . 3\n"
      " 2 . . . . . . . . . 2\n"
      " 1 . . . . . . . . . 1\n"
      "   A B C D E F G H J\n"
      "Black to move; move 2; komi 7.5\n\n")
  _play(server, "b pass")
  assert "B passed; White to move; move 3" in _ok(server, "showboard")


def test_render_marks_the_last_move_at_the_edge_and_hides_hoshi_if_asked():
  board = np.zeros((9, 9), np.int8)
  board[0, 8] = -1  # J1, rows from the bottom.
  lines = render.render(board, last_move=8, hoshi=False).split("\n")
  assert lines[-2] == " 1 . . . . . . . .(O)1"
  assert "+" not in "".join(lines)
  assert render.render(board, last_move=81) == render.render(board)
  assert render.star_points(19) == frozenset(
      r * 19 + c for r in (3, 9, 15) for c in (3, 9, 15))
  assert render.star_points(13) == frozenset(
      {3 * 13 + 3, 3 * 13 + 9, 9 * 13 + 3, 9 * 13 + 9, 6 * 13 + 6})
  assert render.star_points(5) == frozenset()
  with pytest.raises(ValueError, match="N \\* N points"):
    render.render(np.zeros(10))
  with pytest.raises(ValueError, match="0, 1 or -1"):
    render.render(np.full(81, 2))


# --- Time.


def test_time_settings_and_time_left_shrink_the_budget():
  player = FakePlayer()
  server = GTPServer(player)
  _ok(server, "genmove b")
  assert player.seconds == [None]  # No time settings: no limit.
  _ok(server, "time_settings 600 30 5")
  _ok(server, "genmove b")
  _ok(server, "time_left b 60 0")
  _ok(server, "genmove b")
  _ok(server, "time_left b 20 5")
  _ok(server, "genmove b")
  _ok(server, "time_left b 5 5")
  _ok(server, "genmove b")
  budgets = player.seconds[1:]
  # Empty board: 81 empty points, 40.5 own moves to go.
  assert budgets[0] == pytest.approx(0.9 * (600 / 40.5 + 30 / 5))
  assert budgets[1] == pytest.approx(0.9 * (60 / 40.5 + 30 / 5))
  assert budgets[2:] == pytest.approx([0.9 * 20 / 5, 0.9 * 5 / 5])
  assert all(a > b for a, b in itertools.pairwise(budgets))
  # White's clock is its own: still the full main time.
  _ok(server, "genmove w")
  assert player.seconds[-1] == pytest.approx(budgets[0])


def test_no_limit_and_absolute_time():
  player = FakePlayer()
  server = GTPServer(player)
  _ok(server, "time_settings 0 10 0")  # Byo-yomi time, no stones: no limit.
  _ok(server, "genmove b")
  _ok(server, "time_settings 300 0 0")  # Absolute time.
  _ok(server, "genmove b")
  _ok(server, "time_settings 0 30 3")  # Byo-yomi from the start.
  _ok(server, "genmove b")
  assert player.seconds[0] is None
  assert player.seconds[1:] == pytest.approx([0.9 * 300 / 40.5, 0.9 * 10])
  assert move_budget(None, 100, 0, 81) is None


def test_the_server_charges_each_genmove_to_its_colours_clock():
  now = [0.0]
  def think(game, state):
    now[0] += 4.0  # Each move takes four seconds.
    return game.pass_action
  player = FakePlayer(on_move=think)
  server = GTPServer(player, clock=lambda: now[0])
  _ok(server, "time_settings 10 9 3")
  for _ in range(6):
    _ok(server, "genmove b")
  # Main time 10: after 4 and 8 s, 6 then 2 s are left; the third move
  # runs 2 s into byo-yomi (7 s for 3 stones left, that move the first).
  per_stone = 9 / 3
  assert player.seconds == pytest.approx([
      0.9 * (10 / 40.5 + per_stone), 0.9 * (6 / 40.5 + per_stone),
      0.9 * (2 / 40.5 + per_stone), 0.9 * 7 / 2, 0.9 * 3 / 1, 0.9 * 9 / 3])


# --- SGF.


def test_loadsgf_sets_size_komi_setup_and_moves(tmp_path):
  path = tmp_path / "game.sgf"
  path.write_text("(;GM[1]FF[4]SZ[9]KM[5.5]HA[2]AB[cc][gg]"
                  ";W[ee];B[ge];W[tt];B[];W[dd])")
  server = GTPServer(RandomPlayer())
  _ok(server, f"loadsgf {path}")
  assert server.game.rules.komi == 5.5
  assert [(m.player, m.action) for m in server.moves] == [
      (1, _point("E5")), (0, _point("G5")), (1, 81), (0, 81),
      (1, _point("D6"))]
  assert server.board[_point("C7")] == 1 and server.board[_point("G3")] == 1
  assert server.to_move == 0
  _ok(server, f"loadsgf {path} 3")  # Up to, not including, move 3.
  assert len(server.moves) == 2 and server.to_move == 1
  _ok(server, f"loadsgf {path} 99")
  assert len(server.moves) == 5
  for _ in range(5):
    _ok(server, "undo")
  assert _fail(server, "undo").startswith("cannot undo")  # Setup stays.
  assert server.board[_point("C7")] == 1


def test_loadsgf_without_moves_takes_the_player_from_pl_or_handicap(tmp_path):
  cases = {"(;SZ[9]AB[cc]PL[W])": 1, "(;SZ[9]AB[cc][gg]HA[2])": 1,
           "(;SZ[9]AB[cc]AW[gg])": 0, "(;SZ[13]KM[0])": 0}
  server = GTPServer(RandomPlayer())
  for i, (text, player) in enumerate(cases.items()):
    path = tmp_path / f"{i}.sgf"
    path.write_text(text)
    _ok(server, f"loadsgf {path}")
    assert server.to_move == player, text
  assert server.board.shape == (169,)


@pytest.mark.parametrize("text,message", [
    ("hello", "cannot load file: no SGF data found"),
    ("(;SZ[30])", "cannot load file: size out of range: 30"),
    ("(;SZ[9]KM[lots])", "cannot load file: could not convert"),
    ("(;SZ[9];B[ee];W[ee])",
     "cannot load file: move 2 (W): illegal move: E5 is occupied"),
    ("(;SZ[9];B[ee];AB[cc])", "cannot load file: setup properties after"),
    ("(;SZ[9];B[zz])", "cannot load file: bad SGF"),
])
def test_a_malformed_file_cannot_be_loaded_and_the_game_stays(
    tmp_path, text, message):
  path = tmp_path / "bad.sgf"
  path.write_text(text)
  server = GTPServer(RandomPlayer())
  _play(server, "b e5")
  assert _fail(server, f"loadsgf {path}").startswith(message)
  assert len(server.moves) == 1 and server.board[_point("E5")] == 1


def test_a_board_size_the_player_cannot_play_cannot_be_loaded(tmp_path):
  path = tmp_path / "big.sgf"
  path.write_text("(;SZ[19])")
  server = GTPServer(FakePlayer(sizes={9}))
  assert _fail(server, f"loadsgf {path}") == ("cannot load file: "
                                              "unacceptable size 19")


def test_printsgf_then_loadsgf_gives_the_same_position(tmp_path):
  setup = tmp_path / "setup.sgf"
  setup.write_text("(;SZ[9]KM[6.5]AB[aa]AW[ii]PL[W])")
  server = GTPServer(RandomPlayer())
  _ok(server, f"loadsgf {setup}")
  # A ko fight with moves out of turn and a pass, ending right after Black
  # took the ko, so the retake is barred in the loaded copy too.
  _play(server, "w c3", "b b3", "b a2", "w b2", "b b1", "w c1", "w d2",
        "b pass", "b c2")
  text = _ok(server, "printsgf")
  assert text.startswith("(;FF[4]") and "PL[W]" in text
  assert ";B[bg];B[ah]" in text.replace("\n", "")  # Black twice in a row.
  copy_path = tmp_path / "copy.sgf"
  _ok(server, f"printsgf {copy_path}")
  assert copy_path.read_text() == text + "\n"
  copy = GTPServer(RandomPlayer())
  _ok(copy, f"loadsgf {copy_path}")
  np.testing.assert_array_equal(copy.board, server.board)
  assert copy.moves == server.moves and copy.to_move == server.to_move
  assert _ok(copy, "showboard") == _ok(server, "showboard")
  assert _ok(copy, "final_score") == _ok(server, "final_score")
  for engine in (server, copy):
    assert _fail(engine, "play w b2").startswith("illegal move: B2 repeats")


def test_printsgf_records_the_result_of_a_finished_game(server):
  _play(server, "b e5", "w pass", "b pass")
  assert "RE[B+73.5]" in _ok(server, "printsgf")


# --- Against GNU Go, over pipes.


class _GnuGo:
  """GNU Go as a GTP child process, spoken to over its pipes."""

  def __init__(self, *extra):
    self.process = subprocess.Popen(
        [GNUGO, "--mode", "gtp", "--level", "1", "--chinese-rules", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

  def send(self, command):
    self.process.stdin.write(command + "\n")
    self.process.stdin.flush()
    lines = []
    while (line := self.process.stdout.readline()) not in ("\n", ""):
      lines.append(line)
    reply = "".join(lines).strip()
    assert reply.startswith("="), (command, reply)
    return reply[1:].strip()

  def close(self):
    self.send("quit")
    self.process.wait(timeout=10)


def _score_value(score):
  """"B+3.5" -> 3.5, "W+2" -> -2, "0" -> 0."""
  return 0.0 if score == "0" else float(score[2:]) * (
      1 if score[0] == "B" else -1)


@needs_gnugo
def test_a_game_against_gnugo_is_played_to_the_end_and_scores_agree():
  gnugo = _GnuGo("--capture-all-dead", "--play-out-aftermath", "--seed", "1")
  server = GTPServer(RandomPlayer(seed=0))
  for command in ("boardsize 9", "clear_board", "komi 7.5"):
    gnugo.send(command)
    _ok(server, command)
  passes, colour, moves = 0, "b", 0
  while passes < 2:
    assert moves < 600, "the game did not end"
    if colour == "b":  # We are Black.
      vertex = _ok(server, "genmove b")
      gnugo.send(f"play b {vertex}")  # GNU Go accepts it (or the send fails).
    else:
      vertex = gnugo.send("genmove w")
      _ok(server, f"play w {vertex}")
    passes = passes + 1 if vertex.lower() == "pass" else 0
    colour, moves = "wb"[colour == "w"], moves + 1
  ours, theirs = _ok(server, "final_score"), gnugo.send("final_score")
  gnugo.close()
  assert _score_value(ours) == _score_value(theirs), (ours, theirs)


@needs_gnugo
def test_a_finished_position_scores_the_same_for_gnugo_and_us(tmp_path):
  # Black holds columns A-E (a wall on E), White F-J (a wall on F): both
  # alive, no dead stones; Black 45 points, White 36, komi 7.5 -> B+1.5.
  black = "".join(f"[e{r}]" for r in "abcdefghi")
  white = "".join(f"[f{r}]" for r in "abcdefghi")
  path = tmp_path / "end.sgf"
  path.write_text(f"(;GM[1]FF[4]SZ[9]KM[7.5]AB{black}AW{white})")
  server = GTPServer(RandomPlayer())
  _ok(server, f"loadsgf {path}")
  gnugo = _GnuGo()
  gnugo.send(f"loadsgf {path}")
  ours, theirs = _ok(server, "final_score"), gnugo.send("final_score")
  alive = gnugo.send("final_status_list alive").split()
  gnugo.close()
  assert ours == "B+1.5"
  assert _score_value(ours) == _score_value(theirs)
  assert sorted(_ok(server, "final_status_list alive").split()) == sorted(
      alive)


# --- arena gtp.


@pytest.fixture
def with_gtp(monkeypatch):
  """Adds the `gtp` subcommand to the `arena` parser if cli.py lacks it."""
  modules = cli._SUBCOMMAND_MODULES  # pylint: disable=protected-access
  if gtp not in modules:
    monkeypatch.setattr(cli, "_SUBCOMMAND_MODULES", (*modules, gtp))


def test_arena_gtp_speaks_gtp_on_stdin_and_stdout(with_gtp, monkeypatch,
                                                  capsys, tmp_path):
  del with_gtp
  log = tmp_path / "session.log"
  monkeypatch.setattr("sys.stdin", io.StringIO(
      "1 name\n2 play b e5\n3 genmove w\n4 quit\n5 name\n"))
  code = cli.main(["gtp", "random", "--seed", "4", "--log", str(log)])
  out = capsys.readouterr().out
  assert code == 0
  replies = out.split("\n\n")
  assert replies[:2] == ["=1 arena-random", "=2 "]
  assert replies[2].startswith("=3 ") and replies[3] == "=4 "
  assert replies[4:] == [""]
  assert "> 3 genmove w\n< =3 " in log.read_text()


def test_arena_gtp_names_the_agents_for_an_unknown_one(with_gtp, capsys):
  del with_gtp
  assert cli.main(["gtp", "alphago"]) == 2
  err = capsys.readouterr().err
  assert err.strip() == (
      "arena gtp: error: unknown agent 'alphago': no such run directory or "
      "bundled agent; available: random, go9-plain, go9-plain-8600, "
      "go9-retrieval, or a run directory")
  with pytest.raises(ValueError, match="available: random"):
    gtp.resolve_player("nope")
  assert isinstance(gtp.resolve_player("random", seed=2), GoPlayer)


def test_scores_are_written_as_gtp_wants_them():
  assert gtp_record.format_score(-2.0) == "W+2"
  assert gtp_record.format_score(0.5) == "B+0.5"
  assert gtp_record.format_score(0.0) == "0"
  assert gtp_record.area_margin(np.zeros(81, np.int8), 7.5) == -7.5
