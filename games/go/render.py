"""A Go board as text: the picture GTP's `showboard` and human play show.

  render(board, last_move=D5's id) on 9x9:

       A B C D E F G H J
     9 . . . . . . . . . 9
     8 . . . . . . . . . 8
     7 . . + . . . + . . 7
     6 . . . . . . . . . 6
     5 . . .(X)O . . . . 5
     4 . . . . . . . . . 4
     3 . . + . . . + . . 3
     2 . . . . . . . . . 2
     1 . . . . . . . . . 1
       A B C D E F G H J

X is Black, O White, `.` an empty point and `+` an empty star point (hoshi);
the last move's stone is in parentheses. Columns are lettered without I and
rows numbered from the bottom, as GTP names points (`games.go.coords`), so
the top row is N. Pure functions of a board array: no I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from games.go import coords

BLACK_STONE, WHITE_STONE, EMPTY_POINT, STAR_POINT = "X", "O", ".", "+"
_SYMBOLS = {1: BLACK_STONE, -1: WHITE_STONE, 0: EMPTY_POINT}


def star_points(board_size: int) -> frozenset[int]:
  """The action ids of the star points (hoshi) of an N x N board.

  The usual ones: none below 7x7; the four points on the 3-3 lines up to
  11x11 and on the 4-4 lines from 12x12; the centre on odd boards; the
  side midpoints on odd boards from 15x15 (19x19 has nine).
  """
  coords.check_board_size(board_size)
  n = board_size
  if n < 7:
    return frozenset()
  edge = 2 if n <= 11 else 3
  lines = [edge, n - 1 - edge]
  if n % 2 and n >= 15:
    lines.append(n // 2)
  points = {r * n + c for r in lines for c in lines}
  if n % 2:
    points.add((n // 2) * n + n // 2)
  return frozenset(points)


def render(board: Any, *, last_move: int | None = None,
           hoshi: bool = True) -> str:
  """The board as lines of text (no trailing newline); see the module doc.

  Args:
    board: [P] or [N, N] (rows from the bottom), 0 empty, 1 Black, -1 White;
      any array-like (numpy, JAX, nested lists).
    last_move: the action id of the last move, whose stone is shown in
      parentheses; None, -1, the pass or an empty point mark nothing.
    hoshi: show empty star points as `+`.

  Raises:
    ValueError: the board is not N x N (2 <= N <= 25) or holds values other
      than 0, 1 and -1.
  """
  flat = np.asarray(board).reshape(-1)
  n = round(flat.size ** 0.5)
  if n * n != flat.size or not 2 <= n <= coords.MAX_BOARD_SIZE:
    raise ValueError(f"a board has N * N points for N from 2 to "
                     f"{coords.MAX_BOARD_SIZE}, got {flat.size}")
  if not np.isin(flat, (0, 1, -1)).all():
    raise ValueError(f"board values must be 0, 1 or -1, got "
                     f"{sorted(set(flat.tolist()))}")
  stars = star_points(n) if hoshi else frozenset()
  marked = (last_move if last_move is not None and 0 <= last_move < n * n
            and flat[last_move] != 0 else None)
  letters = [coords.to_gtp(c, n)[0] for c in range(n)]
  header = "   " + " ".join(letters)
  lines = [header]
  for row in range(n - 1, -1, -1):
    line = f"{row + 1:>2}"
    for col in range(n):
      point = row * n + col
      if point == marked:
        line += "("
      elif col > 0 and point - 1 == marked:
        line += ")"
      else:
        line += " "
      value = int(flat[point])
      line += (STAR_POINT if value == 0 and point in stars
               else _SYMBOLS[value])
    line += ")" if marked == row * n + n - 1 else " "
    lines.append(f"{line}{row + 1}")
  lines.append(header)
  return "\n".join(lines)
