"""Checkpoint averaging (`selfplay.average`, `arena average`)."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
import pytest

from agents import rnad
from agents.rnad import learner as rnad_learner
from agents.core import Checkpointer, runs, write_json_atomic
from agents.core.checkpoint import CONFIG_FILE
from arena import cli
from eval import players
from selfplay import anakin
from selfplay import average
from selfplay import config as config_lib


def _make_run(run_dir, *overrides, shift=0.0, steps=(10, 20, 30)):
  """A Kuhn R-NaD run with checkpoints at `steps` of unlike params.

  Returns the saved states by step. With test-time averaging on, each
  state's average is its parameters doubled, so it differs from them.
  `shift` is added to every parameter (another run's).
  """
  config = config_lib.load("kuhn_rnad", ["agent.network.hidden_sizes=(4,)",
                                         *overrides])
  _, agent = anakin.build(config)
  states = {}
  checkpointer = Checkpointer(run_dir)
  for i, step in enumerate(steps):
    state = runs.fresh_state(agent, i)._replace(step=jnp.int32(step))
    state = state._replace(params=jax.tree.map(lambda x: x + shift,
                                               state.params))
    if isinstance(state.extras, rnad_learner.RNaDAveragedExtras):
      state = state._replace(extras=state.extras._replace(
          params_avg=jax.tree.map(lambda x: 2 * x, state.params)))
    checkpointer.save(state)
    states[step] = state
  checkpointer.close()
  write_json_atomic(run_dir / CONFIG_FILE, config_lib.to_json(config))
  return states


def _assert_mean(tree, parts):
  expected = jax.tree.map(lambda *xs: np.mean(np.stack(xs), axis=0), *parts)
  for got, want in zip(jax.tree.leaves(tree), jax.tree.leaves(expected)):
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-7)


def test_mean_of_the_last_checkpoints_is_a_playable_run(tmp_path):
  states = _make_run(tmp_path / "run")
  out = tmp_path / "mean"
  assert average.average_run(tmp_path / "run", out, 2) == [20, 30]
  restored = anakin.restore_run(out)
  assert int(restored.state.step) == 30
  assert restored.config.agent.test_policy_avg == 0.0
  _assert_mean(restored.state.params, [states[20].params, states[30].params])
  # Averaged parameters differ from either checkpoint's.
  assert not all(np.allclose(a, b) for a, b in zip(
      jax.tree.leaves(restored.state.params),
      jax.tree.leaves(states[30].params)))
  source = json.loads((out / average.SOURCE_FILE).read_text())
  assert [r["steps"] for r in source["runs"]] == [[20, 30]]
  assert source["params"] == "test"
  # Any player spec reads it; its policy is the mean's.
  bot = players.make_player(str(out), pyspiel.load_game("kuhn_poker"), 0, 1)
  assert isinstance(bot, pyspiel.Bot)
  policy = rnad.load_policy(out)
  state = policy.game.new_initial_state()
  state.apply_action(0)
  state.apply_action(1)
  probs = policy.action_probabilities(state)
  assert sum(probs.values()) == pytest.approx(1.0)


def test_averaged_runs_use_their_average_unless_online(tmp_path):
  states = _make_run(tmp_path / "run", "agent.test_policy_avg=0.01")
  average.average_run(tmp_path / "run", tmp_path / "test", 3)
  average.average_run(tmp_path / "run", tmp_path / "online", 3, online=True)
  test = anakin.restore_run(tmp_path / "test")
  online = anakin.restore_run(tmp_path / "online")
  _assert_mean(test.state.params,
               [states[s].extras.params_avg for s in (10, 20, 30)])
  _assert_mean(online.state.params, [states[s].params for s in (10, 20, 30)])
  # The run keeps its averaging; its test-time policy is the mean itself.
  assert isinstance(test.state.extras, rnad_learner.RNaDAveragedExtras)
  _assert_mean(test.agent.test_params(test.state),
               [states[s].extras.params_avg for s in (10, 20, 30)])


@pytest.mark.parametrize("argv, message", [
    (["--last", "4"], "has 3 checkpoint(s) (10, 20, 30); cannot average the "
     "last 4"),
    (["--last", "0"], "must be >= 1, got 0"),
])
def test_cli_bad_counts_are_one_line_errors(tmp_path, capsys, argv, message):
  _make_run(tmp_path / "run")
  code = cli.main(["average", str(tmp_path / "run"), "--out",
                   str(tmp_path / "out"), *argv])
  err = capsys.readouterr().err
  assert code == cli.EXIT_USAGE
  assert message in err and "Traceback" not in err
  assert [p.name for p in tmp_path.iterdir()] == ["run"]  # Nothing left.


def test_cli_refuses_existing_output_and_missing_run(tmp_path, capsys):
  _make_run(tmp_path / "run")
  (tmp_path / "taken").mkdir()
  assert cli.main(["average", str(tmp_path / "run"), "--last", "1", "--out",
                   str(tmp_path / "taken")]) == cli.EXIT_USAGE
  assert "already exists" in capsys.readouterr().err
  assert cli.main(["average", str(tmp_path / "nowhere"), "--last", "1",
                   "--out", str(tmp_path / "x")]) == cli.EXIT_USAGE
  assert "nowhere' does not exist" in capsys.readouterr().err
  assert cli.main(["average", str(tmp_path / "run"), "--last", "3", "--out",
                   str(tmp_path / "ok")]) == cli.EXIT_OK
  assert "steps 10, 20, 30" in capsys.readouterr().out


def test_several_runs_average_to_the_mean_of_all_their_checkpoints(
    tmp_path, capsys):
  a = _make_run(tmp_path / "a")
  b = _make_run(tmp_path / "b", shift=1.0, steps=(40, 50))
  out = tmp_path / "soup"
  assert cli.main(["average", str(tmp_path / "a"), str(tmp_path / "b"),
                   "--last", "2", "--out", str(out)]) == cli.EXIT_OK
  assert "of the last 2 checkpoint(s) of each of" in capsys.readouterr().out
  restored = anakin.restore_run(out)
  _assert_mean(restored.state.params, [a[20].params, a[30].params,
                                       b[40].params, b[50].params])
  assert int(restored.state.step) == 30  # The rest is the first run's.
  source = json.loads((out / average.SOURCE_FILE).read_text())
  assert [r["steps"] for r in source["runs"]] == [[20, 30], [40, 50]]
  assert rnad.load_policy(out).game.get_type().short_name == "kuhn_poker"


def test_runs_of_another_network_are_refused(tmp_path, capsys):
  _make_run(tmp_path / "a")
  _make_run(tmp_path / "b", "agent.network.hidden_sizes=(8,)")
  assert cli.main(["average", str(tmp_path / "a"), str(tmp_path / "b"),
                   "--last", "1", "--out", str(tmp_path / "x")]
                  ) == cli.EXIT_USAGE
  err = capsys.readouterr().err
  assert "has another network than" in err and "Traceback" not in err
  assert not (tmp_path / "x").exists()
