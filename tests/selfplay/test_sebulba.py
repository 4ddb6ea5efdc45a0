"""The Sebulba driver on a real Control Suite task, through the CLI: a run
killed with SIGKILL and resumed, the rate limiter in a live run, load_policy
on a real dm_control observation, and one-line errors for bad input."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from agents import d4pg
from agents.core import CheckpointError
from arena import cli
from games import control  # before dm_control: it turns rendering off
from selfplay import config as config_lib
from selfplay import logging as log_lib
from selfplay import replay as replay_lib
from selfplay import sebulba

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory):
  """A smoke run killed by SIGKILL after a checkpoint and its saved replay,
  then resumed by the CLI for 8 more learner steps. Returns (run_dir,
  killed_at, env steps at the kill, the replay saved at the kill)."""
  run_dir = tmp_path_factory.mktemp("d4pg") / "run"
  cmd = [sys.executable, "-m", "arena", "train", "d4pg_smoke", "--out",
         str(run_dir), "--no-progress", "--steps", "1000000"]
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  env.pop("XLA_FLAGS", None)
  proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
  ckpt_dir = run_dir / "checkpoints"
  deadline = time.time() + 240
  while time.time() < deadline and proc.poll() is None:
    # A finished checkpoint (orbax renames it into place) and its replay.
    steps = [int(p.name) for p in ckpt_dir.glob("*") if p.name.isdigit()] \
        if ckpt_dir.exists() else []
    if set(s for s in steps if s >= 20) & set(sebulba._replay_files(run_dir)):
      break
    time.sleep(0.2)
  proc.send_signal(signal.SIGKILL)
  _, err = proc.communicate()
  assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
  last = sebulba.restore_run(run_dir)
  killed_at, env_steps_at_kill = int(last.state.step), last.counters["env_steps"]
  files = sebulba._replay_files(run_dir)
  saved = replay_lib.load(files[max(s for s in files if s <= killed_at)])
  assert cli.main(["train", "--resume", str(run_dir), "--steps",
                   str(killed_at + 8)]) == 0
  return run_dir, killed_at, env_steps_at_kill, saved


def test_resume_after_sigkill_continues_from_the_checkpoint(resumed_run):
  run_dir, killed_at, env_steps_at_kill, saved = resumed_run
  assert killed_at >= 20
  run = sebulba.restore_run(run_dir)
  assert int(run.state.step) == killed_at + 8
  records = log_lib.read_metrics(run_dir)
  assert records[-1]["step"] == killed_at + 8
  assert env_steps_at_kill >= 100
  assert run.counters["env_steps"] == records[-1]["env_steps"]
  # The replay came back: the final checkpoint's saved buffer starts with
  # every transition held at the kill, in order, and the resumed run's
  # records never held fewer. At most two replay files are kept.
  files = sebulba._replay_files(run_dir)
  assert killed_at + 8 in files and len(files) <= 2
  final = replay_lib.load(files[killed_at + 8])
  held = len(saved["data/reward"])
  assert held >= 100
  for k, v in saved.items():
    if k.startswith("data/"):
      np.testing.assert_array_equal(final[k][:held], v)
  resumed = [r for r in records if r["step"] > killed_at and "replay_size" in r]
  assert resumed and all(r["replay_size"] >= held for r in resumed)


def test_rate_limiter_holds_samples_per_insert_in_a_live_run(resumed_run):
  run_dir = resumed_run[0]
  cfg = config_lib.load("d4pg_smoke")
  spi, min_size = 4.0, 100
  assert cfg.runtime.replay.samples_per_insert == spi
  assert cfg.runtime.replay.min_size == min_size
  # The automatic error buffer, for messages of up to send_every + n_step
  # = 30 transitions and K * B = 64 samples per learner call.
  eb = max(spi * 30, (spi * 30 + 4 * 16) / 2)
  records = [r for r in log_lib.read_metrics(run_dir) if "replay_inserts" in r]
  assert records
  for r in records:
    inserts, samples = r["replay_inserts"], r["replay_samples"]
    assert inserts >= min_size
    lag = inserts * spi - samples - spi * min_size
    assert -eb <= lag <= eb, r


def test_load_policy_acts_within_bounds_on_a_dm_control_observation(
    resumed_run):
  run_dir = resumed_run[0]
  policy = d4pg.load_policy(run_dir)
  from dm_control import suite  # pylint: disable=g-import-not-at-top
  env = suite.load("cartpole", "swingup", task_kwargs={"random": 3})
  timestep = env.reset()
  spec = env.action_spec()
  run = sebulba.restore_run(run_dir)
  for _ in range(5):
    action = policy(timestep.observation)
    assert action.shape == spec.shape and action.dtype == np.float32
    assert np.all(action >= spec.minimum) and np.all(action <= spec.maximum)
    expected = run.agent.networks.policy(
        run.state.params["policy"],
        control.flatten_observation(timestep.observation)[None])[0]
    np.testing.assert_allclose(action, expected, rtol=1e-5, atol=1e-6)
    timestep = env.step(action)


def test_load_policy_rejects_a_missing_run(tmp_path):
  with pytest.raises(CheckpointError, match="does not exist"):
    d4pg.load_policy(tmp_path / "nothing")


@pytest.mark.parametrize("overrides,message", [
    (["game.name=cartpole_nope"], "Unknown control task 'cartpole_nope'"),
    (["runtime.backend=ray"], "needs Ray"),
    (["runtime.replay.error_buffer=5"], "error_buffer=5.0 is too small"),
    (["runtime.backend=mars"], "runtime.backend must be local or ray"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, overrides, message):
  if overrides == ["runtime.backend=ray"]:
    try:
      import ray  # noqa: F401  pylint: disable=unused-import
      pytest.skip("ray is installed")
    except ImportError:
      pass
  argv = ["train", "d4pg_smoke", "--out", str(tmp_path / "run")]
  for o in overrides:
    argv += ["--set", o]
  assert cli.main(argv) == 2
  err = capsys.readouterr().err
  assert message in err and "Traceback" not in err
  assert len(err.strip().splitlines()) == 1
  assert not (tmp_path / "run" / "config.json").exists()


def test_init_from_starts_from_another_runs_networks(tmp_path, capsys):
  """`--init-from` on the Sebulba driver: the new run counts its own steps
  from 0 and, at a learning rate of 1e-12, keeps its source's networks; a
  network of another shape is refused in one line."""
  base, tuned = str(tmp_path / "base"), str(tmp_path / "tuned")
  assert cli.main(["train", "d4pg_smoke", "--out", base, "--steps", "8",
                   "--no-progress"]) == 0
  frozen = ["--set", "agent.policy_learning_rate=1e-12", "--set",
            "agent.critic_learning_rate=1e-12"]
  assert cli.main(["train", "d4pg_smoke", "--out", tuned, "--steps", "4",
                   "--init-from", base, "--no-progress", *frozen]) == 0
  source, new = sebulba.restore_run(base), sebulba.restore_run(tuned)
  assert int(new.state.step) == 4
  leaves = lambda state: jax.tree.leaves(state.params)
  assert len(leaves(source.state)) == len(leaves(new.state)) > 0
  for a, b in zip(leaves(source.state), leaves(new.state)):
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
  capsys.readouterr()
  assert cli.main(["train", "d4pg_smoke", "--out", str(tmp_path / "wide"),
                   "--init-from", base, "--no-progress", "--set",
                   "agent.network.critic_hidden_sizes=(24,)"]) == 2
  err = capsys.readouterr().err
  assert "does not fit this config" in err and "Traceback" not in err
  assert len(err.strip().splitlines()) == 1
  assert not (tmp_path / "wide" / "config.json").exists()


def test_ray_backend_runs_actors_as_ray_actors(tmp_path):
  """`runtime.backend=ray` (needs `pip install -e '.[ray]'`; skipped without)."""
  pytest.importorskip("ray")
  config = config_lib.load("d4pg_smoke", ["runtime.backend=ray"])
  result = sebulba.train(config, tmp_path / "run", progress="off")
  assert result.step == config.run.num_steps
  records = log_lib.read_metrics(tmp_path / "run")
  assert records[-1]["env_steps"] > 0
  from dm_control import suite  # pylint: disable=g-import-not-at-top
  env = suite.load(*control.split_task_name(config.game.name))
  action = d4pg.load_policy(tmp_path / "run")(env.reset().observation)
  assert np.all(np.isfinite(action))


def test_replay_restore_picks_the_checkpoints_file(tmp_path, capsys):
  spec = {"reward": ((), np.float32)}
  for step in (10, 20, 30):
    buf = replay_lib.ReplayBuffer(100, spec)
    buf.insert({"reward": np.full(step, step, np.float32)})
    sebulba._save_replay(tmp_path, step, buf)
  # Only the newest two are kept.
  assert sorted(sebulba._replay_files(tmp_path)) == [20, 30]
  # Checkpoint 20 on disk, 30 lost: 20's replay and limiter counts return;
  # the file of 30 goes.
  buf = replay_lib.ReplayBuffer(100, spec)
  limiter = replay_lib.RateLimiter(4.0, 5, 10.0)
  sebulba._restore_replay(tmp_path, 20, buf, limiter,
                          {"inserts": 20, "samples": 60})
  assert buf.size == 20 and set(buf.state()["data/reward"]) == {20.0}
  assert limiter.state() == {"inserts": 20, "samples": 60}
  assert sorted(sebulba._replay_files(tmp_path)) == [20]
  # A checkpoint with no file of its own: the older buffer, fresh counts.
  buf = replay_lib.ReplayBuffer(100, spec)
  limiter = replay_lib.RateLimiter(4.0, 5, 10.0)
  sebulba._restore_replay(tmp_path, 25, buf, limiter,
                          {"inserts": 25, "samples": 80})
  assert buf.size == 20 and limiter.state() == {"inserts": 0, "samples": 0}
  assert "from step 20" in capsys.readouterr().err
  # An unreadable file: an empty buffer and a message, no traceback.
  (tmp_path / "replay" / "replay-20.npz").write_bytes(b"garbage")
  buf = replay_lib.ReplayBuffer(100, spec)
  sebulba._restore_replay(tmp_path, 20, buf, limiter, None)
  assert buf.size == 0
  assert "not a readable replay" in capsys.readouterr().err
