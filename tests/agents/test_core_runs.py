"""Reading run directories and bundled agents (`agents.core.runs`)."""

import pyspiel
import pytest

from agents import rnad
from agents.core import CheckpointError, runs
from eval import players
from selfplay import anakin
from selfplay import config as config_lib

SMALL = ["run.steps_per_call=10", "run.log_every=10", "run.eval_every=0",
         "agent.batch_size=16", "agent.network.hidden_sizes=(8,)"]


@pytest.fixture(scope="module")
def kuhn_run(tmp_path_factory):
  run_dir = tmp_path_factory.mktemp("runs") / "kuhn"
  anakin.train(config_lib.load("kuhn_rnad", SMALL), run_dir, num_steps=20,
               progress="off")
  return run_dir


def test_a_bundled_agent_loads_by_name_wherever_a_run_does(
    kuhn_run, tmp_path, monkeypatch, capfd):
  monkeypatch.setattr(runs, "BUNDLED_DIR", tmp_path / "bundled")
  assert runs.bundled_agents() == ()
  out = runs.bundle_run(kuhn_run, "kuhn-tiny", dest=runs.BUNDLED_DIR)
  assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["20"]
  assert runs.bundled_agents() == ("kuhn-tiny",)
  assert runs.resolve_run_dir("kuhn-tiny") == out
  capfd.readouterr()
  run = runs.read_run("kuhn-tiny")
  assert int(run.state.step) == 20 and run.game.name == "kuhn_poker"
  # Loading prints no library chatter (orbax's read-only and metadata notes).
  captured = capfd.readouterr()
  assert captured.out == "" and captured.err == "", captured.err
  policy = rnad.load_policy("kuhn-tiny")
  assert policy.game.get_type().short_name == "kuhn_poker"
  state = policy.game.new_initial_state()
  state.apply_action(0)
  state.apply_action(1)
  assert sum(policy.action_probabilities(state).values()) == pytest.approx(1)
  bot = players.make_player("kuhn-tiny:greedy",
                            pyspiel.load_game("kuhn_poker"), 0, 1)
  assert isinstance(bot, pyspiel.Bot)
  with pytest.raises(ValueError, match="already exists"):
    runs.bundle_run(kuhn_run, "kuhn-tiny", dest=runs.BUNDLED_DIR)
  with pytest.raises(ValueError, match="plain name"):
    runs.bundle_run(kuhn_run, "../x", dest=runs.BUNDLED_DIR)


def test_a_directory_of_the_same_name_wins_and_unknown_names_fail(
    kuhn_run, tmp_path, monkeypatch):
  monkeypatch.setattr(runs, "BUNDLED_DIR", tmp_path / "bundled")
  runs.bundle_run(kuhn_run, "kuhn-tiny", dest=runs.BUNDLED_DIR)
  monkeypatch.chdir(tmp_path)
  (tmp_path / "kuhn-tiny").mkdir()
  assert runs.resolve_run_dir("kuhn-tiny").resolve() == tmp_path / "kuhn-tiny"
  with pytest.raises(CheckpointError, match="no config.json"):
    runs.read_run("kuhn-tiny")
  with pytest.raises(CheckpointError, match="does not exist"):
    runs.read_run("no-such-agent")
  with pytest.raises(players.PlayerSpecError, match="bundled agent"):
    players.make_player("no-such-agent", pyspiel.load_game("kuhn_poker"), 0,
                        1)
