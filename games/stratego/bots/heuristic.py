"""A heuristic Stratego player and a uniformly random one, as pure JAX code.

`heuristic_action(game, obs, legal, key)` reads only the player's observation
(`game.observe(state, player)`), so it knows no more than the player: it
cannot cheat. Every legal action gets a score from vectorised features and the
best is played (ties broken by small noise from `key`):

- attacks: the expected material balance of the fight, `sum_c P(c) w(m, c)`
  over the belief `P` about the defender (`beliefs`), `w` being the
  defender's value when the mover `m` wins, minus the mover's value when it
  loses (both on a tie). Revealed pieces it beats are taken, revealed pieces
  that beat it are left alone; against an unknown piece the odds decide, and a
  piece that has moved is no Bomb or Flag. Fights with unknown pieces also
  earn an information bonus, large for Scouts (they probe);
- safety: a piece's value times the chance that an adjacent enemy beats it
  when attacking (so threatened valuable pieces retreat, and the Marshal
  keeps away from pieces that may be the Spy), before and after the move;
- approach: pieces move towards enemy pieces they expect to beat (Miners
  towards likely Bombs on the back rank), with the enemy pieces near the own
  Flag weighted up;
- flag defence: the last piece (Sergeant or stronger) within two squares of
  the own Flag is reluctant to leave, and fights near the Flag are
  preferred;
- otherwise advance, do not undo the last move, and keep Scouts hidden
  unless a long move gains something.

The deployment phase uses `deploy.deploy_scores`. All features are
[A] or [S, 13] arrays; there are no loops over squares or actions.

A side without movable pieces loses, so the values of a side's last movable
pieces go up (`_values`). The features follow common Stratego heuristics as
in V. de Boer, "Invincible: A Stratego Bot" (MSc thesis, TU Delft, 2007);
the weights and piece values are ours, tuned against the random bot.
"""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games.match import Policy
from games.stratego import config
from games.stratego.bots import beliefs
from games.stratego.bots import deploy
from games.stratego.env import Stratego

#: Material value of each code (index 0 unused; Spy .. Marshal, Bomb, Flag).
VALUES = np.array([0.0, 5.0, 1.0, 3.0, 2.0, 2.5, 3.5, 4.5, 6.0, 8.0, 10.0,
                   1.5, 50.0], np.float32)
INFO_BONUS = 0.3  # Attacking an unknown piece reveals it.
SCOUT_PROBE = 1.2  # Extra information bonus when a Scout does it.
DANGER = 0.6  # Weight of the chance of being attacked by a piece that wins.
APPROACH = 1.0
REACH = 2.5  # Distance scale (squares) of the attraction of targets.
ADVANCE = 0.15
GUARD = 1.0  # The last guards leaving the squares around the own Flag.
GUARDS_KEPT = 1
DEFEND = 1.0  # Winning a fight within two squares of the own Flag.
BACKTRACK = 0.5
SCOUT_REVEAL = 0.2  # A long Scout move shows it is a Scout.
NOISE = 0.05
LAST_PIECES = 40.0  # Extra value of a side's last movable pieces (/ n**2).


def _outcomes() -> np.ndarray:
  """[13, 13]: +1 if attacker code a removes defender d, 0 both, -1 a dies."""
  a = np.arange(13).reshape(-1, 1)
  d = np.arange(13).reshape(1, -1)
  wins = np.where(d == config.BOMB, a == config.MINER,
                  (d == config.FLAG) | (a > d)
                  | ((a == config.SPY) & (d == config.MARSHAL)))
  return np.where(a == d, 0, np.where(wins, 1, -1)).astype(np.int8)


def _tables() -> dict[str, np.ndarray]:
  """Fight tables, attacker code 0..12 by defender code 1..12 (and back)."""
  out = _outcomes()[:, 1:]  # [13 attacker, 12 defender]
  # The enemy piece c attacking our piece m: 1 if it wins, 0.5 on a tie.
  threat = np.where(out > 0, 1.0, np.where(out == 0, 0.5, 0.0))[1:, :]
  threat[config.BOMB - 1:] = 0.0  # Bombs and Flags never attack.
  return {"outcome": out.astype(np.float32),  # [13, 12]
          "win": (out > 0).astype(np.float32),  # [13, 12]
          "threat": np.concatenate([np.zeros((12, 1)), threat], 1
                                   ).astype(np.float32)}  # [12, 13]


_TABLES = _tables()
_SERGEANT = 4  # Sergeants and up guard the Flag.
_MOVABLE = (np.arange(13) >= config.SPY) & (np.arange(13) <= config.MARSHAL)


def _values(view: beliefs.View) -> tuple[jax.Array, jax.Array]:
  """([13], [13]) float32 values of own and enemy pieces by code.

  A side left without movable pieces loses, so its last movable pieces are
  worth more: LAST_PIECES / n**2 is added to each of its n movable pieces.
  """
  movable = jnp.asarray(_MOVABLE)
  own_n = jnp.sum(movable[view.own])
  enemy_n = jnp.sum(view.belief @ movable[1:].astype(jnp.float32))
  base = jnp.asarray(VALUES)
  bonus = lambda n: jnp.where(movable, LAST_PIECES / jnp.maximum(n, 1.0)**2,
                              0.0)
  return base + bonus(own_n), base + bonus(enemy_n)


def _gain(own_values: jax.Array, enemy_values: jax.Array) -> jax.Array:
  """[13, 12]: material balance when our code m attacks enemy code c.

  The defender's value when m wins, minus the mover's when it loses (both
  on a tie).
  """
  out = jnp.asarray(_TABLES["outcome"])
  mover = own_values.reshape(13, 1)
  defender = enemy_values[1:].reshape(1, 12)
  return jnp.where(out > 0, defender,
                   jnp.where(out == 0, defender - mover, -mover))


def _features(game: Stratego, view: beliefs.View):
  """The weighted score terms of moving the own piece on f to square t.

  Returns `(to_terms, from_terms, target_facts, last_guard, mover)`:
  `to_terms[t, own[f]] - from_terms[f, own[f]]` (tables [S, 13] by square
  and mover code) are the terms that depend on the mover;
  `target_facts` [S, 2] bool marks enemy squares and squares away from the
  own Flag and enemies; `last_guard` [S] bool the last pieces guarding the
  Flag; `mover` is the [S, 13] one-hot of the own codes.
  """
  v = game.variant
  geo = beliefs.geometry(v)
  s = v.num_squares
  own_values, enemy_values = _values(view)
  mover = jax.nn.one_hot(view.own, 13, dtype=jnp.float32)  # [S, 13]
  enemy = view.enemy.reshape(s, 1)
  hidden = view.hidden.astype(jnp.float32).reshape(s, 1)
  value = own_values.reshape(1, 13)

  # Expectations over the belief about each enemy piece, one matmul:
  # material balance and win chance of our code m attacking it, and the
  # chance that it beats our code m when it attacks.
  tables = jnp.concatenate([_gain(own_values, enemy_values).T,
                            jnp.asarray(_TABLES["win"]).T,
                            jnp.asarray(_TABLES["threat"])], axis=1)
  gain, p_win, threat = jnp.split(view.belief @ tables, 3, axis=1)  # [S, 13]
  danger = _adjacent_sum(v, threat)  # P(an adjacent enemy beats code m)

  scout = (jnp.arange(13) == config.SCOUT).astype(jnp.float32).reshape(1, 13)
  info = hidden * (INFO_BONUS + SCOUT_PROBE * scout)  # [S, 13]
  _, near2 = _flag_guard_squares(v, view.own)
  fight = gain + info + DEFEND * near2.reshape(s, 1) * p_win  # [S, 13]

  attraction = jnp.where(enemy, jnp.maximum(gain + info, 0.0), 0.0)
  attraction = attraction * (1.0 + 2.0 * near2.reshape(s, 1))
  potential = _potential(v, attraction)

  # After the move the piece stands on t if t was empty or it won there.
  stays = jnp.where(enemy, p_win, 1.0)
  to_terms = {
      "fight": jnp.where(enemy, fight, 0.0),
      "safety": -DANGER * value * stays * danger,
      "approach": APPROACH * stays * potential,
  }
  from_terms = {
      "safety": -DANGER * value * danger,
      "approach": APPROACH * potential,
  }
  movers = (view.own >= _SERGEANT) & (view.own <= config.MARSHAL)
  last_guard = near2 & movers & (jnp.sum(near2 & movers) <= GUARDS_KEPT)
  # Per-square facts about the target square, [S, 2].
  target_facts = jnp.stack([view.enemy, ~(near2 | view.enemy)], axis=1)
  return to_terms, from_terms, target_facts, last_guard, mover


def _potential(variant: config.Variant, attraction: jax.Array) -> jax.Array:
  """[S, 13]: about the best target's attraction discounted by distance.

  max_e c(s, e) a_e is approximated by the power mean
  (sum_e c(s, e)**4 a_e**4)**(1/4), with the closeness c = exp(-d / REACH)
  of the Manhattan distance d. c**4 factors into a rank kernel and a file
  kernel, so the sum is two small matmuls ([H, H] and [W, W]).
  """
  h, w = variant.height, variant.width
  kernel = lambda n: jnp.asarray(np.exp(-4.0 / REACH * np.abs(
      np.arange(n).reshape(-1, 1) - np.arange(n).reshape(1, -1))), jnp.float32)
  x = (attraction**4).reshape(h, w, 13)
  x = jnp.einsum("rR,Rwc->rwc", kernel(h), x)
  x = jnp.einsum("fF,rFc->rfc", kernel(w), x)
  return jnp.sqrt(jnp.sqrt(jnp.maximum(x.reshape(h * w, 13), 0.0)))


def _adjacent_sum(variant: config.Variant, x: jax.Array) -> jax.Array:
  """[S, C] -> [S, C]: sum over each square's orthogonal neighbours, max 1."""
  h, w = variant.height, variant.width
  board = jnp.pad(x.reshape(h, w, -1), ((1, 1), (1, 1), (0, 0)))
  total = (board[:-2, 1:-1] + board[2:, 1:-1] + board[1:-1, :-2]
           + board[1:-1, 2:])
  return jnp.minimum(total.reshape(h * w, -1), 1.0)


def _code_term(game: Stratego, to_term: jax.Array, from_term: jax.Array,
               mover: jax.Array) -> jax.Array:
  """[A]: to_term[t, own[f]] - from_term[f, own[f]] for each move f -> t.

  The tables are [S, 13] (square, mover code); one small matmul makes the
  [S, S] table of (to, from) pairs, read at constant indices (a gather with
  indices that depend on the position is much slower under `vmap`).
  """
  t, s = game.tables, game.variant.num_squares
  pairs = to_term @ mover.T  # [S, S]: [t, f] = to_term[t, own[f]]
  index = np.maximum(t.action_to, 0) * s + t.action_from
  from_value = jnp.sum(from_term * mover, axis=1)  # [S]
  return (pairs.reshape(-1)[jnp.asarray(index)]
          - from_value[jnp.asarray(t.action_from)])


def _move_scores(game: Stratego, view: beliefs.View, noise: jax.Array | None
                 ) -> dict[str, jax.Array]:
  """Score terms of every move, [A] float32 each (illegal ones included).

  With `noise` ([2, S] uniform draws) the terms are summed first and only
  "total" is returned (the cheap path); without, each term separately.
  Square vectors are read at the moves' constant from/to squares: gathers
  of one value per action, which stay cheap under `vmap`.
  """
  t = game.tables
  to_terms, from_terms, target_facts, last_guard, mover = _features(game, view)
  frm, to = t.action_from, np.maximum(t.action_to, 0)  # [A] constants
  rows = beliefs.geometry(game.variant)["rows"]
  forward = np.clip(rows[to] - rows[frm], -1, 1).astype(np.float32)
  far = t.action_dist > 1
  if noise is not None:
    to_terms = {"total": sum(to_terms.values())}
    from_terms = {"total": sum(from_terms.values())}
  zeros = jnp.zeros_like(mover)
  terms = {k: _code_term(game, x, from_terms.get(k, zeros), mover)
           for k, x in to_terms.items()}
  frm, to = jnp.asarray(frm), jnp.asarray(to)
  enemy_to = target_facts[:, 0][to]
  terms["advance"] = (ADVANCE * jnp.asarray(forward)
                      * jnp.where(view.second, -1.0, 1.0))
  terms["guard"] = -GUARD * (last_guard[frm] & target_facts[:, 1][to])
  terms["undo"] = -BACKTRACK * ((frm == view.last_to)
                                & (to == view.last_from))
  terms["scout_reveal"] = -SCOUT_REVEAL * (jnp.asarray(far) & ~enemy_to)
  if noise is None:
    return terms
  tie_break = NOISE * (noise[0][frm] + 0.5 * noise[1][to])
  return {"total": sum(terms.values()) + tie_break}


def play_features(game: Stratego, view: beliefs.View) -> dict[str, jax.Array]:
  """The weighted score terms of every move, each [A] float32.

  Illegal moves get scores too; the caller masks them.
  """
  return _move_scores(game, view, None)


def _play_scores(game: Stratego, view: beliefs.View,
                 noise: jax.Array) -> jax.Array:
  """[A] float32: the sum of the features plus tie-breaking noise.

  `noise` [2, S] uniform: per from-square and per to-square (not per action).
  """
  return _move_scores(game, view, noise)["total"]


def _flag_guard_squares(variant: config.Variant,
                        own: jax.Array) -> tuple[jax.Array, jax.Array]:
  """[S] bool each: squares within Chebyshev distance 1 and 2 of own Flag.

  Both are all False when the player has no Flag (position tests).
  """
  chebyshev = beliefs.geometry(variant)["chebyshev"]
  flag = (own == config.FLAG).astype(jnp.float32)
  near = jnp.asarray(np.stack([chebyshev <= 1, chebyshev <= 2]),
                     jnp.float32) @ flag  # [2, S]
  return near[0] > 0, near[1] > 0


def heuristic_action(game: Stratego, obs: jax.Array, legal: jax.Array,
                     key: chex.PRNGKey) -> jax.Array:
  """The heuristic bot's action in one position.

  Args:
    game: the Stratego game (static under jit).
    obs: [H, W, C] float32, `game.observe(state, player)` of the player to act.
    legal: [A] bool legal-action mask.
    key: PRNG key for tie-breaking and deployment noise.

  Returns:
    [] int32 action, legal whenever `legal` has a True entry.
  """
  chex.assert_shape(obs, game.observation_shape)
  chex.assert_shape(legal, (game.num_actions,))
  view = beliefs.read(game.variant, obs)
  s = game.variant.num_squares
  noise = jax.random.uniform(key, (3, s))
  score = _play_scores(game, view, noise[:2])
  if game.deploy_total:
    place = deploy.deploy_scores(game.variant, view, noise[2])
    place = jnp.concatenate(
        [place, jnp.zeros(game.num_actions - s, jnp.float32)])
    score = jnp.where(view.deploying, place, score)
  return jnp.argmax(jnp.where(legal, score, -jnp.inf)).astype(jnp.int32)


def random_action(game: Stratego, legal: jax.Array,
                  key: chex.PRNGKey) -> jax.Array:
  """[] int32: an action drawn uniformly from the legal ones ([A] bool).

  Draws one index among the legal actions (one random number, not A).
  """
  chex.assert_shape(legal, (game.num_actions,))
  count = jnp.cumsum(legal.astype(jnp.int32))
  pick = jax.random.randint(key, (), 0, jnp.maximum(count[-1], 1))
  return jnp.argmax(count > pick).astype(jnp.int32)


@functools.lru_cache(maxsize=None)
def heuristic_policy(game: Stratego) -> Policy:
  """`heuristic_action` bound to `game`, one object per game (jit caches)."""
  return functools.partial(heuristic_action, game)


@functools.lru_cache(maxsize=None)
def random_policy(game: Stratego) -> Policy:
  """`random_action` bound to `game` as a `(obs, legal, key)` policy."""

  def policy(obs: jax.Array, legal: jax.Array,
             key: chex.PRNGKey) -> jax.Array:
    del obs
    return random_action(game, legal, key)

  return policy
