"""Leduc poker: reference match against OpenSpiel, worked hands, conventions."""

import jax
import numpy as np
import pytest
import pyspiel

from games import conformance
from games.poker import leduc
from games.poker.leduc import CALL, FOLD, RAISE, LeducPoker

GAME = LeducPoker()
# Card ids: rank = id // 2.
J1, J2, Q1, Q2, K1, K2 = range(6)
F, C, R = FOLD, CALL, RAISE
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
  """OpenSpiel's chance outcomes are card ids; a hand that ended in round 1
  never dealt the public card, so any card left will do (it stays hidden)."""
  outcomes = list(outcomes)
  if len(outcomes) == 2:
    outcomes.append(min(set(range(leduc.NUM_CARDS)) - set(outcomes)))
  return np.asarray(outcomes, np.int32)


def test_matches_openspiel_on_random_playthroughs():
  conformance.check_against_spiel(
      GAME, _deal_from_chance, GAME.init_from_deal, num_playthroughs=3000,
      seed=2)


def test_conformance():
  conformance.check_game(GAME, num_games=256)


def test_registry_builds_the_game():
  import games  # pylint: disable=g-import-not-at-top
  assert games.make("leduc_poker") == GAME
  assert GAME.num_actions == 3 and GAME.observation_shape == (30,)


def test_max_episode_length_is_the_longest_openspiel_game():
  # The betting does not depend on the cards: walk every betting sequence of
  # one deal, dealing the first card left at the public-card chance node.
  spiel_game = pyspiel.load_game("leduc_poker")

  def longest(state):
    if state.is_terminal():
      return 0
    if state.is_chance_node():
      return longest(state.child(state.chance_outcomes()[0][0]))
    return 1 + max(longest(state.child(a)) for a in state.legal_actions())

  assert longest(spiel_game.new_initial_state()) == GAME.max_episode_length == 8


# Returns by hand. Both ante 1; a raise adds 2 in round 1 and 4 in round 2 on
# top of matching the stakes. The winner gets what the loser put in.
@pytest.mark.parametrize("deal, actions, returns", [
    # R1: raise (p0 in 3), raise (p1 in 5), call (p0 in 5). Public J2 pairs
    # player 0's J1. R2: check, check. Player 0 wins player 1's 5 chips.
    ((J1, K1, J2), (R, R, C, C, C), (5, -5)),
    # As above, then R2: raise (p0 in 9), raise (p1 in 13), call (p0 in 13):
    # 1 + 2 + 2 + 4 + 4 = 13 each, the most a hand can win.
    ((J1, K1, J2), (R, R, C, R, R, C), (13, -13)),
    # No pair: K beats Q. R1: check, raise (p1 in 3), call (p0 in 3).
    # R2: check, check. Player 1 wins 3.
    ((Q1, K2, J1), (C, R, C, C, C), (-3, 3)),
    # Equal ranks split the pot: J1 and J2, public K1. R2: raise, call (5 each).
    ((J1, J2, K1), (C, C, R, C), (0, 0)),
    # Folds lose what the folder put in.
    ((K1, J1, Q1), (R, F), (1, -1)),  # Player 1 folds its ante.
    ((K1, J1, Q1), (C, R, F), (-1, 1)),  # Player 0 folds its ante.
    ((K1, J1, Q1), (R, R, F), (-3, 3)),  # Player 0 folds 1 + 2.
    ((K1, J1, Q1), (C, C, C, R, F), (-1, 1)),  # Round-2 fold of the ante.
    ((K1, J1, Q1), (R, C, R, R, F), (-7, 7)),  # 1 + 2 + 4: p0 folds.
])
def test_worked_hands(deal, actions, returns):
  states = _play(deal, actions)
  for state in states[:-1]:
    assert not state.terminated
    np.testing.assert_array_equal(state.returns, [0, 0])
  assert states[-1].terminated
  np.testing.assert_array_equal(states[-1].returns, returns)


def _tensor(player, private, public, round1, round2):
  """An information state tensor written out: bets as 'c'/'r'/'f' strings."""
  out = np.zeros(30, np.float32)
  out[player] = 1
  out[2 + private] = 1
  if public is not None:
    out[8 + public] = 1
  for r, bets in enumerate((round1, round2)):
    for i, bet in enumerate(bets):
      if bet != "f":  # A fold is written as 00.
        out[14 + 8 * r + 2 * i + "cr".index(bet)] = 1
  return out


def test_worked_information_states():
  # Player 0 holds J1, player 1 K1; raise, raise, call; the public card is J2.
  states = _play((J1, K1, J2), (R, R, C, R))
  np.testing.assert_array_equal(_observe(states[2], 0),
                                _tensor(0, J1, None, "rr", ""))
  np.testing.assert_array_equal(_observe(states[3], 1),
                                _tensor(1, K1, J2, "rrc", ""))
  np.testing.assert_array_equal(_observe(states[4], 0),
                                _tensor(0, J1, J2, "rrc", "r"))
  assert int(states[3].current_player) == 0  # Player 0 opens round 2.
  assert int(states[4].current_player) == 1


def test_observation_hides_the_opponent_card_and_the_unturned_public_card():
  # Same history, different hidden cards: player 0's view must not change.
  a = _play((Q1, K1, J1), (C, R))[-1]
  b = _play((Q1, J2, K2), (C, R))[-1]
  np.testing.assert_array_equal(_observe(a, 0), _observe(b, 0))
  # After the turn the public card shows.
  a = _play((Q1, K1, J1), (C, C))[-1]
  b = _play((Q1, K1, K2), (C, C))[-1]
  assert not np.array_equal(_observe(a, 0), _observe(b, 0))


@pytest.mark.parametrize("actions, mask", [
    ((), (False, True, True)),  # Nothing to fold to.
    ((R,), (True, True, True)),
    ((R, R), (True, True, False)),  # Two raises per round at most.
    ((R, R, C), (False, True, True)),  # A fresh round.
    ((C, C, R, R), (True, True, False)),
    ((R, F), (True, True, True)),  # Terminal: everything is legal.
])
def test_legal_actions(actions, mask):
  state = _play((K1, J1, Q1), actions)[-1]
  np.testing.assert_array_equal(_mask(state), mask)


@pytest.mark.parametrize("prefix, illegal, returns", [
    ((), F, (-1, 1)),  # A fold with no bet to face still folds the ante.
    ((R, R), R, (-3, 3)),  # A third raise: player 0 folds its 3 chips.
    ((C, C, R, R), R, (-5, 5)),  # Round 2, third raise: 1 + 4 lost.
    ((C,), 3, (1, -1)),  # Out of range: player 1 folds its ante.
    ((C,), -1, (1, -1)),
])
def test_illegal_action_is_a_fold(prefix, illegal, returns):
  before = _play((K1, J1, Q1), prefix)[-1]
  after = _step(before, illegal)
  folded = _step(before, F)
  assert after.terminated
  np.testing.assert_array_equal(after.returns, returns)
  # Recorded as a fold in the betting history, like a legal fold.
  np.testing.assert_array_equal(after.history, folded.history)


def test_terminal_state_is_absorbing():
  end = _play((K1, J1, Q1), (R, C, C, C))[-1]
  assert end.terminated
  for action in (F, C, R, 9):
    jax.tree.map(np.testing.assert_array_equal, _step(end, action), end)


def test_init_deals_three_distinct_cards_uniformly():
  keys = jax.random.split(jax.random.key(0), 12000)
  cards = np.asarray(jax.jit(jax.vmap(GAME.init))(keys).cards)
  assert ((0 <= cards) & (cards < leduc.NUM_CARDS)).all()
  assert (np.sort(cards, axis=1)[:, 1:] != np.sort(cards, axis=1)[:, :-1]).all()
  for seat in range(3):
    counts = np.bincount(cards[:, seat], minlength=6)
    # 2000 expected per card; sd about 41.
    assert counts.min() > 1800 and counts.max() < 2200, (seat, counts)
  _, counts = np.unique(cards @ np.array([36, 6, 1]), return_counts=True)
  assert len(counts) == 120
