"""Kuhn poker: reference match against OpenSpiel, worked hands, conventions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pyspiel

from games import conformance
from games.poker import kuhn
from games.poker.kuhn import BET, PASS, KuhnPoker

GAME = KuhnPoker()
J, Q, K = 0, 1, 2
_step = jax.jit(GAME.step)
_observe = jax.jit(GAME.observe)
_mask = jax.jit(GAME.legal_action_mask)


def _play(deal, actions):
  """The states before and after each action: a list of len(actions) + 1."""
  states = [GAME.init_from_deal(deal)]
  for action in actions:
    states.append(_step(states[-1], action))
  return states


def _deal_from_chance(outcomes):
  return np.asarray(outcomes, np.int32)  # Both cards are always dealt.


def test_matches_openspiel_on_random_playthroughs():
  conformance.check_against_spiel(
      GAME, _deal_from_chance, GAME.init_from_deal, num_playthroughs=2000,
      seed=1)


def test_conformance():
  conformance.check_game(GAME, num_games=256)


def test_registry_builds_the_game():
  import games  # pylint: disable=g-import-not-at-top
  assert games.make("kuhn_poker") == GAME
  assert GAME.num_actions == 2 and GAME.observation_shape == (11,)


def test_max_episode_length_is_the_longest_openspiel_game():
  spiel_game = pyspiel.load_game("kuhn_poker")

  def longest(state):
    if state.is_terminal():
      return 0
    if state.is_chance_node():
      return max(longest(state.child(a)) for a, _ in state.chance_outcomes())
    return 1 + max(longest(state.child(a)) for a in state.legal_actions())

  assert longest(spiel_game.new_initial_state()) == GAME.max_episode_length == 3


# Returns by hand. Both ante 1; a bet or a call adds 1. A fold loses what the
# folder put in, a showdown wins what each put in (1 after pass-pass, else 2).
@pytest.mark.parametrize("deal, actions, returns", [
    ((K, Q), (PASS, PASS), (1, -1)),  # Showdown for the antes: K wins 1.
    ((J, Q), (PASS, PASS), (-1, 1)),
    ((J, K), (BET, PASS), (1, -1)),  # Player 1 folds its ante.
    ((K, J), (PASS, BET, PASS), (-1, 1)),  # Player 0 folds its ante.
    ((J, K), (PASS, BET, BET), (-2, 2)),  # Ante + call each: K wins 2.
    ((Q, J), (BET, BET), (2, -2)),
])
def test_worked_hands(deal, actions, returns):
  states = _play(deal, actions)
  for state in states[:-1]:
    assert not state.terminated
    np.testing.assert_array_equal(state.returns, [0, 0])
  assert states[-1].terminated
  np.testing.assert_array_equal(states[-1].returns, returns)


def test_worked_information_states():
  # Player 0 holds Q, player 1 holds K; player 0 passed, player 1 bet.
  state = _play((Q, K), (PASS, BET))[-1]
  #                       player  card     pass   bet    (3rd action)
  want_p0 = np.array([1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0], np.float32)
  want_p1 = np.array([0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0], np.float32)
  np.testing.assert_array_equal(_observe(state, 0), want_p0)
  np.testing.assert_array_equal(_observe(state, 1), want_p1)
  assert int(state.current_player) == 0


def test_observation_hides_the_opponent_card():
  for mine in (J, Q, K):
    others = [c for c in (J, Q, K) if c != mine]
    a = _play((mine, others[0]), (PASS, BET))[-1]
    b = _play((mine, others[1]), (PASS, BET))[-1]
    np.testing.assert_array_equal(_observe(a, 0), _observe(b, 0))


@pytest.mark.parametrize("prefix, illegal, returns", [
    ((), 2, (-1, 1)),  # Player 0 forfeits its ante, even where a pass checks.
    ((BET,), -1, (1, -1)),  # Player 1 forfeits its ante.
    ((PASS, BET), 7, (-1, 1)),  # Player 0 forfeits its ante (not the bet).
])
def test_illegal_action_is_a_fold(prefix, illegal, returns):
  before = _play((Q, K), prefix)[-1]
  after = _step(before, illegal)
  assert after.terminated
  np.testing.assert_array_equal(after.returns, returns)
  # The forfeit leaves its slot of the betting history empty.
  np.testing.assert_array_equal(
      _observe(after, 0)[5:], _observe(before, 0)[5:])


def test_terminal_state_is_absorbing_and_all_actions_legal():
  end = _play((J, K), (BET, BET))[-1]
  np.testing.assert_array_equal(_mask(end), [True, True])
  for action in (PASS, BET, 5):
    after = _step(end, action)
    jax.tree.map(np.testing.assert_array_equal, after, end)


def test_init_deals_every_ordered_pair_uniformly():
  keys = jax.random.split(jax.random.key(0), 6000)
  cards = np.asarray(jax.jit(jax.vmap(GAME.init))(keys).cards)
  assert (cards[:, 0] != cards[:, 1]).all()
  assert ((0 <= cards) & (cards < kuhn.NUM_CARDS)).all()
  _, counts = np.unique(cards[:, 0] * 3 + cards[:, 1], return_counts=True)
  assert len(counts) == 6
  # 1000 expected per deal; sd about 29.
  assert counts.min() > 850 and counts.max() < 1150, counts


def test_same_key_same_deal():
  key = jax.random.key(3)
  np.testing.assert_array_equal(GAME.init(key).cards, GAME.init(key).cards)


def test_jit_and_vmap_agree_with_a_python_loop():
  deals = jnp.array([[J, K], [K, Q], [Q, J]], jnp.int32)
  actions = jnp.array([[PASS, BET, BET], [BET, PASS, PASS], [PASS, PASS, BET]],
                      jnp.int32)

  def play(deal, actions):
    return jax.lax.scan(lambda s, a: (GAME.step(s, a), None),
                        GAME.init_from_deal(deal), actions)[0]

  batched = jax.jit(jax.vmap(play))(deals, actions)
  for i in range(3):
    looped = _play(deals[i], actions[i])[-1]
    jax.tree.map(np.testing.assert_array_equal,
                 jax.tree.map(lambda x, i=i: x[i], batched), looped)
