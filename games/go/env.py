"""`Go`: the game of Go as a `games.api.Game` (rules in `games.go.rules`).

Actions are the points (`games.go.coords`: row-major from the bottom-left,
as in OpenSpiel's `go`) and the pass, `N * N`. An illegal action loses the
game for the player who made it (-1, the other +1) and ends it; the board is
left unchanged.

`observe(state, player)` is [N, N, 6] float32, the same for both players
(Go has no hidden information), seen from the side of the player to move:
its stones, the opponent's, the empty points, the points barred only by
(super)ko, the last move (none after a pass or at the start), and a plane of
ones when Black is to move (komi makes the colours unequal).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games import api
from games.go import rules as rules_lib

NUM_PLANES = 6


@chex.dataclass(frozen=True)
class GoState:
  """A Go position and what the rules need of the game's past."""

  board: jax.Array  # [P] int8, 0 empty, 1 Black, -1 White
  current_player: jax.Array  # [] int32, 0 Black, 1 White
  num_moves: jax.Array  # [] int32, moves played, passes included
  passes: jax.Array  # [] int32, passes in a row just played
  last_move: jax.Array  # [] int32, the last action, -1 at the start
  hashes: jax.Array  # [max_moves + 1, 2] uint32, hash of each position so far
  analysis: rules_lib.Analysis  # of `board`, for the player to move
  terminated: jax.Array  # [] bool
  returns: jax.Array  # [2] float32


@dataclasses.dataclass(frozen=True)
class GoParams:
  """The parameters of `games.make("go", ...)`.

  Attributes:
    board_size: N for an N x N board.
    komi: points White adds to its area.
    max_moves: moves (passes included) after which the game is scored;
      None is 2 N^2, as in OpenSpiel's `go`.
  """

  board_size: int = 9
  komi: float = 7.5
  max_moves: int | None = None


@dataclasses.dataclass(frozen=True)
class Go(api.Game):
  """Go with Tromp-Taylor rules and positional superko (`games.go.rules`)."""

  rules: rules_lib.Rules = rules_lib.Rules()
  name = "go"

  @property
  def board_size(self) -> int:
    return self.rules.board_size

  @property
  def num_points(self) -> int:
    return self.rules.num_points

  @property
  def pass_action(self) -> int:
    return self.rules.num_points

  @property
  def num_actions(self) -> int:
    return self.rules.num_points + 1

  @property
  def observation_shape(self) -> tuple[int, ...]:
    return (self.board_size, self.board_size, NUM_PLANES)

  @property
  def max_episode_length(self) -> int:
    return self.rules.max_moves

  @property
  def spiel_game_string(self) -> str:  # type: ignore[override]
    return (f"go(board_size={self.board_size},komi={float(self.rules.komi)},"
            f"max_game_length={self.rules.max_moves})")

  def init(self, key: chex.PRNGKey) -> GoState:
    del key  # Go has no chance events.
    board = jnp.zeros(self.num_points, jnp.int8)
    hashes = jnp.zeros((self.rules.max_moves + 1, 2), jnp.uint32)
    return GoState(
        board=board, current_player=jnp.int32(0), num_moves=jnp.int32(0),
        passes=jnp.int32(0), last_move=jnp.int32(-1), hashes=hashes,
        analysis=rules_lib.analyse(board, jnp.int8(rules_lib.BLACK), hashes,
                               jnp.int32(1)),
        terminated=jnp.bool_(False), returns=jnp.zeros(2, jnp.float32))

  def from_board(self, board: Any, current_player: int = 0,
                 earlier_boards: Any = ()) -> GoState:
    """A state with `board` on the board ([P] or [N, N], rows from the
    bottom, values 0 / 1 Black / -1 White) and `current_player` to move.

    `earlier_boards` ([K, P]) are positions positional superko must also
    bar, oldest first. Used for set-up positions (SGF AB/AW, tests).

    Raises:
      ValueError: a board of the wrong size or with values other than
        0, 1, -1.
    """
    board = np.asarray(board).reshape(-1)
    earlier = np.asarray(earlier_boards, np.int8).reshape(-1, board.size)
    if board.size != self.num_points or not np.isin(board, (0, 1, -1)).all():
      raise ValueError(f"a {self.board_size}x{self.board_size} board holds "
                       f"{self.num_points} values from (0, 1, -1), got "
                       f"{board.size} values {sorted(set(board.tolist()))}")
    if len(earlier) + 1 > self.rules.max_moves + 1:
      raise ValueError("more earlier boards than max_moves allows")
    boards = np.concatenate([earlier, board[None]]).astype(np.int8)
    return _from_boards(self, jnp.asarray(boards), jnp.int32(current_player))

  def legal_action_mask(self, state: GoState) -> jax.Array:
    mask = jnp.concatenate([state.analysis.legal, jnp.ones(1, bool)])
    return mask | state.terminated

  def step(self, state: GoState, action: jax.Array) -> GoState:
    action = jnp.asarray(action, jnp.int32)
    colour = rules_lib.colour_to_play(state.current_player)
    is_pass = action == self.pass_action
    in_range = (action >= 0) & (action < self.num_points)
    point = jnp.clip(action, 0, self.num_points - 1)
    legal = is_pass | (in_range & state.analysis.legal[point])
    played = rules_lib.play(state.board, state.analysis, colour, point)
    board = jnp.where(is_pass | ~legal, state.board, played)
    num_moves = state.num_moves + 1
    hashes = state.hashes.at[num_moves].set(rules_lib.board_hash(board))
    passes = jnp.where(is_pass, state.passes + 1, 0)
    next_player = 1 - state.current_player
    over = ~legal | (passes >= 2) | (num_moves >= self.rules.max_moves)
    margin = rules_lib.score(board, self.rules.komi)
    outcome = jnp.sign(margin)  # +1 Black wins.
    mover_sign = jnp.where(state.current_player == 0, 1.0, -1.0)
    black_return = jnp.where(legal, outcome, -mover_sign)
    returns = jnp.where(over, jnp.stack([black_return, -black_return]),
                        0.0).astype(jnp.float32)
    new = GoState(
        board=board, current_player=next_player, num_moves=num_moves,
        passes=passes, last_move=action, hashes=hashes,
        analysis=rules_lib.analyse(board, rules_lib.colour_to_play(next_player),
                               hashes, num_moves + 1),
        terminated=over, returns=returns)
    return jax.tree.map(lambda old, n: jnp.where(state.terminated, old, n),
                        state, new)

  def observe(self, state: GoState, player: jax.Array | int) -> jax.Array:
    del player  # Both players see the whole board.
    return planes(state.board, state.current_player, state.analysis.superko,
                  state.last_move)

  def score(self, state: GoState) -> jax.Array:
    """[] float32: Black's area minus White's, less komi (Tromp-Taylor)."""
    return rules_lib.score(state.board, self.rules.komi)

  # --- OpenSpiel: the same action ids; the observation from the history.

  def spiel_observation(self, spiel_state: Any, player: int) -> np.ndarray:
    state = replay_state(self, spiel_state.history())
    return np.asarray(self.observe(state, player))


@functools.partial(jax.jit, static_argnames=("game",))
def _from_boards(game: Go, boards: jax.Array, player: jax.Array) -> GoState:
  """`Go.from_board` after its checks: boards [K + 1, P], the last current."""
  hashes = jnp.zeros((game.rules.max_moves + 1, 2), jnp.uint32).at[
      :boards.shape[0]].set(jax.vmap(rules_lib.board_hash)(boards))
  board = boards[-1]
  return GoState(
      board=board, current_player=player,
      num_moves=jnp.int32(boards.shape[0] - 1), passes=jnp.int32(0),
      last_move=jnp.int32(-1), hashes=hashes,
      analysis=rules_lib.analyse(board, rules_lib.colour_to_play(player),
                                 hashes, jnp.int32(boards.shape[0])),
      terminated=jnp.bool_(False), returns=jnp.zeros(2, jnp.float32))


def planes(board: jax.Array, current_player: jax.Array, superko: jax.Array,
           last_move: jax.Array) -> jax.Array:
  """The observation [N, N, 6] float32 (see the module docstring).

  Args:
    board: [P] int8.
    current_player: [] int, 0 Black, 1 White.
    superko: [P] bool, points barred only by (super)ko.
    last_move: [] int32, the last action (-1 none; the pass shows nothing).
  """
  p = board.shape[-1]
  n = int(round(p ** 0.5))
  colour = rules_lib.colour_to_play(current_player)
  last = jnp.arange(p) == last_move
  return jnp.stack([
      board == colour,
      board == -colour,
      board == rules_lib.EMPTY,
      superko,
      last,
      jnp.full(p, current_player == 0),
  ], axis=-1).astype(jnp.float32).reshape(n, n, NUM_PLANES)


def make_go(board_size: int = 9, komi: float = 7.5,
            max_moves: int | None = None) -> Go:
  """`games.make("go", ...)`; see `GoParams`."""
  if max_moves is None:
    max_moves = 2 * board_size * board_size
  return Go(rules=rules_lib.Rules(board_size=board_size, komi=komi,
                              max_moves=max_moves))


@functools.partial(jax.jit, static_argnums=0)
def jit_step(game: Go, state: GoState, action: jax.Array) -> GoState:
  """`game.step`, compiled once per game (for host loops: GTP, tables)."""
  return game.step(state, action)


@functools.partial(jax.jit, static_argnums=0)
def jit_legal(game: Go, state: GoState) -> jax.Array:
  """`game.legal_action_mask`, compiled once per game."""
  return game.legal_action_mask(state)


def replay_state(game: Go, actions: Any) -> GoState:
  """The state after `actions` from the start (host loop; for tools, not
  hot paths: `games.go.replay` replays whole games in one program).

  Raises:
    ValueError: an action is illegal, naming its move number.
  """
  state = game.init(jax.random.key(0))
  for i, action in enumerate(actions):
    mask = np.asarray(jit_legal(game, state))
    if bool(state.terminated) or not 0 <= int(action) < game.num_actions or (
        not mask[int(action)]):
      raise ValueError(f"move {i + 1} ({int(action)}) is illegal or comes "
                       "after the end of the game")
    state = jit_step(game, state, jnp.int32(action))
  return state
