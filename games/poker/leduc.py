"""Leduc poker as pure JAX functions, equivalent to OpenSpiel's `leduc_poker`.

Rules (two players, OpenSpiel's defaults). The deck holds six cards, two suits
of J, Q, K: card ids 0 J1, 1 J2, 2 Q1, 3 Q2, 4 K1, 5 K2 (rank = id // 2). Each
player antes one chip and is dealt one private card; after the first betting
round one public card is turned. `init` samples all three cards at once.

Actions: 0 fold, 1 call (a check when not facing a bet), 2 raise. A raise
first matches the current stake and then adds 2 chips in round 1 and 4 chips in
round 2; at most two raises per round. Fold is legal only when facing a bet.
Player 0 starts both rounds. A round ends after two checks or a call of a
raise; the second round ends in a showdown: a private card pairing the public
card wins, otherwise the higher private rank wins, equal ranks split the pot.
At most 4 decisions per round (check, raise, raise, call), 8 in all.

An illegal action (fold with no bet to face, a third raise in a round, or an id
outside {0, 1, 2}) is a fold by the acting player: it loses the chips already
in the pot, the game ends, and the betting history records a fold.

`observe(state, player)` equals OpenSpiel's `information_state_tensor(player)`
([30] float32): observing player one-hot [2], private card one-hot [6], public
card one-hot [6] (zero until turned), then the betting sequence [2 rounds, 4
slots, 2] with a call as [1, 0], a raise as [0, 1] and a fold as [0, 0].
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

FOLD = 0
CALL = 1
RAISE = 2
NUM_ACTIONS = 3
NUM_CARDS = 6
NUM_ROUNDS = 2
MAX_RAISES = 2
MAX_DECISIONS_PER_ROUND = 4  # check, raise, raise, call.
RAISE_AMOUNTS = (2, 4)  # Per round.
_NUM_PLAYERS = 2
_PUBLIC = 2  # Index of the public card in `LeducState.cards`.
# [120, 3] every ordered deal: player 0's card, player 1's, the public card.
_DEALS = np.array(
    list(itertools.permutations(range(NUM_CARDS), _NUM_PLAYERS + 1)), np.int32)


@chex.dataclass(frozen=True)
class LeducState:
  """A Leduc poker state; every field is a JAX array."""

  cards: jax.Array  # [3] int32: player 0's, player 1's, then the public card
  history: jax.Array  # [2, 4] int32, actions per round and slot, -1 = none
  round: jax.Array  # [] int32, 0 or 1; the public card shows in round 1
  num_round_moves: jax.Array  # [] int32, decisions taken this round
  num_raises: jax.Array  # [] int32, raises this round
  num_calls: jax.Array  # [] int32, calls/checks since the last raise
  stakes: jax.Array  # [] int32, the contribution to match to stay in
  contributions: jax.Array  # [2] int32, chips each player put in the pot
  current_player: jax.Array  # [] int32, meaningless once terminated
  terminated: jax.Array  # [] bool
  returns: jax.Array  # [2] float32, zero until terminated


def _hand_strength(private: jax.Array, public: jax.Array) -> jax.Array:
  """Orders two-card hands as OpenSpiel's `RankHand`: a pair beats no pair.

  Args:
    private: [] int32 card id.
    public: [] int32 card id.

  Returns:
    [] int32, larger is better.
  """
  rank, public_rank = private // 2, public // 2
  high = jnp.maximum(rank, public_rank)
  low = jnp.minimum(rank, public_rank)
  return jnp.where(rank == public_rank, NUM_CARDS**2 + rank,
                   high * NUM_CARDS + low)


@dataclasses.dataclass(frozen=True)
class LeducPoker(api.Game):
  """Two-player Leduc poker; see the module docstring for the rules."""

  name = "leduc_poker"
  spiel_game_string = "leduc_poker"
  tabulable = True

  @property
  def num_actions(self) -> int:
    return NUM_ACTIONS

  @property
  def observation_shape(self) -> tuple[int, ...]:
    return (_NUM_PLAYERS + 2 * NUM_CARDS +
            NUM_ROUNDS * MAX_DECISIONS_PER_ROUND * 2,)

  @property
  def max_episode_length(self) -> int:
    return NUM_ROUNDS * MAX_DECISIONS_PER_ROUND

  def init(self, key: chex.PRNGKey) -> LeducState:
    """Deals both private cards and the public card from `key`."""
    # One draw indexes the table of ordered deals; the modulo bias is below
    # 1e-7 and the draw compiles far smaller than a permutation.
    draw = jax.random.bits(key, (), jnp.uint32) % len(_DEALS)
    return self.init_from_deal(jnp.asarray(_DEALS)[draw])

  def init_from_deal(self,
                     cards: jax.Array | np.ndarray | list[int]) -> LeducState:
    """The state after dealing `cards` ([3] int, distinct, in 0..5).

    `cards` are player 0's card, player 1's card and the public card, i.e.
    OpenSpiel's chance outcomes in the order they are dealt. The public card
    stays hidden until the second round. The values are not checked (this runs
    under `jit`).
    """
    cards = jnp.asarray(cards, jnp.int32)
    chex.assert_shape(cards, (_NUM_PLAYERS + 1,))
    zero = jnp.zeros((), jnp.int32)
    return LeducState(
        cards=cards,
        history=jnp.full((NUM_ROUNDS, MAX_DECISIONS_PER_ROUND), -1, jnp.int32),
        round=zero,
        num_round_moves=zero,
        num_raises=zero,
        num_calls=zero,
        stakes=jnp.ones((), jnp.int32),
        contributions=jnp.ones((_NUM_PLAYERS,), jnp.int32),
        current_player=zero,
        terminated=jnp.zeros((), jnp.bool_),
        returns=jnp.zeros((_NUM_PLAYERS,), jnp.float32),
    )

  def step(self, state: LeducState, action: jax.Array | int) -> LeducState:
    """Applies `action` for the player to act; a no-op once terminated.

    An illegal action is a fold by the acting player (module docstring).
    """
    action = jnp.asarray(action, jnp.int32)
    player = state.current_player
    call = action == CALL
    raise_ = (action == RAISE) & (state.num_raises < MAX_RAISES)
    fold = ~(call | raise_)

    raise_amount = jnp.where(state.round == 0, RAISE_AMOUNTS[0],
                             RAISE_AMOUNTS[1])
    stakes = state.stakes + jnp.where(raise_, raise_amount, 0)
    # A call or a raise brings the player's contribution up to the stakes.
    contributions = state.contributions.at[player].set(
        jnp.where(fold, state.contributions[player], stakes))
    num_raises = state.num_raises + raise_.astype(jnp.int32)
    num_calls = jnp.where(raise_, 0, state.num_calls + call.astype(jnp.int32))
    history = state.history.at[state.round, state.num_round_moves].set(
        jnp.where(fold, FOLD, action))

    round_over = ~fold & (((num_raises == 0) & (num_calls == _NUM_PLAYERS)) |
                          ((num_raises > 0) & (num_calls == _NUM_PLAYERS - 1)))
    showdown = round_over & (state.round == NUM_ROUNDS - 1)
    next_round = round_over & (state.round == 0)

    seats = jnp.arange(_NUM_PLAYERS)
    # The folder loses what it put in; the stakes are equal at a showdown.
    stake = contributions[player].astype(jnp.float32)
    fold_returns = jnp.where(seats == player, -stake, stake)
    strength = jax.vmap(_hand_strength, in_axes=(0, None))(
        state.cards[:_NUM_PLAYERS], state.cards[_PUBLIC])
    sign = jnp.sign(strength[0] - strength[1]).astype(jnp.float32)
    showdown_returns = jnp.stack([sign * stake, -sign * stake])
    returns = jnp.where(fold, fold_returns,
                        jnp.where(showdown, showdown_returns, state.returns))

    next_state = state.replace(
        history=history,
        round=state.round + next_round.astype(jnp.int32),
        num_round_moves=jnp.where(next_round, 0, state.num_round_moves + 1),
        num_raises=jnp.where(next_round, 0, num_raises),
        num_calls=jnp.where(next_round, 0, num_calls),
        stakes=stakes,
        contributions=contributions,
        current_player=jnp.where(next_round, 0, 1 - player),
        terminated=fold | showdown,
        returns=returns,
    )
    return jax.tree.map(lambda old, new: jnp.where(state.terminated, old, new),
                        state, next_state)

  def legal_action_mask(self, state: LeducState) -> jax.Array:
    """[3] bool: fold only facing a bet, call always, raise while < 2 raises."""
    facing_bet = state.stakes > state.contributions[state.current_player]
    mask = jnp.stack([
        facing_bet,
        jnp.ones((), jnp.bool_),
        state.num_raises < MAX_RAISES,
    ])
    return mask | state.terminated

  def observe(self, state: LeducState, player: jax.Array | int) -> jax.Array:
    """[30] float32, OpenSpiel's information state tensor for `player`."""
    player = jnp.asarray(player, jnp.int32)
    public = jax.nn.one_hot(state.cards[_PUBLIC], NUM_CARDS, dtype=jnp.float32)
    # One-hot over (fold, call, raise), dropping fold: call 10, raise 01.
    betting = jax.nn.one_hot(state.history, NUM_ACTIONS,
                             dtype=jnp.float32)[..., 1:]
    return jnp.concatenate([
        jax.nn.one_hot(player, _NUM_PLAYERS, dtype=jnp.float32),
        jax.nn.one_hot(state.cards[player], NUM_CARDS, dtype=jnp.float32),
        jnp.where(state.round > 0, public, jnp.zeros_like(public)),
        betting.reshape(-1),
    ])

  def spiel_observation(self, spiel_state: Any, player: int) -> np.ndarray:
    return np.asarray(spiel_state.information_state_tensor(player), np.float32)
