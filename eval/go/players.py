"""Go players behind the GTP engine (`eval.go.gtp_server`): the protocol a
player implements, and `RandomPlayer`, a uniformly random legal move.

A player only chooses moves; the server owns the game record (board size,
komi, moves, undo, scoring, the clock), checks every move it is given and
plays it. A trained agent plugs in by implementing `GoPlayer` and being
named in `arena.gtp.resolve_player`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np

from games.go import Go, GoState

#: What `GoPlayer.genmove` returns to resign (GTP's `resign`).
RESIGN = -1


class Move(NamedTuple):
  """One move of the game record."""

  player: int  # 0 Black, 1 White
  action: int  # an action id (`games.go.coords`); N * N is the pass


@runtime_checkable
class GoPlayer(Protocol):
  """What the GTP server asks of a player.

  Attributes:
    name: the engine's name for GTP `name` (no version in it).
    version: the engine's version for GTP `version` ("" if it has none).
  """

  name: str
  version: str

  def supports(self, board_size: int) -> bool:
    """Whether the player can play on an N x N board (GTP `boardsize`)."""

  def genmove(self, game: Go, state: GoState, seconds: float | None,
              history: Sequence[Move]) -> int:
    """The move for `state.current_player` to play in `state`.

    Args:
      game: the rules: board size and the komi the controller set. Its
        `max_moves` is the server's, not a training configuration's.
      state: a live position (never terminated) with the player to move;
        `game.legal_action_mask(state)` gives the legal moves (superko
        included), `state.last_move` the previous move. Its `num_moves`
        is not the game's move count (the server pads superko histories):
        use `len(history)`.
      seconds: the time budget for this move (see `gtp_server`'s clock),
        or None when the game has no time limit.
      history: the moves played since the record's start position (the
        empty board, or the setup of a loaded SGF file), oldest first.

    Returns:
      A legal action id (N * N passes), or `RESIGN`. The server answers an
      illegal one with a GTP failure and plays nothing.
    """


@functools.partial(jax.jit, static_argnums=0)
def _random_action(game: Go, state: GoState, seed: jax.Array,
                   stream: jax.Array) -> jax.Array:
  """[] int32: a uniformly random legal point, or the pass if there is none;
  the key is `fold_in(key(seed), stream)`."""
  key = jax.random.fold_in(jax.random.key(seed), stream)
  points = game.legal_action_mask(state)[:game.num_points]
  logits = jnp.where(points, 0.0, -jnp.inf)
  choice = jax.random.categorical(key, logits).astype(jnp.int32)
  return jnp.where(points.any(), choice, jnp.int32(game.pass_action))


class RandomPlayer:
  """Plays a uniformly random legal move other than the pass; passes only
  when no point is legal. Any board size.

  Deterministic: the move for a position depends only on `seed` and how
  many moves the record holds (the key is `fold_in(key(seed), len(history))`),
  so a replayed session plays the same moves.
  """

  name = "arena-random"
  version = "0.1.0"

  def __init__(self, seed: int = 0):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
      raise TypeError(f"seed must be an int, got {seed!r}")
    if not 0 <= seed < 2**31:
      raise ValueError(f"seed must be in [0, 2**31), got {seed}")
    self.seed = int(seed)

  def supports(self, board_size: int) -> bool:
    return 2 <= board_size <= 25

  def genmove(self, game: Go, state: GoState, seconds: float | None,
              history: Sequence[Move]) -> int:
    del seconds  # It answers at once.
    return int(_random_action(game, state, jnp.int32(self.seed),
                              jnp.int32(len(history))))
