"""Stratego rules as pure JAX functions: `init`, `step` and the legal moves.

The rules and every interpretation of them are documented in
`games/stratego/__init__.py`. The legal moves of the player to move are computed
once, at the end of `step`, and kept in the state as bitboards (see
`bitboard.py`): `step` needs them anyway to detect a player without legal
moves, and reading them back makes the legality check of an action free.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games.stratego import bitboard
from games.stratego import chase
from games.stratego import config
from games.stratego import ruleset
from games.stratego import state as state_lib

State = state_lib.State


def _two_square_moves(variant: config.Variant, recent_from: jax.Array,
                      recent_to: jax.Array) -> tuple[jax.Array, jax.Array]:
  """The moves the two-square rule forbids to the player to move.

  Returns (actions, forbidden), [L] each: the moves back from the piece's
  square, by distance, and which of them are forbidden.

  The mover's last three moves are at -6, -4 and -2 in the history. If they
  were made by one piece going back and forth on one line (each starting
  where the previous ended, in alternating directions), the piece may not go
  back again onto a square of the first of them. For a one-square piece that
  is exactly "A-B, B-A, A-B, then not B-A"; a Scout may not end its fourth
  move inside the stretch its first move covered.
  """
  s, w, n = variant.num_squares, variant.width, variant.max_distance
  f1, f2, f3 = recent_from[-6], recent_from[-4], recent_from[-2]
  t1, t2, t3 = recent_to[-6], recent_to[-4], recent_to[-2]
  d1 = _direction(variant, f1, t1)
  d2 = _direction(variant, f2, t2)
  d3 = _direction(variant, f3, t3)
  back = d1 ^ 1  # The opposite direction (config.OPPOSITE).
  on = (f1 >= 0) & (t1 == f2) & (t2 == f3) & (d2 == back) & (d3 == d1)
  # Positions along the line of the moves: the rank for vertical moves.
  line = lambda sq: jnp.where(d1 < 2, *bitboard.divmod_(sq, w))
  lo = jnp.minimum(line(f1), line(t1))
  hi = jnp.maximum(line(f1), line(t1))
  sign = jnp.where((back == 0) | (back == 3), 1, -1)  # Up, right: +1.
  dist = jnp.arange(1, n + 1)
  dest = line(t3) + sign * dist  # [L]
  bad = on & (dest >= lo) & (dest <= hi)
  return (back * n + dist - 1) * s + t3, bad


def _direction(variant: config.Variant, src: jax.Array,
               dst: jax.Array) -> jax.Array:
  """Direction index of the straight move src -> dst."""
  vertical = (bitboard.divmod_(src, variant.width)[1]
              == bitboard.divmod_(dst, variant.width)[1])
  return jnp.where(vertical, jnp.where(dst > src, 0, 1),
                   jnp.where(dst < src, 2, 3))


def play_words(rules: ruleset.Rules, st: State) -> jax.Array:
  """[4 * L, H] uint16: legal moves of the player to move in `st`.

  `st` supplies the board (and its packed copy), the move history and the
  chase fields (all already updated for the last move).
  """
  v, t, p = rules.variant, rules.tables, st.current_player
  words = bitboard.move_words(v, st.occupied, st.movable, st.scouts, p)
  actions, forbidden = [], []
  if rules.more_squares_rule:
    stops = st.occupied[0] | st.occupied[1] | jnp.asarray(bitboard.lakes(v))
    chased, bad = chase.forbidden_moves(t, v, st.rank, st.owner, stops, p, st)
    actions.append(chased)
    forbidden.append(bad)
  if rules.two_square_rule:
    shuttle, bad = _two_square_moves(v, st.recent_from, st.recent_to)
    if actions:  # Cleared once: drop the moves the chase rule clears.
      bad = bad & ~jnp.any((shuttle.reshape(-1, 1) == chased.reshape(1, -1))
                           & forbidden[0].reshape(1, -1), axis=1)
    actions.append(shuttle)
    forbidden.append(bad)
  if actions:
    words = bitboard.clear(v, words, jnp.concatenate(actions),
                           jnp.concatenate(forbidden))
  return words


def _deploy_words(rules: ruleset.Rules, st: State) -> jax.Array:
  """Empty home squares of the player to move in plane 0 (action = square)."""
  v, p = rules.variant, st.current_player
  bits = 1 << np.arange(v.width)
  home = (rules.tables.home.reshape(2, v.height, v.width) * bits).sum(-1)
  free = (jnp.asarray(home.astype(np.uint16))[p]
          & ~(st.occupied[0] | st.occupied[1]))
  plane = jnp.arange(rules.num_planes).reshape(-1, 1) == 0
  return jnp.where(plane, free.reshape(1, -1), bitboard.WORD(0))


def _conclude(rules: ruleset.Rules, st: State, deploying: jax.Array) -> State:
  """Fills `legal`, and ends the game when the player to move is stuck.

  A player with no legal move loses; if the other player has no movable piece
  either, the game is drawn. Then the ply limit (a draw) is applied.
  """
  v, p = rules.variant, st.current_player
  moves = play_words(rules, st)
  if rules.deploy_total:
    words = jnp.where(deploying, _deploy_words(rules, st), moves)
  else:
    words = moves
  any_move = jax.lax.reduce(moves, bitboard.WORD(0), jax.lax.bitwise_or,
                            (0, 1)) != 0
  stuck = ~deploying & ~any_move & ~st.terminated
  other_can = bitboard.can_move(v, st.occupied, st.movable, 1 - p)
  stuck_returns = jnp.where(
      other_can, jnp.where(jnp.arange(2) == p, -1.0, 1.0), 0.0)
  limit = ~deploying & (st.ply >= rules.max_plies) & ~st.terminated & ~stuck
  terminated = bitboard.materialize(st.terminated | stuck | limit)
  returns = jnp.where(stuck, stuck_returns, st.returns).astype(jnp.float32)
  words = jnp.where(terminated, bitboard.full(v, rules.num_planes), words)
  return st.replace(legal=words, terminated=terminated, returns=returns)


def initial_board(rules: ruleset.Rules,
                   key: chex.PRNGKey) -> tuple[jax.Array, jax.Array]:
  """rank [S] int8 and owner [S] int8 at the start of the game."""
  v = rules.variant
  s = v.num_squares
  if rules.deployment == "fixed":
    rank, owner = config.parse_setup(v, rules.setup or config.default_setup(v))
    return jnp.asarray(rank), jnp.asarray(owner)
  if rules.deployment == "phase":
    return jnp.zeros(s, jnp.int8), jnp.full(s, -1, jnp.int8)
  # "random": each player's army uniformly permuted over its home squares.
  size = v.home_rows * v.width
  army = np.zeros(size, np.int8)
  army[:v.num_pieces] = rules.tables.deploy_order
  rank, owner = jnp.zeros(s, jnp.int8), jnp.full(s, -1, jnp.int8)
  for player, k in enumerate(jax.random.split(key)):
    pieces = jax.random.permutation(k, jnp.asarray(army))
    squares = jnp.asarray(config.home_squares(v, player))
    rank = rank.at[squares].set(pieces)
    owner = owner.at[squares].set(
        jnp.where(pieces > 0, player, -1).astype(jnp.int8))
  return rank, owner


def init(rules: ruleset.Rules, key: chex.PRNGKey) -> State:
  """The initial state; with random deployment both setups come from `key`."""
  return init_from_board(rules, *initial_board(rules, key))


def init_from_board(rules: ruleset.Rules, rank: jax.Array,
                    owner: jax.Array) -> State:
  """The state before the first move, with the board `rank`/`owner` ([S] int8).

  Ignores `rules.setup`: one compiled function serves every fixed setup.
  """
  rank = jnp.asarray(rank, jnp.int8)
  owner = jnp.asarray(owner, jnp.int8)
  s, h = rules.variant.num_squares, state_lib.HISTORY
  occupied, movable, scouts = bitboard.pack_board(rules.variant, rank, owner)
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
      position_hash=chase.position_hash(rules.tables, rank, owner),
      legal=jnp.zeros((rules.num_planes, rules.variant.height), bitboard.WORD),
      occupied=occupied, movable=movable, scouts=scouts,
      terminated=jnp.bool_(False), returns=jnp.zeros(2, jnp.float32))
  return _conclude(rules, st, jnp.bool_(rules.deploy_total > 0))


def _fight(attacker: jax.Array, defender: jax.Array) -> jax.Array:
  """Whether `attacker` removes `defender` (ties handled by the caller)."""
  return jnp.where(
      defender == config.BOMB, attacker == config.MINER,
      (defender == config.FLAG) | (attacker > defender)
      | ((attacker == config.SPY) & (defender == config.MARSHAL)))


def battle(attacker: jax.Array, defender: jax.Array) -> jax.Array:
  """The result of `attacker` striking `defender` (piece codes).

  Returns:
    int32: +1 the attacker wins, 0 both are removed (equal ranks), -1 the
    attacker is removed.
  """
  return jnp.where(attacker == defender, 0,
                   jnp.where(_fight(attacker, defender), 1, -1)).astype(
                       jnp.int32)


def step(rules: ruleset.Rules, st: State, action: jax.Array) -> State:
  """Plays `action` for `st.current_player`; see the package docstring.

  Written for `vmap` on a CPU: the board is updated with `where` over whole
  arrays (no scatters), the packed boards and the position hash
  incrementally.
  """
  v, t = rules.variant, rules.tables
  s, n = v.num_squares, v.max_distance
  a = jnp.clip(jnp.asarray(action, jnp.int32), 0, rules.num_actions - 1)
  legal = (a == action) & bitboard.has(v, st.legal, a)
  p = st.current_player
  deploying = (st.deploy_step < rules.deploy_total if rules.deploy_total
               else jnp.bool_(False))

  # A move (also computed while deploying, then discarded).
  plane, src = bitboard.divmod_(a, s)
  direction, dist = bitboard.divmod_(plane, n)
  step_of = jnp.asarray(np.asarray([v.width, -v.width, -1, 1], np.int32))
  dst = jnp.clip(src + (dist + 1) * step_of[direction], 0, s - 1)
  far = dist > 0
  piece, target = st.rank[src], st.rank[dst]
  defender = st.owner[dst]
  attack = defender == 1 - p
  tie = attack & (piece == target)
  wins = ~attack | (~tie & _fight(piece, target))
  held = attack & ~tie & ~wins  # The defender stays.
  flag_taken = attack & (target == config.FLAG)
  dst_rank = jnp.where(wins, piece, jnp.where(held, target, 0)).astype(
      jnp.int8)
  dst_owner = jnp.where(wins, p, jnp.where(held, 1 - p, -1)).astype(jnp.int8)
  dst_revealed = jnp.where(wins, st.revealed[src] | attack | far, held)
  dst_moved = jnp.where(wins, True, held & st.moved[dst])
  src_row, src_bit = bitboard.square_bit(v, src)
  dst_row, dst_bit = bitboard.square_bit(v, dst)
  (src, dst, dst_rank, dst_owner, dst_revealed, dst_moved, src_row, src_bit,
   dst_row, dst_bit, legal) = bitboard.materialize(
       src, dst, dst_rank, dst_owner, dst_revealed, dst_moved, src_row,
       src_bit, dst_row, dst_bit, legal)
  squares = jnp.arange(s)
  at_src, at_dst = squares == src, squares == dst
  put = lambda x, at_dst_value, at_src_value: jnp.where(
      at_dst, at_dst_value, jnp.where(at_src, at_src_value, x))
  rank = put(st.rank, dst_rank, jnp.int8(0))
  owner = put(st.owner, dst_owner, jnp.int8(-1))
  revealed = put(st.revealed, dst_revealed, False)
  moved = put(st.moved, dst_moved, False)
  change = (chase.square_key(t, src, piece, p)
            ^ chase.square_key(t, dst, target, defender)
            ^ chase.square_key(t, dst, dst_rank, dst_owner))
  # The packed boards, [2, H]: the mover's piece leaves src and lands on dst
  # if it wins; a removed defender leaves dst.
  mover = jnp.arange(2).reshape(2, 1) == p
  from_src = jnp.where(mover, bitboard.square_words(v, src_row, src_bit),
                       bitboard.WORD(0))
  dst_word = bitboard.square_words(v, dst_row, dst_bit)
  removed = jnp.where(~mover & attack & ~held, dst_word, bitboard.WORD(0))
  lands = jnp.where(mover & wins, dst_word, bitboard.WORD(0))
  is_scout = piece == config.SCOUT
  occupied = (st.occupied & ~from_src & ~removed) | lands
  movable = (st.movable & ~from_src & ~removed) | lands
  scouts = ((st.scouts & ~from_src & ~removed)
            | jnp.where(is_scout, lands, bitboard.WORD(0)))

  if rules.deploy_total:
    k = rules.variant.num_pieces
    sq = jnp.minimum(a, s - 1)
    code = jnp.asarray(t.deploy_order)[st.deploy_step % k]
    place = squares == sq
    rank = jnp.where(deploying, jnp.where(place, code, st.rank), rank)
    owner = jnp.where(deploying,
                      jnp.where(place, p.astype(jnp.int8), st.owner), owner)
    revealed = jnp.where(deploying, st.revealed, revealed)
    moved = jnp.where(deploying, st.moved, moved)
    change = jnp.where(deploying, chase.square_key(t, sq, code, p), change)
    sq_row, sq_bit = bitboard.materialize(*bitboard.square_bit(v, sq))
    placed = jnp.where(mover, bitboard.square_words(v, sq_row, sq_bit),
                       bitboard.WORD(0))
    can_go = (code >= config.SPY) & (code <= config.MARSHAL)
    occupied = jnp.where(deploying, st.occupied | placed, occupied)
    movable = jnp.where(deploying,
                        st.movable | jnp.where(can_go, placed, 0), movable)
    scouts = jnp.where(
        deploying, st.scouts | jnp.where(code == config.SCOUT, placed, 0),
        scouts)
    deploy_step = st.deploy_step + deploying
    still = deploy_step < rules.deploy_total
    next_player = jnp.where(still, deploy_step // k,
                            jnp.where(deploying, 0, 1 - p))
  else:
    deploy_step, still, next_player = st.deploy_step, jnp.bool_(False), 1 - p

  moving = ~deploying
  push = lambda h, x: jnp.where(moving, jnp.append(h[1:], x), h)
  new_hash = st.position_hash ^ change
  nxt = st.replace(
      rank=rank, owner=owner, revealed=revealed, moved=moved,
      occupied=occupied, movable=movable, scouts=scouts,
      current_player=next_player.astype(jnp.int32),
      ply=st.ply + moving, deploy_step=deploy_step,
      recent_from=push(st.recent_from, src), recent_to=push(st.recent_to, dst),
      position_hash=new_hash,
      terminated=moving & flag_taken,
      returns=jnp.where(moving & flag_taken,
                        jnp.where(jnp.arange(2) == p, 1.0, -1.0), 0.0
                        ).astype(jnp.float32))
  if rules.more_squares_rule:
    fields = chase.update(v, t, st, p, src, dst, attack, owner, new_hash)
    nxt = nxt.replace(**{f: jnp.where(moving, x, getattr(st, f))
                         for f, x in fields.items()})
  # The small fields feed many fusions of the move generator below.
  small = ("current_player", "ply", "deploy_step", "recent_from", "recent_to",
           "chase_square", "chaser", "chase_hashes", "chase_len",
           "position_hash")
  nxt = nxt.replace(**dict(zip(small, bitboard.materialize(
      *(getattr(nxt, f) for f in small)))))
  nxt = _conclude(rules, nxt, still)

  # An illegal action loses at once and leaves the board as it was.
  lost = st.replace(
      terminated=jnp.bool_(True),
      legal=bitboard.full(v, rules.num_planes),
      returns=jnp.where(jnp.arange(2) == p, -1.0, 1.0).astype(jnp.float32))
  nxt = jax.tree.map(lambda x, y: jnp.where(legal, x, y), nxt, lost)
  out = jax.tree.map(lambda x, y: jnp.where(st.terminated, x, y), st, nxt)
  # A terminated state's legal words are all set, so this equals out.legal
  # without reading st.legal (one pass less over the largest field).
  return out.replace(legal=jnp.where(st.terminated | ~legal,
                                     bitboard.full(v, rules.num_planes),
                                     nxt.legal))
