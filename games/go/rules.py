"""Go rules as pure JAX functions over a flat board.

The rules are Tromp and Taylor's ("The Rules of Go", 1995, with area
scoring), as OpenSpiel's `go` plays them, with positional superko:

- Points are action ids (`games.go.coords`); the board is [N * N] int8, 0
  empty, 1 Black, -1 White. Black moves first.
- A move places a stone on an empty point; then every opposing group left
  without a liberty is removed. Suicide (a move whose own group is then left
  without a liberty, capturing nothing) is illegal.
- Positional superko: a move may not recreate a board position (the
  stones, whoever is to move) that occurred before in the game. Positions
  are compared by a 64-bit Zobrist hash (Zobrist 1970), two uint32 lanes
  summed modulo 2**32 over the stones, so that a capture subtracts the hash
  of the captured group; two different positions of one game share a hash
  with odds of about 1e-19 per pair.
- Passing is always legal. The game ends after two passes in a row or after
  `max_moves` moves (passes count); it is then scored by area: each player's
  stones plus the empty regions that reach only that player's stones. White
  adds `komi`. The higher score wins (+1 / -1); equal scores draw.

All functions are pure and work on one board; `vmap` them for a batch. The
analysis of a board (groups, liberties, which points the player to move may
take) is done once per move, in `analyse`, and kept in the state.
"""

from __future__ import annotations

import dataclasses
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games.go import coords

EMPTY, BLACK, WHITE = 0, 1, -1
_OFF_BOARD = 2  # The value of the sentinel point beyond the board's edge.
_ZOBRIST_SEED = 20221027  # Any fixed seed: hashes only need to be stable.


@dataclasses.dataclass(frozen=True)
class Rules:
  """One Go configuration (hashable: a static argument under `jit`).

  Attributes:
    board_size: N, the board is N x N (2..25).
    komi: points added to White's area.
    max_moves: moves (passes included) after which the game is scored.
  """

  board_size: int = 9
  komi: float = 7.5
  max_moves: int = 162

  def __post_init__(self):
    coords.check_board_size(self.board_size)
    if not isinstance(self.max_moves, int) or self.max_moves <= 0:
      raise ValueError(f"max_moves must be a positive int, got "
                       f"{self.max_moves!r}")
    if not isinstance(self.komi, (int, float)) or not np.isfinite(self.komi):
      raise ValueError(f"komi must be a finite number, got {self.komi!r}")

  @property
  def num_points(self) -> int:
    return self.board_size * self.board_size


@chex.dataclass(frozen=True)
class Analysis:
  """A board seen by the player to move (see `analyse`)."""

  labels: jax.Array  # [P] int32, each point's region: its lowest point id
  liberties: jax.Array  # [P] int32, liberties of a stone's group; 0 if empty
  legal: jax.Array  # [P] bool, points the player to move may play
  superko: jax.Array  # [P] bool, points barred only by positional superko


@functools.cache
def _tables(board_size: int) -> tuple[np.ndarray, np.ndarray]:
  """Neighbours [P, 4] (P for off-board) and Zobrist keys [P, 2, 2]."""
  n, p = board_size, board_size * board_size
  neighbours = np.full((p, 4), p, np.int32)
  for point in range(p):
    row, col = divmod(point, n)
    for k, (dr, dc) in enumerate(((1, 0), (-1, 0), (0, -1), (0, 1))):
      r, c = row + dr, col + dc
      if 0 <= r < n and 0 <= c < n:
        neighbours[point, k] = r * n + c
  rng = np.random.default_rng(_ZOBRIST_SEED + board_size)
  zobrist = rng.integers(1, 2**32, size=(p, 2, 2), dtype=np.uint32)
  return neighbours, zobrist


def colour_to_play(player: jax.Array) -> jax.Array:
  """BLACK for player 0, WHITE for player 1 (int8)."""
  return jnp.where(player == 0, BLACK, WHITE).astype(jnp.int8)


def board_hash(board: jax.Array) -> jax.Array:
  """[2] uint32: the Zobrist hash of a board [P] int8 (0 for the empty one)."""
  _, zobrist = _tables(_board_size(board))
  per_point = _stone_hashes(board, jnp.asarray(zobrist))
  return jnp.sum(per_point, axis=0, dtype=jnp.uint32)


def _board_size(board: jax.Array) -> int:
  n = int(round(board.shape[-1] ** 0.5))
  if n * n != board.shape[-1]:
    raise ValueError(f"a board has N * N points, got {board.shape[-1]}")
  return n


def _stone_hashes(board: jax.Array, zobrist: jax.Array) -> jax.Array:
  """[P, 2] uint32: each stone's Zobrist key, 0 on empty points."""
  colour_index = (board == WHITE).astype(jnp.int32)  # 0 Black, 1 White.
  keys = jnp.take_along_axis(zobrist, colour_index[:, None, None], axis=1)[:, 0]
  return jnp.where((board != EMPTY)[:, None], keys, jnp.uint32(0))


def group_labels(board: jax.Array) -> jax.Array:
  """[P] int32: each point's connected region of equal points (stones of one
  colour, or empty points), named by its lowest point id."""
  neighbours, _ = _tables(_board_size(board))
  neighbours = jnp.asarray(neighbours)
  p = board.shape[0]
  padded = jnp.concatenate([board, jnp.array([_OFF_BOARD], board.dtype)])
  same = padded[neighbours] == board[:, None]  # [P, 4]

  def body(carry):
    labels, _ = carry
    padded_labels = jnp.concatenate([labels, jnp.array([p], jnp.int32)])
    lowest = jnp.where(same, padded_labels[neighbours], p).min(axis=1)
    new = jnp.minimum(labels, lowest)
    new = new[new]  # Pointer jumping: a label is a point of the same region.
    return new, jnp.any(new != labels)

  labels, _ = jax.lax.while_loop(lambda c: c[1], body,
                                 (jnp.arange(p, dtype=jnp.int32), True))
  return labels


def _first_of_equal(values: jax.Array, where: jax.Array) -> jax.Array:
  """[P, 4] bool: `where`, and no earlier neighbour (k' < k) with `where`
  has the same value: each group counted once among a point's neighbours."""
  earlier = jnp.tril(jnp.ones((4, 4), bool), k=-1)[None]  # [1, k, k']
  same = (values[:, :, None] == values[:, None, :]) & earlier
  return where & ~jnp.any(same & where[:, None, :], axis=2)


def analyse(board: jax.Array, colour: jax.Array, history: jax.Array,
            num_positions: jax.Array) -> Analysis:
  """Groups, liberties and legal points of `board` for `colour` to move.

  Args:
    board: [P] int8.
    colour: [] int8, BLACK or WHITE, the player to move.
    history: [H, 2] uint32, hashes of the positions of the game so far.
    num_positions: [] int32, how many rows of `history` are filled.
  """
  neighbours, zobrist = (jnp.asarray(t) for t in
                            _tables(_board_size(board)))
  p = board.shape[0]
  labels = group_labels(board)
  stone = board != EMPTY
  empty = ~stone
  # Liberties: each empty point counts once for each distinct group among
  # its neighbours.
  padded_stone_labels = jnp.concatenate(
      [jnp.where(stone, labels, p), jnp.array([p], jnp.int32)])
  around = padded_stone_labels[neighbours]  # [P, 4], P where no stone
  counted = empty[:, None] & _first_of_equal(around, around < p)
  group_libs = jax.ops.segment_sum(
      counted.reshape(-1).astype(jnp.int32), around.reshape(-1),
      num_segments=p + 1)[:p]
  liberties = jnp.where(stone, group_libs[labels], 0)

  padded_board = jnp.concatenate([board, jnp.array([_OFF_BOARD], board.dtype)])
  padded_labels = jnp.concatenate([labels, jnp.array([p], jnp.int32)])
  padded_libs = jnp.concatenate([group_libs, jnp.zeros(1, jnp.int32)])
  nb_board = padded_board[neighbours]  # [P, 4]
  nb_labels = padded_labels[neighbours]  # [P, 4]
  nb_libs = padded_libs[nb_labels]  # [P, 4]
  captures = (nb_board == -colour) & (nb_libs == 1)  # [P, 4]
  not_suicide = (jnp.any(nb_board == EMPTY, axis=1)
                 | jnp.any((nb_board == colour) & (nb_libs > 1), axis=1)
                 | jnp.any(captures, axis=1))
  playable = empty & not_suicide

  # The hash after each move: add the stone, subtract each captured group
  # once (two neighbours may belong to one group).
  stone_hashes = _stone_hashes(board, zobrist)  # [P, 2]
  group_hash = jax.ops.segment_sum(stone_hashes, labels,
                                   num_segments=p)  # [G, 2]
  first = _first_of_equal(nb_labels, captures)
  padded_group_hash = jnp.concatenate(
      [group_hash, jnp.zeros((1, 2), jnp.uint32)])
  removed = jnp.sum(jnp.where(first[:, :, None], padded_group_hash[nb_labels],
                              jnp.uint32(0)), axis=1, dtype=jnp.uint32)
  colour_index = (colour == WHITE).astype(jnp.int32)
  current = jnp.sum(stone_hashes, axis=0, dtype=jnp.uint32)
  after = current[None, :] + zobrist[:, colour_index, :] - removed  # [P, 2]
  seen = jnp.arange(history.shape[0]) < num_positions  # [H]
  repeats = jnp.any(jnp.all(after[:, None, :] == history[None, :, :], axis=2)
                    & seen[None, :], axis=1)  # [P]
  return Analysis(labels=labels, liberties=liberties,
                  legal=playable & ~repeats, superko=playable & repeats)


def play(board: jax.Array, analysis: Analysis, colour: jax.Array,
         point: jax.Array) -> jax.Array:
  """The board after `colour` plays on `point`, a legal point [] int32."""
  neighbours, _ = _tables(_board_size(board))
  p = board.shape[0]
  nb = jnp.asarray(neighbours)[point]  # [4]
  padded_board = jnp.concatenate([board, jnp.array([_OFF_BOARD], board.dtype)])
  padded_labels = jnp.concatenate([analysis.labels,
                                   jnp.array([p], jnp.int32)])
  padded_libs = jnp.concatenate([analysis.liberties, jnp.zeros(1, jnp.int32)])
  captured_groups = jnp.where(
      (padded_board[nb] == -colour) & (padded_libs[nb] == 1),
      padded_labels[nb], -1)  # [4]
  removed = (board == -colour) & jnp.any(
      analysis.labels[:, None] == captured_groups[None, :], axis=1)
  return jnp.where(removed, EMPTY, board).at[point].set(colour)


def area_scores(board: jax.Array) -> jax.Array:
  """[2] float32: Black's and White's area (stones plus empty regions that
  reach only their stones), komi not included."""
  neighbours, _ = _tables(_board_size(board))
  p = board.shape[0]
  labels = group_labels(board)
  padded = jnp.concatenate([board, jnp.array([_OFF_BOARD], board.dtype)])
  nb = padded[jnp.asarray(neighbours)]  # [P, 4]
  empty = board == EMPTY
  reach_black = jax.ops.segment_max(
      (empty & jnp.any(nb == BLACK, axis=1)).astype(jnp.int32), labels,
      num_segments=p)[labels] > 0
  reach_white = jax.ops.segment_max(
      (empty & jnp.any(nb == WHITE, axis=1)).astype(jnp.int32), labels,
      num_segments=p)[labels] > 0
  black = jnp.sum((board == BLACK) | (empty & reach_black & ~reach_white))
  white = jnp.sum((board == WHITE) | (empty & reach_white & ~reach_black))
  return jnp.stack([black, white]).astype(jnp.float32)


def score(board: jax.Array, komi: float) -> jax.Array:
  """[] float32: Black's area minus White's, less `komi`."""
  areas = area_scores(board)
  return areas[0] - areas[1] - jnp.float32(komi)
