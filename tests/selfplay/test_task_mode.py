"""The Anakin driver's task mode (AdA on XLand-MiniGrid): a resumed run is
the uninterrupted run (environments, memories and curriculum restored from
the checkpoint), the logged trial metrics, and the rollout's bookkeeping."""

import chex
import jax
import numpy as np
import pytest

from agents.core import runs
from selfplay import anakin
from selfplay import config as config_lib
from selfplay import logging as log_lib
from selfplay import task_mode, trial_rollout

# Robust PLR with a small buffer: nothing is trained on until it holds 4.
SMOKE = ["run.log_every=2", "run.checkpoint_every=2"]


def _cfg(*extra):
  return config_lib.load("ada_smoke", SMOKE + list(extra))


def _resume_matches(cfg, tmp_path, stop: int, end: int, keys):
  """Trains `end` steps in one go and in two (stopped at `stop`); asserts
  equal parameters and equal `keys` in every record; the records."""
  anakin.train(cfg, tmp_path / "a", num_steps=end, progress="off")
  anakin.train(cfg, tmp_path / "b", num_steps=stop, progress="off")
  result = anakin.train(cfg, tmp_path / "b", num_steps=end, resume=True,
                        progress="off")
  assert result.step == end and result.stop_reason == "steps"
  a, b = anakin.restore_run(tmp_path / "a"), anakin.restore_run(tmp_path / "b")
  chex.assert_trees_all_equal(a.state.params, b.state.params)
  ra, rb = log_lib.read_metrics(tmp_path / "a"), log_lib.read_metrics(
      tmp_path / "b")
  for key in ("loss", *keys):
    np.testing.assert_allclose([r[key] for r in ra], [r[key] for r in rb],
                               err_msg=key, rtol=1e-6)
  return ra


def test_resumed_run_equals_uninterrupted_run(tmp_path):
  ra = _resume_matches(_cfg(), tmp_path, 2, 6, (
      "train/episodes_per_step", "curriculum/size", "trained_fraction"))
  # Environment steps count every environment's steps.
  assert [r["env_steps"] for r in ra] == [128, 256, 384]
  # The robust curriculum trains on nothing before its buffer can replay,
  # then on replayed tasks only.
  assert ra[0]["trained_fraction"] == 0.0 and ra[-1]["trained_fraction"] > 0
  assert any(k.startswith("train/success_trial_") for k in ra[-1])


def test_resumed_run_with_ada_noop_filter_equals_uninterrupted_run(tmp_path):
  # The queue, its draws and the markers of episodes under way resume too.
  # The GRU (the test above resumes the transformer's memory): half the
  # compile time.
  cfg = _cfg("curriculum.kind=noop_filter", "agent.batch_size=32",
             "run.log_every=4", "run.checkpoint_every=4",
             "agent.network.memory=gru")
  ra = _resume_matches(cfg, tmp_path, 12, 16, (
      "curriculum/queued", "curriculum/under_way", "trained_fraction"))
  # Tasks were queued around the stop, and trained on after it.
  assert ra[2]["curriculum/queued"] + ra[2]["curriculum/under_way"] > 0
  assert ra[3]["trained_fraction"] > 0


def test_ratio_metrics_by_hand():
  counts = {"train/episodes": 4.0, "train/successes": 1.5,
            "train/trial_1_successes": 1.0, "train/trial_1_ended": 4.0,
            "train/trial_2_successes": 0.0, "train/trial_2_ended": 0.0,
            "loss": 2.0}
  out = trial_rollout.ratio_metrics(counts, 2)
  assert out == {"train/success": 0.375, "train/success_trial_1": 0.25,
                 "train/episodes_per_step": 4.0, "loss": 2.0}


def test_evaluation_metrics_flatten_a_summary():
  from games.xland import play  # pylint: disable=g-import-not-at-top
  # 1 task, 2 episodes, 2 trials: trial 1 fails once, trial 2 always wins.
  summary = play.summarise(np.array([[[0, 1], [1, 1]]], bool),
                           np.array([[[0.0, 0.5], [0.25, 0.75]]]))
  out = task_mode.TrialsEvaluator._flatten(  # pylint: disable=protected-access
      "eval/", summary)
  assert out == {"eval/success_trial_1": 0.5, "eval/success_trial_2": 1.0,
                 "eval/return_trial_1": 0.125, "eval/return_trial_2": 0.625,
                 "eval/success_after_success_trial_2": 1.0,
                 "eval/success_after_failure_trial_2": 1.0}


def _rollout(cfg):
  """(agent, its initial state, a rollout carry, the jitted batch_fn)."""
  game, agent = anakin.build(cfg)
  carry = trial_rollout.init_carry(game, agent, cfg.curriculum,
                                   jax.random.key(0), agent.batch_size)
  batch_fn = jax.jit(trial_rollout.make_batch_fn(game, agent,
                                                 cfg.curriculum))
  return agent, runs.fresh_state(agent, 1), carry, batch_fn


def test_rollout_records_each_ended_episode_once():
  agent, state, carry, batch_fn = _rollout(
      config_lib.load("ada_smoke", ["curriculum.kind=uniform"]))
  ended = 0.0
  for i in range(4):  # 4 segments of 8 steps: 32 steps, episodes of <= 16
    batch, carry, metrics = batch_fn(state, jax.random.key(i), carry)
    ended += float(metrics["train/episodes"])
    done = np.asarray(batch.trajectory.done)
    # An episode's end is followed by a new episode's first step.
    starts = np.asarray(batch.trajectory.obs.episode_start)
    np.testing.assert_array_equal(done[:, :-1], starts[:, 1:])
    assert float(metrics["train/episodes"]) == done.sum()
    # A uniform curriculum trains on every step.
    assert np.asarray(batch.trajectory.mask).all()
  # Every environment finished at least two episodes of at most 16 steps.
  assert ended >= 2 * agent.batch_size
  assert isinstance(task_mode.TaskSource, type)


def test_each_episode_begun_in_a_segment_has_its_own_task_and_world():
  """Trials of one step: episodes of 2 steps, 4 begun in each slot in a
  segment of 8. Each draws its own task and world, so what they show
  differs but by chance (egocentric views of a room may coincide). One draw
  per slot and segment replayed one task in one world (at most 2 distinct
  episodes of 4), favouring the tasks solved fastest."""
  _, state, carry, batch_fn = _rollout(config_lib.load("ada_smoke", [
      "curriculum.kind=uniform", "trials.steps_per_trial=1"]))
  distinct = []
  for i in range(2):  # (keys other than the carry's key 0)
    batch, carry, _ = batch_fn(state, jax.random.key(10 + i), carry)
    obs = batch.trajectory.obs
    starts = np.asarray(obs.episode_start)
    np.testing.assert_array_equal(starts, np.tile([1, 0], (8, 4)))
    # Each episode's goal and views (both trials: the world placed anew).
    seen = np.concatenate([np.asarray(obs.view).reshape(8, 4, -1),
                           np.asarray(obs.goal).reshape(8, 4, -1)], -1)
    distinct += [len({row.tobytes() for row in slot}) for slot in seen]
  assert np.mean(distinct) > 3.5, distinct


def test_plr_stamps_only_the_tasks_of_episodes_played():
  """Of the 4 draws per slot and segment (8 steps, trials of 8 or fewer),
  only those an episode began with, and the tasks of episodes that ended,
  are stamped with the segment's clock (staleness counts from play)."""
  _, state, carry, batch_fn = _rollout(_cfg("curriculum.replay_prob=1.0"))
  counts = []
  for i in range(12):
    batch, carry, _ = batch_fn(state, jax.random.key(10 + i), carry)
    cs = carry.curriculum
    stamped = ((np.asarray(cs.last_sampled) == int(cs.clock)) &
               (np.asarray(cs.task_ids) >= 0)).sum()
    done = int(np.asarray(batch.trajectory.done).sum())
    counts.append((int(stamped), done))
    assert stamped <= 2 * done, counts
  # Past its minimum fill (4 of 16) from the second segment: every slot
  # replays from then on.
  assert int(carry.curriculum.size) >= 4 and counts[1][1] > 0


def test_ada_noop_filter_marks_exactly_the_training_episodes_under_way():
  _, state, carry, batch_fn = _rollout(_cfg(
      "curriculum.kind=noop_filter", "curriculum.buffer_size=64",
      "agent.batch_size=32"))
  assert not np.asarray(carry.train).any()     # nothing has passed yet
  trained = 0
  for i in range(16):  # episodes of 16 steps, segments of 8
    _, carry, _ = batch_fn(state, jax.random.key(i), carry)
    training = np.asarray(carry.task)[np.asarray(carry.train)].tolist()
    # Each training episode under way holds its task's marker (score 0),
    # no two at once the same task; every marker is such an episode's.
    ids = np.asarray(carry.curriculum.task_ids)
    markers = ids[(ids >= 0) & (np.asarray(carry.curriculum.scores) == 0)]
    assert sorted(training) == sorted(markers.tolist())
    assert len(set(training)) == len(training)
    trained += len(training)
  assert trained > 0


@pytest.mark.parametrize("bad, match", [
    ("curriculum.kind=best", "curriculum.kind"),
    ("trials.num_trials=40", "max_trials")])
def test_config_errors(bad, match):
  with pytest.raises(ValueError, match=match):
    _cfg(bad)
