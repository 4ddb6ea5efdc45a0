"""The Anakin driver: learning, resumption (also after SIGKILL), limits."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import chex
import jax
import numpy as np
import pytest
from open_spiel.python.algorithms import expected_game_score

from agents import rnad
from agents.core import CheckpointError
from agents.rnad import learner as rnad_learner
from eval import exploitability
from selfplay import anakin
from selfplay import config as config_lib
from selfplay import logging as log_lib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMALL = ["run.steps_per_call=10", "run.log_every=10", "run.eval_every=0",
         "agent.batch_size=32", "agent.network.hidden_sizes=(16,)"]


def _cfg(*extra):
  return config_lib.load("kuhn_rnad", SMALL + list(extra))


def test_resumed_run_equals_uninterrupted_run(tmp_path):
  cfg = _cfg()
  anakin.train(cfg, tmp_path / "a", num_steps=40, progress="off")
  anakin.train(cfg, tmp_path / "b", num_steps=20, progress="off")
  result = anakin.train(cfg, tmp_path / "b", num_steps=40, resume=True,
                        progress="off")
  assert result.step == 40 and result.stop_reason == "steps"
  a, b = anakin.restore_run(tmp_path / "a"), anakin.restore_run(tmp_path / "b")
  chex.assert_trees_all_equal(a.state.params, b.state.params)
  chex.assert_trees_all_equal(a.state.extras, b.state.extras)
  records = log_lib.read_metrics(tmp_path / "b")
  assert [r["step"] for r in records] == [10, 20, 30, 40]
  # Logged times count the whole run, not just the resumed invocation.
  assert records[2]["elapsed_s"] > records[1]["elapsed_s"]
  assert records[2]["cpu_s"] > records[1]["cpu_s"]
  # Each invocation recorded where it trained, from which step.
  sessions = log_lib.read_sessions(tmp_path / "b")
  assert [r["step"] for r in sessions] == [0, 20]
  assert all(r["device"].startswith("cpu: ") for r in sessions)


def test_a_record_holds_the_mean_of_the_steps_since_the_last(tmp_path):
  # The same run logged every 10 steps and every 20: each 20-step record is
  # the mean of the two 10-step records it covers, not the last step's.
  anakin.train(_cfg(), tmp_path / "a", num_steps=40, progress="off")
  anakin.train(_cfg("run.log_every=20"), tmp_path / "b", num_steps=40,
               progress="off")
  every_10 = {r["step"]: r for r in log_lib.read_metrics(tmp_path / "a")}
  every_20 = {r["step"]: r for r in log_lib.read_metrics(tmp_path / "b")}
  assert sorted(every_20) == [20, 40]
  for step in (20, 40):
    for name in ("loss", "loss_policy", "return_player0"):
      halves = [every_10[step - 10][name], every_10[step][name]]
      assert halves[0] != halves[1]
      np.testing.assert_allclose(every_20[step][name], np.mean(halves),
                                 rtol=1e-5)


def test_resume_under_a_new_seed_forks_the_run(tmp_path):
  """`--resume COPY --seed N`: a copy of a run continued under another seed
  plays other games from the same parameters; the fork, resumed again under
  its own seed, continues as if never stopped, also when it was killed
  before its first checkpoint (its config.json already naming the seed)."""
  anakin.train(_cfg(), tmp_path / "base", num_steps=20, progress="off")
  for name in ("same", "fork", "fork_stopped", "fork_killed"):
    shutil.copytree(tmp_path / "base", tmp_path / name)
  (tmp_path / "fork_killed" / "config.json").write_text(
      json.dumps(config_lib.to_json(_cfg("run.seed=1"))))
  anakin.train(_cfg("run.seed=1"), tmp_path / "fork_killed", num_steps=30,
               resume=True, progress="off")
  anakin.train(_cfg(), tmp_path / "same", num_steps=30, resume=True,
               progress="off")
  anakin.train(_cfg("run.seed=1"), tmp_path / "fork", num_steps=30,
               resume=True, progress="off")
  anakin.train(_cfg("run.seed=1"), tmp_path / "fork_stopped", num_steps=25,
               resume=True, progress="off")
  anakin.train(_cfg("run.seed=1"), tmp_path / "fork_stopped", num_steps=30,
               resume=True, progress="off")
  same, fork, stopped, killed = (
      anakin.restore_run(tmp_path / n).state
      for n in ("same", "fork", "fork_stopped", "fork_killed"))
  assert int(fork.step) == 30
  assert not all(np.allclose(a, b) for a, b in zip(
      jax.tree.leaves(same.params), jax.tree.leaves(fork.params)))
  chex.assert_trees_all_equal(fork.params, stopped.params)
  chex.assert_trees_all_equal(fork.key, stopped.key)
  chex.assert_trees_all_equal(fork.params, killed.params)


def test_time_limit_stops_with_a_final_checkpoint(tmp_path):
  result = anakin.train(_cfg(), tmp_path, num_steps=10**7, time_limit_s=3,
                        progress="off")
  assert result.stop_reason == "time_limit"
  assert 0 < result.step < 10**7
  assert int(anakin.restore_run(tmp_path).state.step) == result.step
  # The stop is logged, so the last record describes the final policy.
  assert log_lib.read_metrics(tmp_path)[-1]["step"] == result.step


def test_refuses_to_overwrite_a_run(tmp_path):
  anakin.train(_cfg(), tmp_path, num_steps=10, progress="off")
  with pytest.raises(ValueError, match="already holds a run"):
    anakin.train(_cfg(), tmp_path, num_steps=10, progress="off")


def test_kuhn_converges_and_load_policy_is_measured_by_openspiel(tmp_path):
  # One device: this tests convergence, not sharding (tested on 8 devices
  # elsewhere); 39 s -> 15 s on one core.
  cfg = config_lib.load("kuhn_rnad", ["run.eval_every=8000",
                                     "run.num_devices=1"])
  anakin.train(cfg, tmp_path, num_steps=8000, progress="off")
  policy = rnad.load_policy(tmp_path)
  assert policy.game.get_type().short_name == "kuhn_poker"
  nash_conv = exploitability.nash_conv(policy.game, policy)
  # A uniform policy has NashConv 0.917; R-NaD is below 0.05 by 6000 steps.
  assert nash_conv < 0.1
  logged = log_lib.read_metrics(tmp_path)[-1]
  np.testing.assert_allclose(logged["nash_conv"], nash_conv, rtol=1e-6)
  # The game value for the first player at equilibrium is -1/18.
  value = expected_game_score.policy_value(policy.game.new_initial_state(),
                                           [policy, policy])[0]
  assert abs(value - (-1 / 18)) < 0.03



def test_resume_refuses_to_switch_test_time_averaging(tmp_path):
  """Test-time averaging changes what the training state holds, so a run
  cannot switch it on resume: a one-line error names the setting, and the
  run directory is left as it was."""
  run_dir = tmp_path / "run"
  anakin.train(_cfg(), run_dir, num_steps=20, progress="off")
  before = anakin.restore_run(run_dir)
  with pytest.raises(CheckpointError, match="cannot change on resume"):
    anakin.train(_cfg("agent.test_policy_avg=0.5"), run_dir, num_steps=30,
                 resume=True, progress="off")
  after = anakin.restore_run(run_dir)
  assert int(after.state.step) == 20
  assert type(after.state.extras) is rnad_learner.RNaDExtras
  chex.assert_trees_all_equal(after.state.params, before.state.params)
  # A checkpoint that fits neither layout fails with a clear error.
  with pytest.raises(CheckpointError, match="cannot restore checkpoint 20"):
    anakin.train(_cfg("agent.network.hidden_sizes=(8,)"), run_dir,
                 num_steps=30, resume=True, progress="off")


def test_sigkill_then_resume_continues_from_last_checkpoint(tmp_path):
  run_dir = tmp_path / "run"
  cmd = [sys.executable, "-m", "arena", "train", "kuhn_rnad", "--out",
         str(run_dir), "--no-progress", *sum((["--set", s] for s in SMALL), []),
         "--set", "run.checkpoint_every=50", "--steps", "1000000"]
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  env.pop("XLA_FLAGS", None)
  proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
  ckpt_dir = run_dir / "checkpoints"
  deadline = time.time() + 120
  while time.time() < deadline:
    steps = [int(p.name) for p in ckpt_dir.glob("*") if p.name.isdigit()] \
        if ckpt_dir.exists() else []
    if steps and max(steps) >= 100:
      break
    time.sleep(0.2)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL
  last = anakin.restore_run(run_dir)
  killed_at = int(last.state.step)
  assert killed_at >= 50
  result = anakin.train(last.config, run_dir, resume=True,
                        num_steps=killed_at + 30, progress="off")
  assert result.step == killed_at + 30
  steps = [r["step"] for r in log_lib.read_metrics(run_dir)]
  assert steps[-3:] == [killed_at + 10, killed_at + 20, killed_at + 30]


@pytest.mark.parametrize("value", ["1h", -3.0, float("nan"), True, None])
def test_malformed_saved_times_are_a_checkpoint_error(value):
  with pytest.raises(anakin.CheckpointError, match="elapsed_s"):
    anakin._saved_seconds({"elapsed_s": value}, "elapsed_s", 7)
  assert anakin._saved_seconds({}, "elapsed_s", 7) == 0.0
  assert anakin._saved_seconds({"cpu_s": 12}, "cpu_s", 7) == 12.0
