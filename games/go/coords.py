"""Points, actions and their names on an N x N Go board.

Action ids, as in OpenSpiel's `go`: point (row, col) is `row * N + col`,
row 0 being the bottom row (GTP row 1) and column 0 the left column (GTP
"A"); the pass is `N * N`. GTP vertices ("D4", "pass") name the column by a
letter, skipping I (GTP version 2, section 2.11), and the row by its number
from the bottom. sgfmill's moves are the same (row, col) pairs, `None` being
its pass.
"""

from __future__ import annotations

MAX_BOARD_SIZE = 25  # GTP's limit: the column letters A..Z less I.
_COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"


def pass_action(board_size: int) -> int:
  return board_size * board_size


def check_board_size(board_size: int) -> None:
  """Raises ValueError unless 2 <= board_size <= 25."""
  if not isinstance(board_size, int) or not 2 <= board_size <= MAX_BOARD_SIZE:
    raise ValueError(f"board size must be an integer from 2 to "
                     f"{MAX_BOARD_SIZE}, got {board_size!r}")


def to_gtp(action: int, board_size: int) -> str:
  """"D4" for a point, "pass" for the pass.

  Raises:
    ValueError: `action` is not an action id of this board.
  """
  action = int(action)
  if action == pass_action(board_size):
    return "pass"
  if not 0 <= action < board_size * board_size:
    raise ValueError(f"no action {action} on a {board_size}x{board_size} "
                     "board")
  row, col = divmod(action, board_size)
  return f"{_COLUMNS[col]}{row + 1}"


def from_gtp(vertex: str, board_size: int) -> int:
  """The action id of a GTP vertex ("d4", "D4", "PASS"; case-insensitive).

  Raises:
    ValueError: `vertex` is not a point of this board or "pass", with the
      reason.
  """
  text = vertex.strip().upper()
  if text == "PASS":
    return pass_action(board_size)
  if len(text) < 2 or text[0] not in _COLUMNS or not text[1:].isdigit():
    raise ValueError(f"{vertex!r} is not a vertex (a letter A-Z without I "
                     "and a row number, e.g. D4, or 'pass')")
  col, row_from_bottom = _COLUMNS.index(text[0]), int(text[1:])
  if col >= board_size or not 1 <= row_from_bottom <= board_size:
    raise ValueError(f"{vertex!r} is off the {board_size}x{board_size} board")
  return (row_from_bottom - 1) * board_size + col


def to_sgfmill(action: int, board_size: int) -> tuple[int, int] | None:
  """sgfmill's move: (row, col), or None for the pass."""
  action = int(action)
  if action == pass_action(board_size):
    return None
  if not 0 <= action < board_size * board_size:
    raise ValueError(f"no action {action} on a {board_size}x{board_size} "
                     "board")
  return divmod(action, board_size)


def from_sgfmill(move: tuple[int, int] | None, board_size: int) -> int:
  """The action id of an sgfmill move (None is the pass)."""
  if move is None:
    return pass_action(board_size)
  row, col = move
  if not (0 <= row < board_size and 0 <= col < board_size):
    raise ValueError(f"sgf move {move} is off the {board_size}x{board_size} "
                     "board")
  return row * board_size + col
