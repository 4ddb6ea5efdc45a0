"""Go: drawn positions, OpenSpiel's `go` on random games, symmetries."""

from __future__ import annotations

import jax
import numpy as np
import pyspiel
import pytest

import games
from games import conformance
from games.go import coords, replay, rules, symmetry


def drawn(text: str) -> np.ndarray:
  """A board drawn top row first: X Black, O White, . empty -> [P] int8."""
  rows = [line.split() for line in text.strip().splitlines()]
  values = {"X": 1, "O": -1, ".": 0}
  grid = np.array([[values[c] for c in row] for row in rows], np.int8)
  return grid[::-1].reshape(-1)  # Action ids count rows from the bottom.


def at(vertex: str) -> int:
  return coords.from_gtp(vertex, 5)


@pytest.fixture(scope="module")
def go5():
  return games.make("go", board_size=5)


@pytest.fixture(scope="module")
def step5(go5):
  return jax.jit(go5.step)


def legal(game, state) -> set[str]:
  mask = np.asarray(game.legal_action_mask(state))[:-1]
  return {coords.to_gtp(a, game.board_size) for a in np.flatnonzero(mask)}


def stone(state, vertex: str) -> int:
  return int(np.asarray(state.board)[at(vertex)])


# --- Drawn positions ------------------------------------------------------


def test_a_stone_without_liberties_is_captured(go5, step5):
  state = go5.from_board(drawn("""
      . X O . .
      . . X . .
      . . . . .
      . . . . .
      . . . . ."""), current_player=0)
  after = step5(state, at("D5"))
  assert stone(after, "C5") == 0 and stone(after, "D5") == 1


def test_one_move_captures_two_groups(go5, step5):
  state = go5.from_board(drawn("""
      . . . . .
      . . . . .
      . . . . .
      X O X . .
      O . O X ."""), current_player=0)
  after = step5(state, at("B1"))
  assert (stone(after, "A1"), stone(after, "C1")) == (0, 0)
  assert stone(after, "B2") == -1, "B2 keeps its liberty at B3"
  assert stone(after, "B1") == 1


def test_suicide_is_illegal_for_one_stone_and_for_a_group(go5):
  one = go5.from_board(drawn("""
      . . . . .
      . . . . .
      . . . . .
      O . . . .
      . O . . ."""), current_player=0)
  assert "A1" not in legal(go5, one)
  assert "A1" in legal(go5, go5.from_board(np.asarray(one.board), 1))
  group = go5.from_board(drawn("""
      . . . . .
      . . . . .
      . . . . .
      O O . . .
      X . O . ."""), current_player=0)
  assert "B1" not in legal(go5, group), "A1+B1 would have no liberty"
  assert "B1" in legal(go5, go5.from_board(np.asarray(group.board), 1))


def test_a_capture_is_not_suicide(go5, step5):
  state = go5.from_board(drawn("""
      . . . . .
      . . . . .
      X . . . .
      O X . . .
      . O X . ."""), current_player=0)
  assert "A1" in legal(go5, state)
  after = step5(state, at("A1"))
  assert (stone(after, "A2"), stone(after, "B1")) == (0, 0)
  assert "A1" not in legal(go5, go5.from_board(np.asarray(state.board), 1))


def test_ko_bars_the_immediate_recapture_only(go5, step5):
  state = go5.from_board(drawn("""
      . . . . .
      . . . . .
      . . . . .
      . X O . .
      X O . O ."""), current_player=0)
  state = step5(state, at("C1"))  # Black takes B1.
  assert stone(state, "B1") == 0
  assert "B1" not in legal(go5, state)
  assert np.asarray(state.analysis.superko)[at("B1")]
  assert np.asarray(go5.observe(state, 1))[0, 1, 3] == 1.0  # The ko plane.
  state = step5(state, at("E5"))  # White elsewhere,
  state = step5(state, at("E4"))  # Black elsewhere:
  assert "B1" in legal(go5, state)  # now the recapture is a new position.
  state = step5(state, at("B1"))
  assert stone(state, "C1") == 0 and stone(state, "B1") == -1


def test_area_scoring_counts_stones_and_surrounded_empty_points(go5):
  board = drawn("""
      . X O . X
      X X O . .
      . X O O O
      X X O . .
      . X O . .""")
  # Black: 8 stones + A5, A3, A1. White: 7 stones + D2, E2, D1, E1. The
  # region D5, D4, E4 touches both colours: nobody's.
  np.testing.assert_array_equal(rules.area_scores(board), [11.0, 11.0])
  assert float(rules.score(board, 7.5)) == -7.5
  assert float(rules.score(np.zeros(25, np.int8), 7.5)) == -7.5


def test_two_passes_end_the_game_and_score_it(go5, step5):
  state = go5.init(jax.random.key(0))
  state = step5(state, at("C3"))
  state = step5(state, 25)
  state = step5(state, at("C2"))  # A move between passes resets the count.
  state = step5(state, 25)
  assert not bool(state.terminated)
  state = step5(state, 25)
  assert bool(state.terminated)
  # Black owns the whole board: 25 - 7.5.
  np.testing.assert_array_equal(state.returns, [1.0, -1.0])
  assert float(go5.score(state)) == 17.5


def test_an_illegal_move_loses_and_leaves_the_board(go5, step5):
  state = step5(go5.init(jax.random.key(0)), at("C3"))
  for bad in (at("C3"), 26, -3):
    after = step5(state, bad)
    assert bool(after.terminated)
    np.testing.assert_array_equal(after.returns, [1.0, -1.0])  # White lost.
    np.testing.assert_array_equal(after.board, state.board)


def test_the_game_is_scored_after_max_moves():
  game = games.make("go", board_size=5, max_moves=3)
  step = jax.jit(game.step)
  state = game.init(jax.random.key(0))
  for vertex in ("C3", "A1", "B2"):
    assert not bool(state.terminated)
    state = step(state, at(vertex))
  assert bool(state.terminated)
  # Two black stones, one white, no territory: 2 - 1 - 7.5, White wins.
  assert float(game.score(state)) == -6.5
  np.testing.assert_array_equal(state.returns, [-1.0, 1.0])


def test_the_game_follows_the_api_contract(go5):
  conformance.check_game(go5, num_games=32)


# --- OpenSpiel's go on random games ------------------------------------------


def _compare_with_spiel(game, num_games: int, seed: int) -> dict[str, int]:
  """Plays random legal games in our engine and replays them in OpenSpiel.

  Returns counts; raises AssertionError at the first difference that is not
  positional superko (OpenSpiel's go bars only the immediate ko recapture).
  """
  rollout = jax.tree.map(np.asarray, conformance.random_rollout(
      game, jax.random.key(seed), num_games))
  spiel_game = pyspiel.load_game(game.spiel_game_string)
  n, p = game.board_size, game.num_points
  counts = dict(steps=0, superko_states=0, captures=0, games=num_games)
  for i in range(num_games):
    state = spiel_game.new_initial_state()
    for t in range(game.max_episode_length + 1):
      where = f"game {i}, move {t}"
      over = bool(rollout.states.terminated[i, t])
      assert state.is_terminal() == over, where
      if over:
        np.testing.assert_array_equal(state.returns(),
                                      rollout.states.returns[i, t], where)
        break
      planes = np.asarray(state.observation_tensor(0)).reshape(4, p)
      np.testing.assert_array_equal(planes[0] - planes[1],
                                    rollout.states.board[i, t], where)
      assert state.current_player() == rollout.states.current_player[i, t]
      theirs = np.zeros(p + 1, bool)
      theirs[state.legal_actions()] = True
      ours = rollout.legal_masks[i, t]
      assert not (ours & ~theirs).any(), (
          f"{where}: we allow {np.flatnonzero(ours & ~theirs)}")
      only_theirs = theirs & ~ours
      if only_theirs.any():
        barred = np.append(rollout.states.analysis.superko[i, t], False)
        assert (only_theirs <= barred).all(), (
            f"{where}: we bar {np.flatnonzero(only_theirs)}")
        counts["superko_states"] += 1
      stones = np.count_nonzero(planes[2] == 0)
      state.apply_action(int(rollout.actions[i, t]))
      after = np.asarray(state.observation_tensor(0)).reshape(4, p)
      counts["captures"] += np.count_nonzero(after[2] == 0) < stones + (
          rollout.actions[i, t] != p)
      counts["steps"] += 1
  del n
  return counts


@pytest.mark.parametrize("board_size,num_games", [(9, 2000), (5, 1000)])
def test_random_games_agree_with_openspiel(board_size, num_games):
  game = games.make("go", board_size=board_size)
  counts = _compare_with_spiel(game, num_games, seed=board_size)
  # The games exercised what they are meant to.
  assert counts["captures"] > num_games
  assert counts["superko_states"] >= 1, counts


def test_a_superko_move_would_repeat_an_earlier_position():
  """Where OpenSpiel allows a move our rules bar, OpenSpiel's own board
  after that move equals a board earlier in the game."""
  game = games.make("go", board_size=5)
  rollout = jax.tree.map(np.asarray, conformance.random_rollout(
      game, jax.random.key(5), 300))
  spiel_game = pyspiel.load_game(game.spiel_game_string)
  checked = 0
  for i in range(300):
    state = spiel_game.new_initial_state()
    seen = [np.asarray(state.observation_tensor(0))[:50].copy()]
    for t in range(game.max_episode_length):
      if rollout.states.terminated[i, t]:
        break
      theirs = set(state.legal_actions())
      for point in np.flatnonzero(rollout.states.analysis.superko[i, t]):
        if point in theirs:  # Not a simple ko: OpenSpiel allows it.
          child = state.child(int(point))
          board = np.asarray(child.observation_tensor(0))[:50]
          assert any(np.array_equal(board, s) for s in seen), (i, t, point)
          checked += 1
      state.apply_action(int(rollout.actions[i, t]))
      seen.append(np.asarray(state.observation_tensor(0))[:50].copy())
  assert checked >= 1


# --- Replays, coordinates, symmetries ------------------------------------------


def test_replay_gives_every_position_and_names_an_illegal_move():
  moves = [at("C3"), at("C4"), 25, 25]
  padded = np.array([moves + [replay.PAD], [at("A1"), replay.PAD, replay.PAD,
                                             replay.PAD, replay.PAD]])
  out = replay.replay(padded, board_size=5)
  np.testing.assert_array_equal(out.lengths, [4, 1])
  assert out.boards[0, 2, at("C4")] == -1 and out.boards[0, 0].sum() == 0
  np.testing.assert_array_equal(out.players[0, :4], [0, 1, 0, 1])
  np.testing.assert_array_equal(out.ended, [True, False])
  np.testing.assert_array_equal(out.scores, [-7.5, 25 - 7.5])
  with pytest.raises(ValueError, match="game 0, move 2"):
    replay.replay(np.array([[at("C3"), at("C3")]]), board_size=5)
  with pytest.raises(ValueError, match="no action 99"):
    replay.replay(np.array([[99]]), board_size=5)


def test_gtp_vertices():
  assert coords.to_gtp(0, 9) == "A1" and coords.to_gtp(80, 9) == "J9"
  assert coords.from_gtp("j9", 9) == 80 and coords.from_gtp("PASS", 9) == 81
  assert coords.from_gtp("D4", 19) == 3 * 19 + 3
  for bad in ("I3", "Z1", "A10", "A0", "", "4D"):
    with pytest.raises(ValueError):
      coords.from_gtp(bad, 9)


def test_symmetries_form_the_dihedral_group():
  perm = symmetry.point_permutation(9)
  p = np.arange(81)
  assert np.array_equal(perm[0], p)
  assert len({tuple(x) for x in perm}) == 8
  for s in range(8):
    assert np.array_equal(perm[symmetry.inverse(s, 9)][perm[s]], p)
  # A quarter turn moves A1 to another corner; four of them are the identity.
  assert perm[1][0] in (8, 72)
  four = p
  for _ in range(4):
    four = perm[1][four]
  assert np.array_equal(four, p)


def test_rules_commute_with_every_symmetry():
  game = games.make("go", board_size=9)
  step, mask_of = jax.jit(game.step), jax.jit(game.legal_action_mask)
  score = jax.jit(game.score)
  rollout = jax.tree.map(np.asarray, conformance.random_rollout(
      game, jax.random.key(3), 4, num_steps=60))
  for b in range(4):
    board = rollout.states.board[b, -1]
    player = int(rollout.states.current_player[b, -1])
    base = game.from_board(board, player)
    mask = np.asarray(mask_of(base))
    for s in range(8):
      moved = symmetry.transform_points(board, s, 9)
      state = game.from_board(moved, player)
      np.testing.assert_array_equal(
          np.asarray(mask_of(state)),
          symmetry.transform_policy(mask, s, 9))
      assert float(score(state)) == float(score(base))
      a = 40 if mask[40] else int(np.flatnonzero(mask)[0])
      np.testing.assert_array_equal(
          np.asarray(step(state, symmetry.transform_actions(a, s, 9))
                     .board),
          symmetry.transform_points(np.asarray(step(base, a).board), s,
                                    9))
