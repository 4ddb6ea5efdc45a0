"""Ratings: win/draw matrices, OpenSpiel's Elo, bootstrap, Nash averaging."""

import math

import numpy as np
import pytest

from eval import ratings

R = ratings.Result


def _games(a, b, wins, draws=0, losses=0):
  return ([R(a, b, 1.0)] * wins + [R(a, b, 0.5)] * draws +
          [R(a, b, 0.0)] * losses)


def test_result_from_returns():
  assert ratings.result_from_returns(0, 1, (2.0, -2.0)) == R(0, 1, 1.0)
  assert ratings.result_from_returns(0, 1, (-1.0, 1.0)) == R(0, 1, 0.0)
  assert ratings.result_from_returns(1, 0, (0.0, 0.0)) == R(1, 0, 0.5)


def test_outcome_matrices_by_hand():
  # 0 beats 1 twice and loses once; 1 and 2 draw twice; 2 beats 0 once.
  games = _games(0, 1, 2, 0, 1) + _games(2, 1, 0, 2) + _games(2, 0, 1)
  wins, draws = ratings.outcome_matrices(3, games)
  np.testing.assert_array_equal(wins, [[0, 2, 0], [1, 0, 0], [1, 0, 0]])
  np.testing.assert_array_equal(draws, [[0, 0, 0], [0, 0, 2], [0, 2, 0]])


def test_winner_is_rated_above_loser_by_the_bradley_terry_ratio():
  wins, draws = ratings.outcome_matrices(2, _games(0, 1, 10))
  elo = ratings.elo(wins, draws)
  # OpenSpiel adds 0.01 to every cell; for two players the MM fixed point is
  # gamma_0 / gamma_1 = 10.01 / 0.01.
  assert elo[0] > elo[1]
  assert elo[0] - elo[1] == pytest.approx(400 * math.log10(1001), abs=0.01)
  assert elo.sum() == pytest.approx(0.0, abs=1e-9)


def test_draws_count_half():
  wins, draws = ratings.outcome_matrices(2, _games(0, 1, 2, draws=2))
  elo = ratings.elo(wins, draws)
  assert elo[0] - elo[1] == pytest.approx(400 * math.log10(3.01 / 1.01),
                                          abs=0.01)


def test_symmetric_results_give_equal_ratings():
  games = (_games(0, 1, 5, 2, 5) + _games(1, 2, 3, 0, 3) +
           _games(2, 0, 4, 4, 4))
  elo = ratings.elo(*ratings.outcome_matrices(3, games))
  np.testing.assert_allclose(elo, 0.0, atol=1e-6)


def test_bootstrap_interval():
  rng = np.random.default_rng(0)
  # Deterministic data: every resample is the same, so the interval is a point.
  matrices = ratings.outcome_matrices(2, _games(0, 1, 8))
  low, high = ratings.bootstrap_elo(*matrices, rng, num_resamples=20)
  point = ratings.elo(*matrices)
  np.testing.assert_allclose(low, point, atol=1e-6)
  np.testing.assert_allclose(high, point, atol=1e-6)
  # Mixed results: a proper interval around the estimate, repeatable by seed.
  matrices = ratings.outcome_matrices(
      3, _games(0, 1, 30, 5, 20) + _games(1, 2, 25, 0, 25))
  point = ratings.elo(*matrices)
  low, high = ratings.bootstrap_elo(*matrices, np.random.default_rng(1), 100)
  assert np.all(low < point) and np.all(point < high)
  again = ratings.bootstrap_elo(*matrices, np.random.default_rng(1), 100)
  np.testing.assert_array_equal(low, again[0])
  with pytest.raises(ValueError, match="confidence"):
    ratings.bootstrap_elo(*matrices, rng, 10, confidence=1.5)


def test_bootstrap_width_matches_the_delta_method():
  # 200-200 over 400 games: the score p has s.e. sqrt(.25 / 400) = 0.025; the
  # Elo gap 400 log10(p / (1 - p)) has slope 400 / ln(10) / .25 = 695 at .5,
  # so s.e. 17.4, and each mean-centred rating half that: 95% half-width 17.
  matrices = ratings.outcome_matrices(2, _games(0, 1, 200, 0, 200))
  low, high = ratings.bootstrap_elo(*matrices, np.random.default_rng(0), 2000)
  np.testing.assert_allclose((high - low) / 2, 17.0, rtol=0.1)


def test_payoff_matrix_is_exactly_antisymmetric_mean_score():
  wins, draws = ratings.outcome_matrices(
      3, _games(0, 1, 3, 1, 0) + _games(1, 2, 1, 0, 2))
  p = ratings.payoff_matrix(wins, draws)
  np.testing.assert_array_equal(p, -p.T)
  assert p[0, 1] == pytest.approx(3 / 4)
  assert p[1, 2] == pytest.approx(-1 / 3)
  assert p[0, 2] == 0.0  # no games


def test_nash_averaging_rock_paper_scissors_is_uniform():
  # 0 beats 1, 1 beats 2, 2 beats 0, always.
  games = _games(0, 1, 4) + _games(1, 2, 4) + _games(2, 0, 4)
  p = ratings.payoff_matrix(*ratings.outcome_matrices(3, games))
  weights, nash = ratings.nash_average(p)
  np.testing.assert_allclose(weights, 1 / 3, atol=1e-4)
  np.testing.assert_allclose(nash, 0.0, atol=1e-4)


def test_nash_averaging_puts_all_weight_on_a_dominant_player():
  games = _games(0, 1, 5) + _games(0, 2, 5) + _games(1, 2, 3, 0, 2)
  p = ratings.payoff_matrix(*ratings.outcome_matrices(3, games))
  weights, nash = ratings.nash_average(p)
  np.testing.assert_allclose(weights, [1, 0, 0], atol=1e-4)
  np.testing.assert_allclose(nash, [0, -1, -1], atol=1e-4)
  with pytest.raises(ValueError, match="antisymmetric"):
    ratings.nash_average(np.ones((2, 2)))


def test_compute_ratings_counts_and_order(tmp_path):
  games = _games(0, 1, 6, 2, 2) + _games(2, 0, 0, 0, 10) + _games(1, 2, 5)
  r = ratings.compute_ratings(["a", "b", "c"], games,
                              rng=np.random.default_rng(0), num_resamples=30)
  np.testing.assert_array_equal(r.games, [20, 15, 15])
  np.testing.assert_array_equal(r.wins, [16, 7, 0])
  np.testing.assert_array_equal(r.draws, [2, 2, 0])
  np.testing.assert_array_equal(r.losses, [2, 6, 15])
  np.testing.assert_allclose(r.score, [17 / 20, 8 / 15, 0])
  assert r.elo[0] > r.elo[1] > r.elo[2]
  assert np.all(r.elo_low <= r.elo) and np.all(r.elo <= r.elo_high)
  assert r.nash_weight.sum() == pytest.approx(1.0)
  table = ratings.ratings_table(r)
  assert table.row_count == 3
  assert list(table.columns[0].cells) == ["a", "b", "c"]  # best Elo first
  assert list(table.columns[3].cells)[0] == "16/2/2"
  cross = ratings.head_to_head_table(r)
  assert [c.header for c in cross.columns] == ["player", "a", "b", "c"]
  assert [list(c.cells) for c in cross.columns] == [
      ["a", "b", "c"],
      ["", "2-2-6", "0-0-10"],
      ["6-2-2", "", "0-0-5"],
      ["10-0-0", "5-0-0", ""]]
  path = tmp_path / "sub" / "elo.png"
  ratings.write_plot(r, path, title="test")
  assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  assert [p.name for p in path.parent.iterdir()] == ["elo.png"]


def test_plot_title_is_wrapped_whole():
  title = "stratego(variant=small,deployment=phase,max_plies=200,setup=x)"
  lines = ratings._wrap_title(title, width=30).split("\n")
  assert len(lines) > 1 and all(len(line) <= 30 for line in lines)
  assert "".join(lines).replace(" ", "") == title
