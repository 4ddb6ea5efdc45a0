"""The conformance helpers: they pass good games and catch broken ones."""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from games import api, conformance
from games.poker import KuhnPoker


@chex.dataclass(frozen=True)
class _RaceState:
  total: jax.Array  # [] int32
  num_moves: jax.Array  # [] int32
  current_player: jax.Array  # [] int32
  terminated: jax.Array  # [] bool
  returns: jax.Array  # [2] float32


@dataclasses.dataclass(frozen=True)
class _Race(api.Game):
  """A toy game: players alternately add 0, 1 or 2 to a random start (0 or 1).

  After `length` moves player 0 wins 1 if the total is even, else loses 1.
  `bug` names one way to break the `games.api` contract, for the tests.
  """

  name = "race"
  length: int = 4
  bug: str = ""

  @property
  def num_actions(self) -> int:
    return 3

  @property
  def observation_shape(self) -> tuple[int, ...]:
    return (2,)

  @property
  def max_episode_length(self) -> int:
    return self.length - 1 if self.bug == "too_long" else self.length

  def init(self, key: chex.PRNGKey) -> _RaceState:
    return _RaceState(
        total=(jax.random.bits(key, (), jnp.uint32) % 2).astype(jnp.int32),
        num_moves=jnp.zeros((), jnp.int32),
        current_player=jnp.zeros((), jnp.int32),
        terminated=jnp.zeros((), jnp.bool_),
        returns=jnp.zeros((2,), jnp.float32))

  def step(self, state: _RaceState, action: jax.Array) -> _RaceState:
    num_moves = state.num_moves + 1
    total = state.total + action
    terminated = num_moves >= self.length
    sign = jnp.where(total % 2 == 0, 1.0, -1.0)
    returns = jnp.where(terminated, jnp.stack([sign, -sign]), 0.0)
    if self.bug == "not_zero_sum":
      returns = jnp.where(terminated, jnp.stack([sign, sign]), 0.0)
    if self.bug == "pays_early":
      returns = jnp.stack([sign, -sign])
    new = state.replace(total=total, num_moves=num_moves,
                        current_player=1 - state.current_player,
                        terminated=terminated, returns=returns)
    if self.bug == "ignores_termination":
      return new
    return jax.tree.map(lambda old, n: jnp.where(state.terminated, old, n),
                        state, new)

  def legal_action_mask(self, state: _RaceState) -> jax.Array:
    mask = jnp.ones((3,), jnp.bool_)
    if self.bug == "terminal_mask":
      return mask & ~state.terminated
    if self.bug == "stuck":
      return mask & (state.num_moves != 2)
    return mask

  def observe(self, state: _RaceState, player: jax.Array | int) -> jax.Array:
    obs = jnp.stack([state.total, state.num_moves]).astype(jnp.float32)
    if self.bug == "int_obs":
      return obs.astype(jnp.int32)
    return obs + 0 * jnp.asarray(player, jnp.float32)


class _UnhashableRace(_Race):
  __hash__ = None  # type: ignore[assignment]


_NUM_GAMES = 32


def test_a_good_game_passes():
  conformance.check_game(_Race(), num_games=_NUM_GAMES)


@pytest.mark.parametrize("bug, message", [
    ("ignores_termination", "step after termination changed"),
    ("terminal_mask", "not every action is legal at the terminal"),
    ("not_zero_sum", "not zero-sum"),
    ("pays_early", "non-zero returns before the end"),
    ("too_long", "did not end within max_episode_length=3"),
    ("stuck", "no legal action"),
    ("int_obs", r"observe must be float32\[2\], got int32\[2\]"),
])
def test_a_broken_game_fails(bug, message):
  with pytest.raises(AssertionError, match=message):
    conformance.check_game(_Race(bug=bug), num_games=_NUM_GAMES)


def test_an_unhashable_game_fails():
  with pytest.raises(AssertionError, match="not hashable"):
    conformance.check_game(_UnhashableRace(), num_games=_NUM_GAMES)


@dataclasses.dataclass(frozen=True)
class _KuhnThatForgetsItEnded(KuhnPoker):
  """Kuhn poker whose step plays on after the end (a forgotten guard)."""

  def step(self, state, action):
    return super().step(state.replace(terminated=jnp.zeros((), jnp.bool_)),
                        action)


def test_catches_a_real_game_that_plays_on_after_the_end():
  with pytest.raises(AssertionError, match="step after termination changed"):
    conformance.check_game(_KuhnThatForgetsItEnded(), num_games=_NUM_GAMES)


@dataclasses.dataclass(frozen=True)
class _KuhnWithAWrongBit(KuhnPoker):
  """Kuhn poker that writes player 1's card one slot too high."""

  def observe(self, state, player):
    obs = super().observe(state, player)
    return jnp.where(jnp.asarray(player) == 1, jnp.roll(obs, 1), obs)


def test_spiel_reference_check_catches_a_wrong_observation():
  game = _KuhnWithAWrongBit()
  with pytest.raises(AssertionError, match="obs differs from OpenSpiel"):
    conformance.check_against_spiel(
        game, lambda outcomes: np.asarray(outcomes, np.int32),
        game.init_from_deal, num_playthroughs=20)


def test_random_rollout_plays_legal_uniform_actions_and_is_deterministic():
  game, batch = KuhnPoker(), 4000
  rollout = jax.device_get(
      conformance.random_rollout(game, jax.random.key(0), batch))
  t = game.max_episode_length
  chex.assert_shape(rollout.actions, (batch, t))
  chex.assert_shape(rollout.legal_masks, (batch, t + 1, 2))
  chex.assert_shape(rollout.states.returns, (batch, t + 1, 2))
  assert rollout.states.terminated[:, -1].all()
  taken = np.take_along_axis(rollout.legal_masks[:, :-1],
                             rollout.actions[..., None], -1)[..., 0]
  assert taken.all()
  # First decision: pass or bet with probability 1/2 each (sd about 32).
  assert abs(int((rollout.actions[:, 0] == 1).sum()) - batch // 2) < 150
  np.testing.assert_array_equal(rollout.states.returns[:, -1].sum(-1), 0)
  # Same key, same games; another key, other games (same compiled program).
  again = conformance.random_rollout(game, jax.random.key(0), batch)
  other = conformance.random_rollout(game, jax.random.key(1), batch)
  chex.assert_trees_all_equal(again, rollout)
  assert not np.array_equal(other.states.cards, rollout.states.cards)
