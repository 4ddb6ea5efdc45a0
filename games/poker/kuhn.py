"""Kuhn poker as pure JAX functions, equivalent to OpenSpiel's `kuhn_poker`.

Rules (two players, OpenSpiel's defaults). The deck holds three cards, J (0),
Q (1) and K (2). Each player antes one chip and is dealt one card; `init`
samples the whole deal. Player 0 acts first and the players alternate:

- action 0, pass: a check, or a fold when facing a bet;
- action 1, bet: a one-chip bet, or a call when facing a bet.

The game ends after pass-pass (showdown for 1 chip), bet-pass or pass-bet-pass
(the folding player loses 1 chip), or bet-bet and pass-bet-bet (showdown for 2
chips). The higher card wins a showdown. At most 3 decisions are taken.

Both actions are legal at every decision, so the only illegal actions are ids
outside {0, 1}. An illegal action forfeits the hand: the acting player folds at
once (even where a pass would have been a check) and loses the chips already in
the pot, and the game ends. Its slot in the betting history stays empty.

`observe(state, player)` equals OpenSpiel's `information_state_tensor(player)`
([11] float32): the observing player one-hot [2], their card one-hot [3], then
the betting sequence, one one-hot row [pass, bet] per action taken [3, 2].
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games import api

PASS = 0
BET = 1
NUM_CARDS = 3
NUM_ACTIONS = 2
MAX_DECISIONS = 3  # pass, bet, pass/bet.
_NUM_PLAYERS = 2
# [6, 2] every ordered deal of two distinct cards.
_DEALS = np.array(list(itertools.permutations(range(NUM_CARDS), _NUM_PLAYERS)),
                  np.int32)


@chex.dataclass(frozen=True)
class KuhnState:
  """A Kuhn poker state; every field is a JAX array."""

  cards: jax.Array  # [2] int32, each player's card: 0 J, 1 Q, 2 K
  history: jax.Array  # [3] int32, betting actions in order, -1 = none
  num_moves: jax.Array  # [] int32, decisions taken so far
  contributions: jax.Array  # [2] int32, chips each player put in the pot
  current_player: jax.Array  # [] int32, meaningless once terminated
  terminated: jax.Array  # [] bool
  returns: jax.Array  # [2] float32, zero until terminated


@dataclasses.dataclass(frozen=True)
class KuhnPoker(api.Game):
  """Two-player Kuhn poker; see the module docstring for the rules."""

  name = "kuhn_poker"
  spiel_game_string = "kuhn_poker"
  tabulable = True

  @property
  def num_actions(self) -> int:
    return NUM_ACTIONS

  @property
  def observation_shape(self) -> tuple[int, ...]:
    return (_NUM_PLAYERS + NUM_CARDS + MAX_DECISIONS * NUM_ACTIONS,)

  @property
  def max_episode_length(self) -> int:
    return MAX_DECISIONS

  def init(self, key: chex.PRNGKey) -> KuhnState:
    """Deals two distinct cards uniformly at random from `key`."""
    # One draw indexes the table of ordered deals; the modulo bias is below
    # 1e-7 and the draw compiles far smaller than a permutation.
    draw = jax.random.bits(key, (), jnp.uint32) % len(_DEALS)
    return self.init_from_deal(jnp.asarray(_DEALS)[draw])

  def init_from_deal(self,
                     cards: jax.Array | np.ndarray | list[int]) -> KuhnState:
    """The state after dealing `cards` ([2] int, distinct, in 0..2).

    `cards[p]` is player p's card, as OpenSpiel's chance outcomes in the order
    they are dealt. The values are not checked (this runs under `jit`).
    """
    cards = jnp.asarray(cards, jnp.int32)
    chex.assert_shape(cards, (_NUM_PLAYERS,))
    return KuhnState(
        cards=cards,
        history=jnp.full((MAX_DECISIONS,), -1, jnp.int32),
        num_moves=jnp.zeros((), jnp.int32),
        contributions=jnp.ones((_NUM_PLAYERS,), jnp.int32),
        current_player=jnp.zeros((), jnp.int32),
        terminated=jnp.zeros((), jnp.bool_),
        returns=jnp.zeros((_NUM_PLAYERS,), jnp.float32),
    )

  def step(self, state: KuhnState, action: jax.Array | int) -> KuhnState:
    """Applies `action` for the player to act; a no-op once terminated.

    An action outside {0, 1} is a fold by the acting player (module docstring).
    """
    action = jnp.asarray(action, jnp.int32)
    player = state.current_player
    opponent = 1 - player
    legal = (action == PASS) | (action == BET)
    bet = legal & (action == BET)
    check_or_fold = legal & (action == PASS)
    facing_bet = state.contributions[player] < state.contributions[opponent]

    contributions = state.contributions.at[player].add(bet.astype(jnp.int32))
    fold = ~legal | (check_or_fold & facing_bet)
    # A call, or the second of two checks, ends the hand in a showdown.
    showdown = (bet & facing_bet) | (
        check_or_fold & ~facing_bet & (state.num_moves == 1))

    seats = jnp.arange(_NUM_PLAYERS)
    # The folder loses what it put in; the stakes are equal at a showdown.
    stake = contributions[player].astype(jnp.float32)
    fold_returns = jnp.where(seats == player, -stake, stake)
    winner = jnp.argmax(state.cards)
    showdown_returns = jnp.where(seats == winner, stake, -stake)
    returns = jnp.where(fold, fold_returns,
                        jnp.where(showdown, showdown_returns, state.returns))

    next_state = state.replace(
        history=state.history.at[state.num_moves].set(
            jnp.where(legal, action, -1)),
        num_moves=state.num_moves + 1,
        contributions=contributions,
        current_player=opponent,
        terminated=fold | showdown,
        returns=returns,
    )
    return jax.tree.map(lambda old, new: jnp.where(state.terminated, old, new),
                        state, next_state)

  def legal_action_mask(self, state: KuhnState) -> jax.Array:
    """[2] bool: pass and bet are always legal (and all at a terminal)."""
    del state
    return jnp.ones((NUM_ACTIONS,), jnp.bool_)

  def observe(self, state: KuhnState, player: jax.Array | int) -> jax.Array:
    """[11] float32, OpenSpiel's information state tensor for `player`."""
    player = jnp.asarray(player, jnp.int32)
    return jnp.concatenate([
        jax.nn.one_hot(player, _NUM_PLAYERS, dtype=jnp.float32),
        jax.nn.one_hot(state.cards[player], NUM_CARDS, dtype=jnp.float32),
        jax.nn.one_hot(state.history, NUM_ACTIONS,
                       dtype=jnp.float32).reshape(-1),
    ])

  def spiel_observation(self, spiel_state: Any, player: int) -> np.ndarray:
    return np.asarray(spiel_state.information_state_tensor(player), np.float32)
