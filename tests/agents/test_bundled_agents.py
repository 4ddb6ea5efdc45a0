"""The trained agents that ship with the suite (`agents/bundled/`)."""

import json

import numpy as np
import pyspiel

from agents import rnad
from agents.core import runs
from eval import tournament_spec


def test_deepnash_small_is_bundled_small_and_loads_as_an_openspiel_policy():
  assert "deepnash-small" in runs.bundled_agents()
  directory = runs.resolve_run_dir("deepnash-small")
  size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
  assert size < 8 * 2**20, size  # a few MB at most
  policy = rnad.load_policy("deepnash-small")
  game = policy.game
  assert game.get_type().short_name == "stratego"
  assert game.get_parameters()["variant"] == "small"
  state = game.new_initial_state()
  probs = policy.action_probabilities(state)
  assert set(probs) == set(state.legal_actions())
  assert np.isclose(sum(probs.values()), 1.0)


def test_tournament_files_may_name_the_bundled_agent(tmp_path):
  spec = tmp_path / "t.toml"
  spec.write_text(
      'game = "stratego(variant=small,deployment=phase,max_plies=200)"\n'
      "games_per_pair = 2\n"
      '[[players]]\nname = "bundled"\nspec = "deepnash-small:greedy"\n'
      '[[players]]\nname = "random"\nspec = "random"\n')
  loaded = tournament_spec.load_spec(spec)
  player = loaded.players[0]
  assert player.spec.startswith("deepnash-small@") and player.spec.endswith(
      ":greedy")
  config = json.loads((runs.resolve_run_dir("deepnash-small") /
                       "config.json").read_text())
  assert config["type"] == "RNaDExperiment"
  assert isinstance(pyspiel.load_game(loaded.game), pyspiel.Game)
