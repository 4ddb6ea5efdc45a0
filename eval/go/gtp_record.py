"""The game record of the GTP engine (`eval.go.gtp_server`): positions,
moves, legality with its reason, undo, and area scores.

The server steps positions with a copy of the game whose komi is fixed, so
that a `komi` command does not recompile the jitted step; komi only enters
scores, which the server computes from the board, and the `game` each
`genmove` receives has the komi the controller set. Its move limit is
`MOVES_PER_POINT * N * N`, far above any real game (a game with more
distinct positions than that answers `? the game is too long`). A rebuilt
position pads its superko history to a power of two (repeating a position,
which changes nothing) so that few shapes compile; hence `state.num_moves`
is not the move count.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

import games
from eval.go.players import Move
from games.go import env as go_env
from games.go import Go, GoState, coords, rules

MOVES_PER_POINT = 16  # The record's move limit is this times N * N.
_STEP_KOMI = 7.5  # The komi of the stepping copy (see the module doc).
_MIN_BUCKET = 16  # Superko histories are padded to powers of two from this.


class GTPFailure(Exception):
  """A command failed: the server answers `?` and this message."""


_step = go_env.jit_step
_legal = go_env.jit_legal


_area_scores = jax.jit(rules.area_scores)


def area_margin(board: np.ndarray, komi: float) -> float:
  """Black's area minus White's, less komi (Tromp-Taylor), of a board [P]."""
  areas = np.asarray(_area_scores(jnp.asarray(board, jnp.int8)))
  return float(areas[0] - areas[1]) - float(komi)


def format_score(margin: float) -> str:
  """GTP's score: "B+3.5", "W+7", or "0" for a draw."""
  if margin == 0:
    return "0"
  return f"{'B' if margin > 0 else 'W'}+{abs(margin):g}"


@dataclasses.dataclass
class GameRecord:
  """The game so far: the start position and every move after it."""

  stepper: Go  # the fixed-komi copy the server steps with
  start_board: np.ndarray  # [P] int8
  start_player: int  # 0 Black, 1 White
  boards: list[np.ndarray]  # [P] int8 after each move; [0] is the start
  states: list[GoState | None]  # the same positions; None: not built yet
  moves: list[Move]

  @classmethod
  def new(cls, board_size: int, board: np.ndarray | None = None,
          player: int = 0) -> GameRecord:
    stepper = games.make("go", board_size=board_size, komi=_STEP_KOMI,
                         max_moves=MOVES_PER_POINT * board_size**2)
    if board is None:
      board = np.zeros(board_size**2, np.int8)
    return cls(stepper, board, player, [board], [None], [])

  @property
  def to_move(self) -> int:
    return 1 - self.moves[-1].player if self.moves else self.start_player

  def live_state(self, player: int) -> GoState:
    """The current position, not over, with `player` to move."""
    state = self.states[-1]
    if (state is not None and not bool(state.terminated)
        and int(state.current_player) == player):
      return state
    current = self.boards[-1]
    earlier = list({b.tobytes(): b for b in self.boards[:-1]}.values())
    size = len(earlier) + 1
    bucket = max(_MIN_BUCKET, 1 << (size - 1).bit_length())
    limit = self.stepper.rules.max_moves - 1
    if size > limit:
      raise GTPFailure(f"the game is too long: {size} distinct positions, "
                       f"the superko record holds {limit}")
    if bucket <= limit:  # Padding repeats a position: few shapes to compile.
      earlier += [current] * (bucket - size)
    state = self.stepper.from_board(
        current, player, np.stack(earlier) if earlier else ())
    if self.moves:
      state = state.replace(last_move=jnp.int32(self.moves[-1].action))
    self.states[-1] = state
    return state

  def play(self, player: int, action: int) -> None:
    """Plays `action` for `player`, or raises GTPFailure if it is illegal."""
    state = self.live_state(player)
    if not bool(np.asarray(_legal(self.stepper, state))[action]):
      n = self.stepper.board_size
      vertex = coords.to_gtp(action, n)
      if self.boards[-1][action] != rules.EMPTY:
        reason = f"{vertex} is occupied"
      elif bool(state.analysis.superko[action]):
        reason = f"{vertex} repeats an earlier position (ko)"
      else:
        reason = f"{vertex} is suicide"
      raise GTPFailure(f"illegal move: {reason}")
    new = _step(self.stepper, state, jnp.int32(action))
    self.boards.append(np.asarray(new.board))
    self.states.append(new)
    self.moves.append(Move(player, action))

  def undo(self) -> None:
    if not self.moves:
      raise GTPFailure("cannot undo: no move to take back")
    self.moves.pop()
    self.boards.pop()
    self.states.pop()

  @property
  def ended(self) -> bool:
    """Whether the last two moves were passes."""
    pass_action = self.stepper.pass_action
    return len(self.moves) >= 2 and all(
        m.action == pass_action for m in self.moves[-2:])


def strings(board: np.ndarray, board_size: int) -> list[list[int]]:
  """The strings (connected stones of one colour) of a board, each sorted."""
  seen, out = set(), []
  for start in map(int, np.flatnonzero(board)):
    if start in seen:
      continue
    group, todo = [], [start]
    seen.add(start)
    while todo:
      point = todo.pop()
      group.append(point)
      row, col = divmod(point, board_size)
      for r, c in ((row + 1, col), (row - 1, col), (row, col - 1),
                   (row, col + 1)):
        other = r * board_size + c
        if (0 <= r < board_size and 0 <= c < board_size
            and other not in seen and board[other] == board[start]):
          seen.add(other)
          todo.append(other)
    out.append(sorted(group))
  return out
