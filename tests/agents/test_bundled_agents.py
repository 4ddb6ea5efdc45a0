"""The trained agents that ship with the suite (`agents/bundled/`)."""

import json

import numpy as np
import pyspiel
import pytest

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


def test_ada_xland9_is_bundled_small_and_plays_the_shipped_held_out_tasks(
    tmp_path):
  from arena import cli  # pylint: disable=g-import-not-at-top
  from eval.xland import task_sets  # pylint: disable=g-import-not-at-top
  assert "ada-xland9" in runs.bundled_agents()
  directory = runs.resolve_run_dir("ada-xland9")
  size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
  assert size < 8 * 2**20, size
  from configs import ada_xland9_search  # pylint: disable=g-import-not-at-top
  from games import xland  # pylint: disable=g-import-not-at-top
  # Trained in the setting its recipe names.
  bundled, recipe = runs.read_config("ada-xland9"), ada_xland9_search.get_config()
  assert bundled.trials == recipe.trials and bundled.tasks == recipe.tasks
  assert bundled.agent.network == recipe.agent.network
  assert bundled.run.init_from == ""  # no path of the machine it was made on
  # The shipped held-out tasks are the test split of that setting.
  shipped = xland.TASK_SETS_DIR / "ada_xland9_search_heldout.xz"
  held_out = task_sets.load_task_set(shipped)
  assert held_out.num_tasks == 1000 and held_out.split == "test"
  want = xland.generate(recipe.tasks.generator, 1000, recipe.tasks.seed,
                        split="test")
  for field in ("goals", "rules", "init_tiles", "num_rules"):
    np.testing.assert_array_equal(getattr(held_out, field),
                                  getattr(want, field))
  few = held_out._replace(**{k: getattr(held_out, k)[:8] for k in (
      "goals", "rules", "init_tiles", "num_rules")})
  task_sets.save_task_set(few, tmp_path / "few.xz")
  out = tmp_path / "out.json"
  assert cli.main(["eval", "trials", "ada-xland9", "--tasks",
                   str(tmp_path / "few.xz"), "--trials", "2",
                   "--steps-per-trial", "16", "--episodes", "1",
                   "--batch-size", "8", "--json", str(out),
                   "--no-progress"]) == 0
  result = json.loads(out.read_text())
  assert result["tasks"] == 8 and result["trials"] == 2
  # The checkpoint played: the step SOURCE.md names.
  assert result["step"] == 17766
  for name in ("agent", "memory_reset", "random"):
    assert all(len(v) == 2 for v in result[name].values())


@pytest.mark.parametrize("name", ["go9-plain", "go9-plain-8600"])
def test_go9_plain_is_bundled_small_and_predicts_expert_moves(tmp_path, name):
  """The shipped network names GNU Go's move far above chance on held-out
  games of the shipped records, and plays over GTP."""
  import io  # pylint: disable=g-import-not-at-top
  from eval.go import gtp_server, network_player  # pylint: disable=g-import-not-at-top
  from eval.go import positions  # pylint: disable=g-import-not-at-top
  from games import go  # pylint: disable=g-import-not-at-top
  directory = runs.resolve_run_dir(name)
  assert directory.parent == runs.BUNDLED_DIR
  size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
  assert size < 8 * 2**20, size
  shards = sorted(go.EXPERT_GAMES_DIR.glob("*/*.sgf.xz"))
  positions.build_positions(shards[:3], tmp_path / "positions",
                            progress=False)
  from agents.go_retrieval import data as data_lib  # pylint: disable=g-import-not-at-top
  data = data_lib.PositionData(tmp_path / "positions")
  rows = data.rows["test"][:512]
  assert len(rows) >= 256
  batch = data.batch(rows)
  batch["weight"] = np.ones(len(rows), np.float32)
  loaded = runs.read_run(name)
  metrics = loaded.agent.evaluate(loaded.agent.test_params(loaded.state),
                                  batch)
  accuracy = float(metrics["accuracy"]) / len(rows)
  # Uniform over the empty points would be about 2%; trained: ~50%.
  assert accuracy > 0.35, accuracy
  out = io.StringIO()
  gtp_server.GTPServer(network_player.NetworkPlayer(
      name, simulations=8)).serve(
          io.StringIO("boardsize 9\nclear_board\ngenmove b\nquit\n"), out)
  assert out.getvalue().split("\n\n")[2].startswith("= ")


def test_go9_retrieval_ships_a_recipe_for_its_index_not_an_index():
  from eval.go import index_cache  # pylint: disable=g-import-not-at-top
  directory = runs.resolve_run_dir("go9-retrieval")
  size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
  assert size < 8 * 2**20, size
  config = runs.read_config("go9-retrieval")
  assert config.agent.retrieval.num_neighbours == 16
  assert config.agent.retrieval.index == ""  # no path of the machine it was made on
  recipe = index_cache.read_recipe("go9-retrieval")
  assert recipe.key == "go9-plain" and recipe.games == index_cache.SHIPPED
  assert index_cache.key_run("go9-retrieval", recipe) == "go9-plain"
  assert index_cache.games_dir("go9-retrieval", recipe).is_dir()
  # Its retrieval set is pinned, so its first start does not grow with the
  # shipped games: the first files that hold 8,600 of them.
  assert recipe.max_games == 8600
  from eval.go import game_records  # pylint: disable=g-import-not-at-top
  pinned = index_cache._shards(  # pylint: disable=protected-access
      index_cache.games_dir("go9-retrieval", recipe), recipe.max_games)
  games = index_cache.games_dir("go9-retrieval", recipe)
  counts = [game_records.count_games(games / path) for path, _ in pinned]
  assert sum(counts) >= 8600 > sum(counts[:-1])
  # Its key network is the bundled plain network, of the same torso.
  key = runs.read_config("go9-plain")
  assert key.agent.retrieval.num_neighbours == 0
  assert key.agent.network == config.agent.network
