"""`games.go.human_view`: commands, why a move is illegal, captures and the
area score, on boards drawn in the tests."""

import numpy as np
import pytest

import games
from games.go import human_view


def _board(rows: str) -> np.ndarray:
  """A board from its picture, top row first ('X' Black, 'O' White)."""
  lines = [r.split() for r in rows.strip().splitlines()]
  values = {"X": 1, "O": -1, ".": 0}
  return np.array([values[c] for line in reversed(lines) for c in line],
                  np.int8)


def test_go_declares_its_human_view():
  assert games.spec("go").human_view == "games.go.human_view"


@pytest.mark.parametrize("text,kind,action", [
    ("D4", "move", 30), ("  d4 \n", "move", 30), ("PASS", "move", 81),
    ("J9", "move", 80), ("undo", "undo", None), ("Resign", "resign", None),
    ("q", "quit", None), ("?", "help", None), ("", "empty", None),
    ("moves", "moves", None), ("board", "board", None),
])
def test_commands(text, kind, action):
  assert human_view.parse_command(text, 9) == (kind, action)


@pytest.mark.parametrize("text,message", [
    ("J10", "Can't read 'J10': it is off the 9x9 board"),
    ("I5", "Can't read 'I5': it is neither a command nor a point"),
    ("play", "it is neither a command nor a point"),
    ("D", "it is neither a command nor a point"),
])
def test_bad_input_says_what_to_type(text, message):
  with pytest.raises(human_view.CommandError) as e:
    human_view.parse_command(text, 9)
  assert message in str(e.value)
  assert "columns A-J without I, rows 1-9" in str(e.value)


# 5x5, rows from the top (row 5) down:
#   5  . X O . .
#   4  X O . O .
#   3  . X O . .
#   2  . . . . .
#   1  O . . . X
KO = """
. X O . .
X O . O .
. X O . .
. . . . .
O . . . X
"""


def test_illegal_moves_explained():
  board = _board(KO)
  assert human_view.explain_illegal(board, 3 * 5 + 1, 0) == (
      "B4 is occupied (a White stone)")
  # Black on C4 would take B4, whose last liberty it is: barred only as a
  # ko retaken at once.
  assert "C4 retakes the ko at once" in human_view.explain_illegal(
      board, 3 * 5 + 2, 0)
  # White on A1 in the corner of Black's stones takes nothing.
  corner = _board("""
  . . . . .
  . . . . .
  . . . . .
  X . . . .
  . X . . .
  """)
  assert human_view.explain_illegal(corner, 0, 1) == (
      "A1 is suicide: your stones there would have no liberty")


def test_groups_and_area_score():
  stones, liberties = human_view.group_liberties(_board(KO), 3 * 5 + 1)
  assert stones == {16} and liberties == {17}
  stones, liberties = human_view.group_liberties(_board(KO), 2 * 5 + 1)
  assert stones == {11} and liberties == {6, 10}
  empty = np.zeros(25, np.int8)
  assert human_view.area(empty) == (0, 0)
  assert human_view.result(empty, 7.5) == "W+7.5"
  black = empty.copy()
  black[12] = 1
  assert human_view.area(black) == (25, 0)
  assert human_view.result(black, 7.5) == "B+17.5"
  assert human_view.result(black, 25) == "0"
  assert human_view.score_line(black, 7.5) == (
      "Score so far (area): Black 25, White 0 + 7.5 komi = 7.5; Black leads "
      "by 17.5")
  assert human_view.score_line(empty, 0.5, final=True).endswith(
      "White wins by 0.5")
  # KO: Black's 4 stones and A5; White's 5 stones and C4. The other empty
  # points form one region that reaches both colours.
  assert human_view.area(_board(KO)) == (5, 6)


def test_captured_counts_stones_taken_off():
  # Black A1 (0), White B1 (1), Black pass, White A2 (5): A1 is captured.
  board = np.zeros(25, np.int8)
  board[1] = board[5] = -1
  assert human_view.captured(board, [0, 1, 25, 5]) == (0, 1)
  assert human_view.captures_line(board, [0, 1, 25, 5]) == (
      "Captured: Black has taken 0, White 1")


def test_board_lines_and_legal_points():
  lines = human_view.board_lines(_board(KO), last_move=16)
  assert lines[0] == lines[-1] == "   A B C D E"
  assert lines[2] == " 4 X(O). O . 4"
  assert human_view.legal_points_line([0, 5, 25, 1], 5) == (
      "Legal points (3): A1 A2 B1; or pass")
