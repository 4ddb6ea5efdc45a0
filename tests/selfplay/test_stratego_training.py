"""Stratego self-play end to end: a tiny R-NaD run evaluates against the bots
while it trains, and its checkpoint plays OpenSpiel's registered game, at a
tournament table and through `load_policy`."""

import math

import numpy as np
import pyspiel
import pytest

import games  # registers "stratego" with pyspiel
from agents.rnad import load_policy
from eval import players
from eval import tournament
from selfplay import anakin
from selfplay import config as config_lib
from selfplay import logging as log_lib

del games


@pytest.fixture(scope="module")
def stratego_run(tmp_path_factory):
  run_dir = tmp_path_factory.mktemp("stratego") / "run"
  config = config_lib.load("stratego_smoke")
  result = anakin.train(config, run_dir, progress="off")
  assert result.step == config.run.num_steps
  return run_dir, config


def test_training_logs_win_rates_against_each_bot(stratego_run):
  run_dir, config = stratego_run
  records = log_lib.read_metrics(run_dir)
  evals = {r["step"]: r for r in records if "vs_random/win" in r}
  assert sorted(evals) == [0, 2, 4]  # at the start, then every eval_every
  for r in evals.values():
    for bot in ("random", "heuristic"):
      rates = [r[f"vs_{bot}/{k}"] for k in ("win", "draw", "loss")]
      assert all(0 <= x <= 1 for x in rates)
      assert math.isclose(sum(rates), 1.0, abs_tol=1e-6)
      # Rates are counts out of eval_games.
      assert all(math.isclose(x * config.evaluation.games,
                              round(x * config.evaluation.games),
                              abs_tol=1e-6)
                 for x in rates)
      assert r[f"vs_{bot}/score"] == pytest.approx(rates[0] + rates[1] / 2)
  trained = [r for r in records if "loss" in r]
  assert trained and all(np.isfinite(r["loss"]) for r in trained)


def test_load_policy_plays_the_registered_game(stratego_run):
  run_dir, config = stratego_run
  policy = load_policy(run_dir)
  game = policy.game
  assert game.get_type().short_name == "stratego"
  params = game.get_parameters()
  for key, value in config.game.kwargs.items():
    assert params[key] == value
  # The same game as loading it by name: any OpenSpiel tool can play it.
  assert str(game) == str(pyspiel.load_game("stratego", config.game.kwargs))
  state = game.new_initial_state()
  rng = np.random.default_rng(0)
  for _ in range(30):  # through the deployment phase into play
    if state.is_terminal():
      break
    probs = policy.action_probabilities(state)
    assert set(probs) <= set(state.legal_actions())
    assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-5)
    actions, p = zip(*probs.items())
    state.apply_action(int(rng.choice(actions, p=np.array(p) / sum(p))))


def test_checkpoint_sits_at_a_tournament_table(stratego_run, tmp_path):
  run_dir, config = stratego_run
  game = pyspiel.load_game("stratego", config.game.kwargs)
  agent = players.make_player(str(run_dir), game, 0, seed=1)
  bot = players.make_player("heuristic", game, 1, seed=2)
  returns, plies = tournament.play_game(game, [agent, bot], seed=3)
  assert sorted(returns) in ([-1.0, 1.0], [0.0, 0.0]) and plies > 0
  # A checkpoint by step; the same rules with another move limit and fixed
  # setups (as `arena play` may choose); a clear error for other rules.
  players.make_player(f"{run_dir}@2", game, 0, seed=1)
  longer = pyspiel.load_game("stratego", {"variant": "small",
                                          "max_plies": 300})
  agent = players.make_player(str(run_dir), longer, 1, seed=1)
  bot = players.make_player("random", longer, 0, seed=2)
  returns, _ = tournament.play_game(longer, [bot, agent], seed=4)
  assert sum(returns) == 0
  for params, why in (({"variant": "barrage"}, "variant differs"),
                      ({"variant": "small", "two_square_rule": False},
                       "two_square_rule differs")):
    with pytest.raises(players.PlayerSpecError, match=why):
      players.make_player(str(run_dir), pyspiel.load_game("stratego", params),
                          0, seed=1)
