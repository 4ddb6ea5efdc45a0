"""Stratego rules as pure JAX functions: `init`, `step` and the legal moves.

The rules and every interpretation of them are documented in
`games/stratego/__init__.py`. The legal moves of the player to move are computed
once, at the end of `step`, and kept in the state as bitboards (see
`bitboard.py`): `step` needs them anyway to detect a player without legal
moves, and reading them back makes the legality check of an action free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import bitboard
from games.stratego import chase
from games.stratego import config
from games.stratego import state as state_lib
from games.stratego import tables as tables_lib

if TYPE_CHECKING:
  from games.stratego.env import Stratego

State = state_lib.State
_OPPOSITE = np.asarray(config.OPPOSITE, np.int32)


def _direction(variant: config.Variant, src: jax.Array,
               dst: jax.Array) -> jax.Array:
  """Direction index of the straight move src -> dst."""
  vertical = (src % variant.width) == (dst % variant.width)
  return jnp.where(vertical, jnp.where(dst > src, 0, 1),
                   jnp.where(dst < src, 2, 3))


def _two_square_forbid(variant: config.Variant, t: tables_lib.Tables,
                       words: jax.Array, recent_from: jax.Array,
                       recent_to: jax.Array) -> jax.Array:
  """Clears the moves the two-square rule forbids to the player to move.

  The mover's last three moves are at -6, -4 and -2 in the history. If they
  were made by one piece going back and forth on one line (each starting
  where the previous ended, in alternating directions), the piece may not go
  back again onto a square of the first of them. For a one-square piece that
  is exactly "A-B, B-A, A-B, then not B-A"; a Scout may not end its fourth
  move inside the stretch its first move covered.
  """
  s, n = variant.num_squares, variant.max_distance
  f1, f2, f3 = recent_from[-6], recent_from[-4], recent_from[-2]
  t1, t2, t3 = recent_to[-6], recent_to[-4], recent_to[-2]
  d1 = _direction(variant, f1, t1)
  d2 = _direction(variant, f2, t2)
  d3 = _direction(variant, f3, t3)
  opp1 = jnp.asarray(_OPPOSITE)[d1]
  on = (f1 >= 0) & (t1 == f2) & (t2 == f3) & (d2 == opp1) & (d3 == d1)
  back = opp1
  dist = jnp.arange(n, dtype=jnp.int32)
  dest = jnp.asarray(t.target)[back, :, jnp.maximum(t3, 0)]  # [L]
  lo, hi = jnp.minimum(f1, t1), jnp.maximum(f1, t1)
  bad = on & (dest >= 0) & (dest >= lo) & (dest <= hi)
  action = (back * n + dist) * s + t3
  return bitboard.clear(variant, words, action, bad)


def play_words(game: Stratego, rank: jax.Array, owner: jax.Array,
               player: jax.Array, st: State) -> jax.Array:
  """[4 * L, H] uint16: legal moves of `player` on the board `rank`/`owner`.

  `st` supplies the move history and chase fields (already updated for the
  last move).
  """
  v, t = game.variant, game.tables
  words = bitboard.move_words(v, rank, owner, player)
  if game.two_square_rule:
    words = _two_square_forbid(v, t, words, st.recent_from, st.recent_to)
  if game.more_squares_rule:
    words = chase.forbid(t, v, words, rank, owner, player, st)
  return words


def _deploy_words(game: Stratego, owner: jax.Array,
                  player: jax.Array) -> jax.Array:
  """Empty home squares of `player` in plane 0 (action id = square)."""
  free = jnp.asarray(game.tables.home)[player] & (owner < 0)
  words = jnp.zeros((game.num_planes, game.variant.height), bitboard.WORD)
  return words.at[0].set(bitboard.pack(game.variant, free))


def _conclude(game: Stratego, st: State, deploying: jax.Array) -> State:
  """Fills `legal`, and ends the game when the player to move is stuck.

  A player with no legal move loses; if the other player has no movable piece
  either, the game is drawn. Then the ply limit (a draw) is applied.
  """
  p = st.current_player
  moves = play_words(game, st.rank, st.owner, p, st)
  if game.deploy_total:
    words = jnp.where(deploying, _deploy_words(game, st.owner, p), moves)
  else:
    words = moves
  stuck = ~deploying & ~jnp.any(moves != 0) & ~st.terminated
  other_can = bitboard.can_move(game.variant, st.rank, st.owner, 1 - p)
  stuck_returns = jnp.where(
      other_can, jnp.where(jnp.arange(2) == p, -1.0, 1.0), 0.0)
  limit = ~deploying & (st.ply >= game.max_plies) & ~st.terminated & ~stuck
  terminated = st.terminated | stuck | limit
  returns = jnp.where(stuck, stuck_returns, st.returns).astype(jnp.float32)
  words = jnp.where(terminated, bitboard.full(game.variant, game.num_planes),
                    words)
  return st.replace(legal=words, terminated=terminated, returns=returns)


def initial_board(game: Stratego,
                   key: chex.PRNGKey) -> tuple[jax.Array, jax.Array]:
  """rank [S] int8 and owner [S] int8 at the start of the game."""
  v = game.variant
  s = v.num_squares
  if game.deployment == "fixed":
    rank, owner = config.parse_setup(v, game.setup or config.default_setup(v))
    return jnp.asarray(rank), jnp.asarray(owner)
  if game.deployment == "phase":
    return jnp.zeros(s, jnp.int8), jnp.full(s, -1, jnp.int8)
  # "random": each player's army uniformly permuted over its home squares.
  size = v.home_rows * v.width
  army = np.zeros(size, np.int8)
  army[:v.num_pieces] = game.tables.deploy_order
  rank, owner = jnp.zeros(s, jnp.int8), jnp.full(s, -1, jnp.int8)
  for player, k in enumerate(jax.random.split(key)):
    pieces = jax.random.permutation(k, jnp.asarray(army))
    squares = jnp.asarray(config.home_squares(v, player))
    rank = rank.at[squares].set(pieces)
    owner = owner.at[squares].set(
        jnp.where(pieces > 0, player, -1).astype(jnp.int8))
  return rank, owner


def init(game: Stratego, key: chex.PRNGKey) -> State:
  """The initial state; with random deployment both setups come from `key`."""
  return init_from_board(game, *initial_board(game, key))


def init_from_board(game: Stratego, rank: jax.Array,
                    owner: jax.Array) -> State:
  """The state before the first move, with the board `rank`/`owner` ([S] int8).

  Ignores `game.setup`: one compiled function serves every fixed setup.
  """
  rank = jnp.asarray(rank, jnp.int8)
  owner = jnp.asarray(owner, jnp.int8)
  s, h = game.variant.num_squares, state_lib.HISTORY
  st = State(
      rank=rank, owner=owner,
      revealed=jnp.zeros(s, bool), moved=jnp.zeros(s, bool),
      current_player=jnp.int32(0), ply=jnp.int32(0),
      deploy_step=jnp.int32(0),
      recent_from=jnp.full(h, -1, jnp.int32),
      recent_to=jnp.full(h, -1, jnp.int32),
      chase_square=jnp.int32(-1), chaser=jnp.int32(-1),
      chase_hashes=jnp.zeros((state_lib.CHASE_HISTORY, 2), jnp.uint32),
      chase_len=jnp.int32(0),
      position_hash=chase.position_hash(game.tables, rank, owner),
      legal=jnp.zeros((game.num_planes, game.variant.height), bitboard.WORD),
      terminated=jnp.bool_(False), returns=jnp.zeros(2, jnp.float32))
  return _conclude(game, st, jnp.bool_(game.deploy_total > 0))


def _fight(attacker: jax.Array, defender: jax.Array) -> jax.Array:
  """Whether `attacker` removes `defender` (ties handled by the caller)."""
  return jnp.where(
      defender == config.BOMB, attacker == config.MINER,
      (defender == config.FLAG) | (attacker > defender)
      | ((attacker == config.SPY) & (defender == config.MARSHAL)))


def step(game: Stratego, st: State, action: jax.Array) -> State:
  """Plays `action` for `st.current_player`; see the package docstring."""
  v, t = game.variant, game.tables
  a = jnp.clip(jnp.asarray(action, jnp.int32), 0, game.num_actions - 1)
  legal = (a == action) & bitboard.has(v, st.legal, a)
  p = st.current_player
  deploying = (st.deploy_step < game.deploy_total if game.deploy_total
               else jnp.bool_(False))

  # A move (also computed while deploying, then discarded).
  src = jnp.asarray(t.action_from)[a]
  dst = jnp.maximum(jnp.asarray(t.action_to)[a], 0)
  far = jnp.asarray(t.action_dist)[a] > 1
  piece, target = st.rank[src], st.rank[dst]
  attack = st.owner[dst] == 1 - p
  tie = attack & (piece == target)
  wins = ~attack | (~tie & _fight(piece, target))
  held = attack & ~tie & ~wins  # The defender stays.
  flag_taken = attack & (target == config.FLAG)
  rank = st.rank.at[src].set(0).at[dst].set(
      jnp.where(wins, piece, jnp.where(held, target, 0)).astype(jnp.int8))
  owner = st.owner.at[src].set(-1).at[dst].set(
      jnp.where(wins, p, jnp.where(held, 1 - p, -1)).astype(jnp.int8))
  revealed = st.revealed.at[src].set(False).at[dst].set(
      jnp.where(wins, st.revealed[src] | attack | far, held))
  moved = st.moved.at[src].set(False).at[dst].set(
      jnp.where(wins, True, held & st.moved[dst]))

  if game.deploy_total:
    n = game.variant.num_pieces
    sq = jnp.minimum(a, v.num_squares - 1)
    code = jnp.asarray(t.deploy_order)[st.deploy_step % n]
    rank = jnp.where(deploying, st.rank.at[sq].set(code), rank)
    owner = jnp.where(deploying, st.owner.at[sq].set(p.astype(jnp.int8)),
                      owner)
    revealed = jnp.where(deploying, st.revealed, revealed)
    moved = jnp.where(deploying, st.moved, moved)
    deploy_step = st.deploy_step + deploying
    still = deploy_step < game.deploy_total
    next_player = jnp.where(still, deploy_step // n,
                            jnp.where(deploying, 0, 1 - p))
  else:
    deploy_step, still, next_player = st.deploy_step, jnp.bool_(False), 1 - p

  moving = ~deploying
  push = lambda h, x: jnp.where(moving, jnp.append(h[1:], x), h)
  new_hash = chase.position_hash(t, rank, owner)
  nxt = st.replace(
      rank=rank, owner=owner, revealed=revealed, moved=moved,
      current_player=next_player.astype(jnp.int32),
      ply=st.ply + moving, deploy_step=deploy_step,
      recent_from=push(st.recent_from, src), recent_to=push(st.recent_to, dst),
      position_hash=new_hash,
      terminated=moving & flag_taken,
      returns=jnp.where(moving & flag_taken,
                        jnp.where(jnp.arange(2) == p, 1.0, -1.0), 0.0
                        ).astype(jnp.float32))
  if game.more_squares_rule:
    fields = chase.update(t, st, p, src, dst, attack, owner, new_hash)
    nxt = nxt.replace(**{k: jnp.where(moving, x, getattr(st, k))
                         for k, x in fields.items()})
  nxt = _conclude(game, nxt, still)

  # An illegal action loses at once and leaves the board as it was.
  lost = st.replace(
      terminated=jnp.bool_(True),
      legal=bitboard.full(v, game.num_planes),
      returns=jnp.where(jnp.arange(2) == p, -1.0, 1.0).astype(jnp.float32))
  nxt = jax.tree.map(lambda x, y: jnp.where(legal, x, y), nxt, lost)
  return jax.tree.map(lambda x, y: jnp.where(st.terminated, x, y), st, nxt)
