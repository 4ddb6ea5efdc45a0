"""What an agent does after failed trials (`eval.xland.behaviour`): the
figures worked by hand on made-up episodes, the first object held and the
per-trial means on a made-up record, and played episodes of scripted
policies and of an AdA network (the same episodes as `arena eval trials`).

The played tasks are those of `test_xland_trials_eval`: the room of R1-9x9
full of red balls, goal agent_near(green ball), which nothing reaches, so
every trial fails; with `same_world` each trial starts from the episode's
first placement.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from rich.table import Table

from agents.core import runs
from eval.xland import behaviour
from games.xland import play as xland_play
from games.xland import trials
from tests.eval.test_xland_trials_eval import (  # pylint: disable=unused-import
    GREEN, RED, TURN_LEFT, _ball_tasks, fast_compile)  # noqa: F401

PICK_UP = 3
RED_BALL = 3 * 256 + RED  # (tile, colour) code of a held red ball
CFG = trials.TrialsConfig(layout="R1-9x9", num_trials=3, steps_per_trial=8,
                          same_world=True)
IMPOSSIBLE = trials.tasks_of(_ball_tasks([GREEN] * 6), CFG)
A, B, C = 1, 2, 3  # objects


def test_summarise_worked_example():
  success = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 0]], bool)
  first = np.array([[A, B, C], [A, A, A], [B, B, 0], [0, C, A]])
  entropy = np.arange(12, dtype=float).reshape(4, 3)
  out = behaviour.summarise(success, first, entropy, -entropy)
  fail, win = out["after_failures"], out["after_success"]
  # Trial 1: every episode; held in rows 0-2.
  assert fail[0] == {"episodes": 4, "success": 0.25, "held": 0.75,
                     "same_as_last": None, "same_as_earlier": None,
                     "new": None, "entropy": 4.5, "value": -4.5}
  assert win[0]["episodes"] == 0 and win[0]["success"] is None
  # Trial 2 after a failed trial 1: rows 0, 1, 3 (B new, A again, C new).
  assert fail[1] == pytest.approx({
      "episodes": 3, "success": 1 / 3, "held": 1.0, "same_as_last": 1 / 3,
      "same_as_earlier": 1 / 3, "new": 2 / 3, "entropy": (1 + 4 + 10) / 3,
      "value": -(1 + 4 + 10) / 3})
  # ... after a won trial 1: row 2, B again.
  assert win[1] == {"episodes": 1, "success": 1.0, "held": 1.0,
                    "same_as_last": 1.0, "same_as_earlier": 1.0, "new": 0.0,
                    "entropy": 7.0, "value": -7.0}
  # Trial 3 after two failures: rows 0 (C, new) and 3 (A: trial 1 held
  # nothing, so A is new too).
  assert fail[2] == {"episodes": 2, "success": 0.5, "held": 1.0,
                     "same_as_last": 0.0, "same_as_earlier": 0.0, "new": 1.0,
                     "entropy": 6.5, "value": -6.5}
  # ... after a won trial 2: rows 1 (A again) and 2 (nothing).
  assert win[2] == {"episodes": 2, "success": 0.5, "held": 0.5,
                    "same_as_last": 0.5, "same_as_earlier": 0.5, "new": 0.0,
                    "entropy": 6.5, "value": -6.5}
  bare = behaviour.summarise(success, first)
  assert bare["after_failures"][1]["entropy"] is None
  assert bare["after_failures"][1]["value"] is None


def test_first_held_and_trial_means_skip_steps_after_the_episode():
  trial = np.array([[0, 0, 0, 1, 1, 1]])
  held = np.array([[0, 5, 7, 0, 0, 9]])
  active = np.array([[1, 1, 1, 1, 1, 0]], bool)  # the episode ended at 5
  np.testing.assert_array_equal(
      behaviour.first_held(trial, held, active, 2), [[5, 0]])
  np.testing.assert_allclose(behaviour.per_trial_mean(
      np.array([[1.0, 2, 3, 4, 5, 100]]), trial, active, 2), [[2.0, 4.5]])


def _no_memory(batch):
  return jnp.zeros((batch,), jnp.int32)


def _policy(step):  # (equal policies share their compiled episodes)
  return xland_play.MemoryPolicy(init=_no_memory, step=step)


def _always_pick_up(memory, obs, reset, key):
  del obs, reset, key
  return jnp.full(memory.shape, PICK_UP, jnp.int32), memory


def _pick_up_in_trial_1(memory, obs, reset, key):
  del reset, key
  return jnp.where(obs.trial == 0, PICK_UP, TURN_LEFT).astype(
      jnp.int32), memory


def test_scripted_policies_in_the_same_world():
  kwargs = dict(episodes=2, seed=0, batch_size=12)
  # The same placement in every trial: the ball in front is picked up in
  # every trial or in none (facing a wall), and it is the same object.
  out = behaviour.inspect(_policy(_always_pick_up), IMPOSSIBLE, CFG,
                          **kwargs)["after_failures"]
  held = out[0]["held"]
  assert 0 < held <= 1
  for row in out:
    assert row["episodes"] == 12 and row["success"] == 0.0
    assert row["held"] == held and row["entropy"] is None
  for row in out[1:]:
    assert row["same_as_last"] == row["same_as_earlier"] == held
    assert row["new"] == 0.0
  # `held` is the object after each step, up to a trial's last one (before
  # the next trial's world replaces the pocket): here a red ball from the
  # first step of a trial to its last, or nothing (facing a wall).
  _, _, rec = xland_play.play_steps(
      _policy(_always_pick_up), IMPOSSIBLE, CFG, behaviour._keep,  # pylint: disable=protected-access
      episodes=2, key=jax.random.key(0), batch_size=12)
  codes = rec["held"].reshape(12, 3, 8)  # [episode, trial, step]
  facing_ball = codes[:, 0, 0] == RED_BALL
  assert facing_ball.mean() == held
  assert (codes[facing_ball] == RED_BALL).all()
  assert (codes[~facing_ball] == 0).all()
  # Holding only in trial 1.
  out = behaviour.inspect(_policy(_pick_up_in_trial_1), IMPOSSIBLE, CFG,
                          **kwargs)["after_failures"]
  assert out[0]["held"] == held
  assert all(row["held"] == row["new"] == row["same_as_last"] == 0.0
             for row in out[1:])


def test_an_ada_network_plays_the_episodes_of_arena_eval_trials():
  from agents.ada import make_agent  # pylint: disable=g-import-not-at-top
  from configs import ada_smoke  # pylint: disable=g-import-not-at-top
  config = ada_smoke.get_config()
  config = dataclasses.replace(
      config, trials=dataclasses.replace(config.trials, num_trials=3,
                                         same_world=True),
      agent=dataclasses.replace(config.agent, network=dataclasses.replace(
          config.agent.network, memory="gru")))
  agent = make_agent(config)
  policy = agent.memory_policy(runs.fresh_state(agent, 0).params)
  tasks = trials.tasks_of(_ball_tasks([RED] * 4 + [GREEN] * 4),
                          config.trials)
  kwargs = dict(episodes=2, batch_size=16)
  got = behaviour.inspect(policy, tasks, config.trials, seed=5, **kwargs)
  success, _ = xland_play.play_trials(policy, tasks, config.trials,
                                      key=jax.random.key(5), **kwargs)
  success = success.reshape(-1, 3)
  assert success[:8].any() and not success[8:].any()  # easy, impossible
  for k, row in enumerate(got["after_failures"]):
    failed = ~success[:, :k].any(1)
    assert row["episodes"] == failed.sum()
    assert row["success"] == pytest.approx(success[failed, k].mean())
    assert 0 < row["entropy"] <= np.log(6) + 1e-6
    assert np.isfinite(row["value"])


def test_table():
  success = np.array([[0, 1], [1, 1]], bool)
  out = behaviour.summarise(success, np.array([[A, B], [A, A]]))
  table = behaviour.table({"trials": 2, "agent": out}, "agent",
                          "after_failures")
  assert isinstance(table, Table) and table.row_count == 2
