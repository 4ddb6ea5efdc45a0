"""Recorded games replayed in one jitted program (a `vmap` over games of a
`lax.scan` over moves), for building training data from game records."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from games.go import env, rules

PAD = -1  # Marks the moves past the end of a shorter game.


class Replayed(NamedTuple):
  """The positions of B games of up to T moves (numpy arrays).

  Position t is the one before move t; position `lengths[b]` is the last.
  Entries past a game's last position repeat it.
  """

  boards: np.ndarray  # [B, T + 1, P] int8
  players: np.ndarray  # [B, T + 1] int8, 0 Black to move, 1 White
  superko: np.ndarray  # [B, T + 1, P] bool, points barred only by ko
  last_moves: np.ndarray  # [B, T + 1] int32, -1 at the start
  lengths: np.ndarray  # [B] int32, moves in each game
  scores: np.ndarray  # [B] float32, Black's area minus White's, less komi
  ended: np.ndarray  # [B] bool, the game ended by two passes in a row
  # [B] int32: the first illegal move's index (0-based), -1 where every
  # move is legal (only with `on_illegal="mark"`; positions after it are
  # the illegal move skipped and are not to be used).
  first_illegal: np.ndarray | None = None


@functools.partial(jax.jit, static_argnames=("game",))
def _replay(game: env.Go, actions: jax.Array):
  def one(moves):
    def body(state, action):
      playing = action != PAD
      legal = ~state.terminated & game.legal_action_mask(state)[
          jnp.clip(action, 0, game.num_actions - 1)]
      nxt = game.step(state, jnp.maximum(action, 0))
      nxt = jax.tree.map(lambda a, b: jnp.where(playing, b, a), state, nxt)
      return nxt, (nxt, ~playing | legal)

    start = game.init(jax.random.key(0))
    final, (states, legal) = jax.lax.scan(body, start, moves)
    keep = lambda first, rest: jnp.concatenate([first[None], rest])
    return (keep(start.board, states.board),
            keep(start.current_player, states.current_player),
            keep(start.analysis.superko, states.analysis.superko),
            keep(start.last_move, states.last_move),
            legal, rules.score(final.board, game.rules.komi),
            final.passes >= 2)

  return jax.vmap(one)(actions)


def replay(actions: np.ndarray, *, board_size: int = 9,
           komi: float = 7.5, on_illegal: str = "raise") -> Replayed:
  """Replays games given as action ids [B, T] (int, `PAD` after the end).

  Args:
    actions: [B, T] action ids.
    board_size: N.
    komi: for the scores.
    on_illegal: "raise" (an illegal move is an error) or "mark" (each game's
      first illegal move is given in `first_illegal`, for the caller to
      leave the game out).

  Raises:
    ValueError: a move is illegal (with "raise"), naming the game's row and
      move number; an action outside the board.
  """
  if on_illegal not in ("raise", "mark"):
    raise ValueError(f"on_illegal must be 'raise' or 'mark', got "
                     f"{on_illegal!r}")
  actions = np.asarray(actions, np.int32)
  if actions.ndim != 2:
    raise ValueError(f"actions must be [games, moves], got {actions.shape}")
  p = board_size * board_size
  if ((actions < PAD) | (actions > p)).any():
    b, t = np.argwhere((actions < PAD) | (actions > p))[0]
    raise ValueError(f"game {b}, move {t + 1}: no action {actions[b, t]} on "
                     f"a {board_size}x{board_size} board")
  # Room for every move: a recorded game may be longer than 2 N^2.
  game = env.make_go(board_size=board_size, komi=komi,
                     max_moves=max(actions.shape[1], 1) + 1)
  boards, players, superko, last, legal, scores, ended = jax.tree.map(
      np.asarray, _replay(game, jnp.asarray(actions)))
  if on_illegal == "raise" and not legal.all():
    b, t = np.argwhere(~legal)[0]
    raise ValueError(f"game {b}, move {t + 1} ({actions[b, t]}) is illegal")
  first_illegal = None
  if on_illegal == "mark":
    first_illegal = np.where(legal.all(axis=1), -1,
                             np.argmin(legal, axis=1)).astype(np.int32)
  lengths = (actions != PAD).sum(axis=1).astype(np.int32)
  return Replayed(boards=boards, players=players.astype(np.int8),
                  superko=superko, last_moves=last, lengths=lengths,
                  scores=scores, ended=ended, first_illegal=first_illegal)
