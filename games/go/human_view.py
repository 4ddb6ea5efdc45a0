"""What a human sees and types in a game of Go in the terminal (`arena play
go`): the board, captures and the score so far, commands, and why a move is
illegal. Pure functions of boards and text: no I/O (`eval.go.human` runs the
game).

Boards are [P] int8 arrays as in `games.go.rules` (0 empty, 1 Black, -1
White; point ids from `games.go.coords`, row 0 at the bottom). The human
types GTP vertices ("D4", "d4"), `pass`, or one of the commands in `HELP`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from games.go import coords, render
from games.go import rules as rules_lib

SIDES = ("Black", "White")
STONES = (render.BLACK_STONE, render.WHITE_STONE)
COMMANDS = ("pass", "resign", "undo", "board", "moves", "help", "quit")

HELP = """Commands:
  D4        play a stone on D4 (column letter without I, row number)
  pass      pass; two passes in a row end the game, which is then scored
  undo      take back your last move (and the agent's answer)
  board     show the board and the score again
  moves     list your legal points
  resign    give up the game (it counts as a loss)
  help      this text
  quit      stop now; the record is saved, the game left unfinished
Rules: Tromp-Taylor (OpenSpiel's go): suicide is illegal, a ko may not be
retaken at once, a move that repeats an earlier whole-board position ends
the game as a draw, and the score is area: your stones plus the empty
points that reach only your stones; White adds komi. Dead stones are not
removed at the end: capture them before you pass."""

LEGEND = (f"Board: {render.BLACK_STONE} Black, {render.WHITE_STONE} White, "
          f"{render.EMPTY_POINT} empty, {render.STAR_POINT} star point; the "
          "last stone played is in parentheses.")


class Command(NamedTuple):
  """One line of the human's input."""

  kind: str  # "move", "empty" or one of COMMANDS other than "pass"
  action: int | None = None  # for "move": the action id (N * N passes)


class CommandError(ValueError):
  """Input that is no command; the message says what to type instead."""


def parse_command(text: str, board_size: int) -> Command:
  """The command on one input line (case and spaces do not matter).

  Raises:
    CommandError: neither a command nor a vertex of this board.
  """
  word = text.strip().lower()
  if not word:
    return Command("empty")
  if word == "pass":
    return Command("move", coords.pass_action(board_size))
  if word in COMMANDS:
    return Command(word)
  if word in ("q", "exit"):
    return Command("quit")
  if word in ("h", "?"):
    return Command("help")
  try:
    return Command("move", coords.from_gtp(word, board_size))
  except ValueError as e:
    last = coords.to_gtp(board_size - 1, board_size)[0]
    why = (f"it is off the {board_size}x{board_size} board"
           if "off the" in str(e) else "it is neither a command nor a point")
    raise CommandError(
        f"Can't read {text.strip()!r}: {why}. Type a point like D4 (columns "
        f"A-{last} without I, rows 1-{board_size}), pass, or help.") from None


def _neighbours(point: int, n: int) -> list[int]:
  row, col = divmod(point, n)
  return [r * n + c for r, c in ((row - 1, col), (row + 1, col),
                                 (row, col - 1), (row, col + 1))
          if 0 <= r < n and 0 <= c < n]


def group_liberties(board: np.ndarray, point: int) -> tuple[set[int],
                                                            set[int]]:
  """(stones, liberties) of the group on `point` (a stone)."""
  board = np.asarray(board).reshape(-1)
  n = round(board.size ** 0.5)
  colour, stones, liberties = board[point], {point}, set()
  todo = [point]
  while todo:
    p = todo.pop()
    for q in _neighbours(p, n):
      if board[q] == rules_lib.EMPTY:
        liberties.add(q)
      elif board[q] == colour and q not in stones:
        stones.add(q)
        todo.append(q)
  return stones, liberties


def explain_illegal(board: np.ndarray, action: int, player: int) -> str:
  """Why `player` (0 Black, 1 White) may not play `action` on `board`,
  given that the rules forbid it: occupied, a ko retaken at once, or
  suicide."""
  board = np.asarray(board).reshape(-1)
  n = round(board.size ** 0.5)
  vertex = coords.to_gtp(action, n)
  if board[action] != rules_lib.EMPTY:
    owner = SIDES[0 if board[action] == rules_lib.BLACK else 1]
    return f"{vertex} is occupied (a {owner} stone)"
  enemy = rules_lib.WHITE if player == 0 else rules_lib.BLACK
  captures = any(board[q] == enemy and group_liberties(board, q)[1] == {action}
                 for q in _neighbours(action, n))
  if captures:
    return (f"{vertex} retakes the ko at once; play elsewhere first (or "
            "pass), then it may be taken back")
  return f"{vertex} is suicide: your stones there would have no liberty"


def captured(board: np.ndarray, history: list[int] | tuple[int, ...]
             ) -> tuple[int, int]:
  """(stones Black has captured, stones White has captured) in a game of
  `history` (action ids, Black first) that led to `board`.

  Suicide is illegal, so every stone played and gone was captured.
  """
  board = np.asarray(board).reshape(-1)
  pass_action = board.size
  played = [sum(1 for a in history[c::2] if a != pass_action)
            for c in (0, 1)]
  on_board = [int(np.sum(board == rules_lib.BLACK)),
              int(np.sum(board == rules_lib.WHITE))]
  return played[1] - on_board[1], played[0] - on_board[0]


_area_scores = jax.jit(rules_lib.area_scores)


def area(board: np.ndarray) -> tuple[int, int]:
  """(Black's area, White's area): stones plus the empty regions that reach
  only that colour (Tromp-Taylor)."""
  black, white = np.asarray(_area_scores(
      jnp.asarray(np.asarray(board).reshape(-1), jnp.int8)))
  return int(black), int(white)


def result(board: np.ndarray, komi: float) -> str:
  """The area result in SGF's form: "B+3.5", "W+0.5", "0" (a draw)."""
  black, white = area(board)
  margin = black - white - float(komi)
  if margin == 0:
    return "0"
  return f"{'B' if margin > 0 else 'W'}+{abs(margin):g}"


def score_line(board: np.ndarray, komi: float, *, final: bool = False) -> str:
  """"Score so far (area): Black 12, White 9 + 7.5 komi = 16.5; White
  leads by 4.5" ("Final score ...; White wins by 4.5" when `final`)."""
  black, white = area(board)
  head = "Final score (area)" if final else "Score so far (area)"
  return (f"{head}: Black {black}, White {white} + {float(komi):g} komi = "
          f"{white + float(komi):g}; {_words(result(board, komi), final)}")


def _words(sgf_result: str, final: bool) -> str:
  if sgf_result == "0":
    return "a draw"
  side = SIDES[0] if sgf_result[0] == "B" else SIDES[1]
  return f"{side} {'wins' if final else 'leads'} by {sgf_result[2:]}"


def captures_line(board: np.ndarray, history: list[int] | tuple[int, ...]
                  ) -> str:
  """"Captured: Black has taken 2 stones, White 0"."""
  black, white = captured(board, history)
  return f"Captured: Black has taken {black}, White {white}"


def describe_move(action: int, board_size: int) -> str:
  """"D4" or "pass"."""
  return coords.to_gtp(action, board_size)


def board_lines(board: np.ndarray, last_move: int | None = None
                ) -> list[str]:
  """The board as text lines (`games.go.render`), the last stone marked."""
  return render.render(board, last_move=last_move).splitlines()


def legal_points_line(legal: list[int] | tuple[int, ...],
                      board_size: int) -> str:
  """"Legal points (75): A1 A2 ... (or pass)" in column, then row order."""
  pass_action = coords.pass_action(board_size)
  points = sorted((a for a in legal if a != pass_action),
                  key=lambda a: (a % board_size, a // board_size))
  names = " ".join(coords.to_gtp(a, board_size) for a in points)
  return (f"Legal points ({len(points)}): {names or 'none'}; or pass")
