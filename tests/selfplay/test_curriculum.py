"""The task curriculum: uniform, PLR and no-op filtering (`selfplay.curriculum`).

Configs are static under jit, so each distinct config (and shape) compiles
once: the tests share a few configs, a fixed pool size and few batch sizes.
"""

import dataclasses
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from selfplay import curriculum as cur
from selfplay.curriculum import CurriculumConfig, CurriculumState

NUM_TASKS = 100
M = 16              # update batches are padded to M (masked) entries
N = 20_000          # slots per `sample` call
PLR = CurriculumConfig(kind="plr", buffer_size=10, min_fill=0.5)
# Tiny buffers for hand-computed distributions; every slot replays.
RANK = CurriculumConfig(kind="plr", buffer_size=4, temperature=0.5,
                        staleness_coef=0.0, replay_prob=1.0)
STALE = dataclasses.replace(RANK, staleness_coef=0.3)
GREEDY = dataclasses.replace(RANK, temperature=0.05)
VALUE = CurriculumConfig(kind="plr", score="value_loss", buffer_size=3,
                         min_fill=1.0)
# The suite's first no-op filter (passing tasks kept until they fail) and
# AdA's (passing tasks queued, each trained on once).
NOOP = CurriculumConfig(kind="noop_filter", buffer_size=8, min_fill=0.5,
                        replay_prob=1.0, noop_keep=True)
ADA = CurriculumConfig(kind="noop_filter", buffer_size=4, min_fill=1.0,
                       replay_prob=1.0)

_sample = jax.jit(cur.sample, static_argnames=("config", "num_tasks", "n"))
_update = jax.jit(cur.update, static_argnames="config")
_start = jax.jit(cur.start, static_argnames="config")
_keep_draws = jax.jit(cur.keep_draws, static_argnames="config")
_replay_probs = jax.jit(cur.replay_probs, static_argnames="config")


def _state(ids, scores, last_sampled=(0, 0, 0, 0), clock=0):
  ids = jnp.asarray(ids, jnp.int32)
  return CurriculumState(
      task_ids=ids, scores=jnp.asarray(scores, jnp.float32),
      last_sampled=jnp.asarray(last_sampled, jnp.int32),
      size=(ids >= 0).sum().astype(jnp.int32),
      clock=jnp.asarray(clock, jnp.int32))


# Four entries of a 4-slot buffer; slot 1 is empty (its stale score 9 and
# stamp 3 must not count).
HAND = _state([7, -1, 3, 5], [0.1, 9.0, 0.3, 0.2], last_sampled=[0, 3, 6, 8],
              clock=10)
# RANK: ranks 3, -, 1, 2; h = (1 / rank)^(1 / 0.5) = 1/9, 1, 1/4; sum 49/36.
HAND_P_SCORE = np.array([4 / 49, 0, 36 / 49, 9 / 49])


def _record(config, state, task_ids, success_rate=None, value_loss=None,
            mask=None):
  """`update` with the entries padded to M masked ones."""
  m = len(task_ids)
  def pad(x, dtype):
    return jnp.asarray(np.concatenate([np.asarray(x, dtype),
                                       np.zeros(M - m, dtype)]))
  zeros = np.zeros(m)
  return _update(
      config, state, pad(task_ids, np.int32),
      pad(zeros if success_rate is None else success_rate, np.float32),
      pad(zeros if value_loss is None else value_loss, np.float32),
      pad(np.ones(m, bool) if mask is None else mask, bool))


def _contents(state) -> dict[int, tuple[float, int]]:
  """{task: (score, last_sampled)} of the non-empty slots."""
  ids = np.asarray(state.task_ids)
  assert int(state.size) == int((ids >= 0).sum())
  assert len(set(ids[ids >= 0].tolist())) == int(state.size)  # no duplicates
  return {int(t): (round(float(s), 6), int(c)) for t, s, c in zip(
      ids, np.asarray(state.scores), np.asarray(state.last_sampled)) if t >= 0}


@pytest.mark.parametrize("field,value", [
    ("kind", "random"), ("score", "regret"), ("buffer_size", 0),
    ("buffer_size", 2.5), ("replay_prob", 1.5), ("staleness_coef", -0.1),
    ("min_fill", 2.0), ("temperature", 0.0), ("robust", 1),
    ("noop_low", 1.0), ("noop_high", 0.0), ("noop_high", 1.2),
    ("noop_keep", 1),
])
def test_config_rejects_bad_values_naming_the_field(field, value):
  with pytest.raises(ValueError, match=field):
    CurriculumConfig(**{field: value})


def test_init_rejects_pools_too_small():
  with pytest.raises(ValueError, match="num_tasks"):
    cur.init(CurriculumConfig(), 0)
  with pytest.raises(ValueError, match="num_tasks"):
    cur.init(PLR, 4)            # min_fill * buffer_size = 5 tasks needed
  assert dataclasses.replace(PLR, min_fill=0.3).min_replay_size == 3
  assert dataclasses.replace(PLR, min_fill=0.0).min_replay_size == 1
  state = cur.init(PLR, 5)
  assert state.task_ids.shape == (10,) and int(state.size) == 0
  np.testing.assert_array_equal(state.task_ids, -1)


def test_uniform_never_replays_and_covers_the_pool():
  config = CurriculumConfig()
  state = cur.init(config, NUM_TASKS)
  state, ids, replayed, train = _sample(
      config, state, jax.random.key(0), num_tasks=NUM_TASKS, n=N)
  assert ids.dtype == jnp.int32 and ids.shape == (20_000,)
  assert not replayed.any() and train.all()
  counts = np.bincount(np.asarray(ids), minlength=NUM_TASKS)
  assert counts.shape == (NUM_TASKS,)
  assert counts.min() > 130 and counts.max() < 270  # 200 +- 5 sd
  assert int(state.clock) == 1
  after = cur.update(config, state, ids, jnp.zeros(20_000), jnp.zeros(20_000),
                     jnp.ones(20_000, bool))
  chex.assert_trees_all_equal(after, state)


def test_plr_replays_only_once_min_fill_is_reached():
  state = _record(PLR, cur.init(PLR, NUM_TASKS), [0, 1, 2, 3], [0.5] * 4)
  state, ids, replayed, train = _sample(
      PLR, state, jax.random.key(0), num_tasks=NUM_TASKS, n=N)
  assert not replayed.any() and not train.any()
  assert int(ids.min()) >= 0 and int(ids.max()) < NUM_TASKS
  np.testing.assert_array_equal(state.last_sampled, 0)

  state = _record(PLR, state, [4], [0.5])              # 5 = 0.5 * 10
  state, ids, replayed, train = _sample(
      PLR, state, jax.random.key(1), num_tasks=NUM_TASKS, n=N)
  assert abs(float(replayed.mean()) - 0.8) < 0.015     # sd 0.003
  assert set(np.asarray(ids)[np.asarray(replayed)].tolist()) <= {0, 1, 2, 3, 4}
  np.testing.assert_array_equal(train, replayed)       # robust


def test_replay_probs_rank_prioritisation_hand_computed():
  np.testing.assert_allclose(_replay_probs(RANK, HAND), HAND_P_SCORE,
                             rtol=1e-6)
  # Equal scores: the lower slot ranks first (ranks 1, -, 2, 3).
  tied = HAND._replace(scores=jnp.array([0.2, 0.0, 0.2, 0.2]))
  np.testing.assert_allclose(_replay_probs(RANK, tied),
                             np.array([1, 0, 1 / 4, 1 / 9]) / (49 / 36),
                             rtol=1e-6)
  empty = cur.init(RANK, NUM_TASKS)
  np.testing.assert_array_equal(_replay_probs(RANK, empty), 0.0)


def test_replay_probs_staleness_hand_computed():
  p_stale = np.array([10, 0, 4, 2]) / 16            # clock - last_sampled
  np.testing.assert_allclose(_replay_probs(STALE, HAND),
                             0.7 * HAND_P_SCORE + 0.3 * p_stale, rtol=1e-6)
  # All just sampled: the staleness term is uniform over the entries.
  fresh = HAND._replace(last_sampled=jnp.full((4,), 10, jnp.int32))
  np.testing.assert_allclose(
      _replay_probs(STALE, fresh),
      0.7 * HAND_P_SCORE + 0.3 * np.array([1, 0, 1, 1]) / 3, rtol=1e-6)


def test_sampling_follows_replay_probs_and_stamps_replayed_entries():
  probs = np.asarray(_replay_probs(STALE, HAND))
  after, ids, replayed, _ = _sample(STALE, HAND, jax.random.key(3),
                                    num_tasks=NUM_TASKS, n=N)
  assert replayed.all()
  freq = np.array([np.mean(np.asarray(ids) == t) for t in (7, 3, 5)])
  np.testing.assert_allclose(freq, probs[[0, 2, 3]], atol=0.015)  # sd 0.004
  assert int(after.clock) == 11
  np.testing.assert_array_equal(after.last_sampled, [11, 3, 11, 11])


def test_low_temperature_replays_the_best_task_and_stamps_only_it():
  after, ids, replayed, _ = _sample(GREEDY, HAND, jax.random.key(0),
                                    num_tasks=NUM_TASKS, n=N)
  assert replayed.all()
  # Rank 2 has p = 2^-20 / (1 + 2^-20 + 3^-20) ~ 1e-6.
  np.testing.assert_array_equal(ids, 3)
  np.testing.assert_array_equal(after.last_sampled, [0, 3, 11, 8])


def test_keep_draws_restores_the_stamps_of_unplayed_draws():
  # HAND's tasks 7, 3, 5 (slots 0, 2, 3) stamped at 0, 6, 8; drawn at 11.
  ids = jnp.array([7, 3, 3, 5, 42])
  after = HAND._replace(last_sampled=jnp.array([11, 3, 11, 11]),
                        clock=jnp.asarray(11, jnp.int32))
  # Task 3 drawn twice, one of them played; 7 played; 5 not; 42 (a new
  # task) played.
  used = jnp.array([True, False, True, False, True])
  kept = _keep_draws(STALE, after, HAND, ids, used)
  np.testing.assert_array_equal(kept.last_sampled, [11, 3, 11, 8])
  assert int(kept.clock) == 11
  chex.assert_trees_all_equal(
      _keep_draws(CurriculumConfig(), after, HAND, ids, used), after)
  # Nothing played: the buffer's staleness is as before the draw.
  np.testing.assert_array_equal(
      _keep_draws(STALE, after, HAND, ids, jnp.zeros(5, bool)).last_sampled,
      HAND.last_sampled)
  # AdA's queue: a task drawn but not begun keeps its place at the front.
  queue = _state([7, -1, 5, 9], [1.0, 0.0, 1.0, 1.0],
                 last_sampled=[6, 0, 6, 2], clock=10)
  drawn, ids, _, _ = _sample(ADA, queue, jax.random.key(1),
                             num_tasks=NUM_TASKS, n=2)          # 9, 7
  drawn = _keep_draws(ADA, drawn, queue, ids, jnp.array([False, True]))
  _, again, _, _ = _sample(ADA, drawn, jax.random.key(2), num_tasks=NUM_TASKS,
                           n=1)
  assert np.asarray(again).tolist() == [9]


def test_update_inserts_rescores_and_replaces_the_lowest_if_higher():
  state = _record(VALUE, cur.init(VALUE, NUM_TASKS), [10, 11, 12],
                  value_loss=[0.5, 0.2, 0.9])
  assert _contents(state) == {10: (0.5, 0), 11: (0.2, 0), 12: (0.9, 0)}
  state = state._replace(clock=jnp.asarray(4, jnp.int32))
  state = _record(VALUE, state, [11], value_loss=[0.7])   # re-scored
  assert _contents(state) == {10: (0.5, 0), 11: (0.7, 4), 12: (0.9, 0)}
  for lower_or_equal in (0.1, 0.5):                        # lowest is 0.5
    same = _record(VALUE, state, [13], value_loss=[lower_or_equal])
    chex.assert_trees_all_equal(same, state)
  state = _record(VALUE, state, [13], value_loss=[0.6])
  assert _contents(state) == {13: (0.6, 4), 11: (0.7, 4), 12: (0.9, 0)}
  # Masked entries are ignored, however high their score.
  same = _record(VALUE, state, [14, 15], value_loss=[100.0, 100.0],
                 mask=[False, False])
  chex.assert_trees_all_equal(same, state)


def test_update_merges_duplicate_tasks_by_averaging():
  state = _record(PLR, cur.init(PLR, NUM_TASKS), [20, 21, 20, 20],
                  success_rate=[0.2, 0.5, 0.6, 1.0],
                  mask=[True, True, True, False])
  # Task 20: p = mean(0.2, 0.6) = 0.4 (the masked 1.0 is ignored).
  assert _contents(state) == {20: (0.24, 0), 21: (0.25, 0)}
  # Same when the task is already in the buffer: p = mean(0, 1).
  state = _record(PLR, state, [20, 20], success_rate=[0.0, 1.0])
  assert _contents(state) == {20: (0.25, 0), 21: (0.25, 0)}


def _reference_update(contents, size, clock, ids, value_loss, mask):
  """One task at a time: re-score, then insert or replace the lowest."""
  merged = {}
  for t, v, keep in zip(ids, value_loss, mask):
    if keep:
      merged.setdefault(int(t), []).append(float(v))
  buf = dict(contents)
  for t, vs in sorted(merged.items()):
    if t in buf:
      buf[t] = (np.mean(vs), clock)
  for t, vs in sorted(merged.items()):
    if t in contents:
      continue
    score = np.mean(vs)
    if len(buf) < size:
      buf[t] = (score, clock)
    else:
      lowest = min(buf, key=lambda k: buf[k][0])
      if score > buf[lowest][0]:
        del buf[lowest]
        buf[t] = (score, clock)
  return buf


def test_update_matches_a_one_at_a_time_reference():
  state = cur.init(VALUE, NUM_TASKS)
  rng = np.random.default_rng(0)
  for step in range(12):
    ids = rng.integers(0, 8, M)                 # duplicates are likely
    value_loss = rng.random(M).astype(np.float32)
    mask = rng.random(M) < 0.5
    want = _reference_update(_contents(state), VALUE.buffer_size, step, ids,
                             value_loss, mask)
    state = _record(VALUE, state, ids, value_loss=value_loss, mask=mask)
    got = _contents(state)
    assert set(got) == set(want), step
    for t, (score, stamp) in want.items():
      np.testing.assert_allclose(got[t][0], score, atol=1e-6)
      assert got[t][1] == stamp
    state = state._replace(clock=state.clock + 1)
  assert int(state.size) == VALUE.buffer_size


def test_learnability_scores():
  np.testing.assert_allclose(cur.learnability(jnp.array([0.0, 1.0, 0.5])),
                             [0.0, 0.0, 0.25])
  state = _record(PLR, cur.init(PLR, NUM_TASKS), [1, 2, 3, 4],
                  success_rate=[0.0, 1.0, 0.5, 0.25])
  assert _contents(state) == {1: (0.0, 0), 2: (0.0, 0), 3: (0.25, 0),
                              4: (0.1875, 0)}


def test_noop_filter_keeps_evicts_and_replays_uniformly():
  state = _record(NOOP, cur.init(NOOP, NUM_TASKS), [1, 2, 3, 4, 5, 6],
                  success_rate=[0.0, 1.0, 0.5, 0.3, 0.999, 0.9],
                  mask=[True] * 5 + [False])
  assert _contents(state) == {3: (1.0, 0), 4: (1.0, 0), 5: (1.0, 0)}
  # Below min_fill (4 of 8): new tasks only, and robust trains on none.
  _, _, replayed, train = _sample(NOOP, state, jax.random.key(0),
                                  num_tasks=NUM_TASKS, n=N)
  assert not replayed.any() and not train.any()
  state = _record(NOOP, state, [3], success_rate=[1.0])   # now solved
  assert set(_contents(state)) == {4, 5}
  state = _record(NOOP, state, [7, 8], success_rate=[0.5, 0.5])
  probs = np.asarray(_replay_probs(NOOP, state))
  valid = np.asarray(state.task_ids) >= 0
  np.testing.assert_allclose(probs[valid], 0.25)
  np.testing.assert_array_equal(probs[~valid], 0.0)
  _, ids, replayed, train = _sample(NOOP, state, jax.random.key(0),
                                    num_tasks=NUM_TASKS, n=N)
  assert replayed.all() and train.all()
  counts = np.array([np.sum(np.asarray(ids) == t) for t in (4, 5, 7, 8)])
  assert counts.sum() == 20_000
  assert counts.min() > 4700 and counts.max() < 5300  # 5000 +- 5 sd


def test_noop_filter_bounds_are_strict():
  config = dataclasses.replace(NOOP, noop_low=0.2, noop_high=0.8)
  state = _record(config, cur.init(config, NUM_TASKS), [1, 2, 3, 4],
                  success_rate=[0.2, 0.8, 0.5, 0.1])
  assert set(_contents(state)) == {3}


def test_noop_filter_full_buffer_turns_over_only_by_eviction():
  state = _record(NOOP, cur.init(NOOP, NUM_TASKS), list(range(1, 10)),
                  success_rate=[0.5] * 9)
  assert set(_contents(state)) == set(range(1, 9))   # ties: lower ids first
  state = _record(NOOP, state, [1, 9], success_rate=[0.0, 0.5])
  assert set(_contents(state)) == set(range(2, 10))  # 1 failed: room for 9


def test_ada_noop_filter_queues_only_new_passing_tasks_ignoring_min_fill():
  assert not ADA.noop_keep and ADA.min_replay_size == 1  # min_fill 1.0
  state = _record(ADA, cur.init(ADA, NUM_TASKS)._replace(
      clock=jnp.asarray(3, jnp.int32)), [1, 2, 3, 4],
                  success_rate=[0.0, 1.0, 0.25, 0.75])
  assert _contents(state) == {3: (1.0, 3), 4: (1.0, 3)}  # (queued, joined)
  # Replaying slots take the queued tasks, no task twice in a call; the
  # slots left over play new tasks and, robust, are not trained on.
  state, ids, replayed, train = _sample(ADA, state, jax.random.key(0),
                                        num_tasks=NUM_TASKS, n=5)
  np.testing.assert_array_equal(replayed, [True, True, False, False, False])
  np.testing.assert_array_equal(train, replayed)
  assert sorted(np.asarray(ids)[:2].tolist()) == [3, 4]
  assert _contents(state) == {3: (1.0, 4), 4: (1.0, 4)}  # drawn at clock 4


def test_ada_noop_filter_takes_the_least_recently_drawn_first():
  # Slot 1 is empty; task 9 was drawn longest ago, then 7 and 5 (tie: the
  # lower slot first).
  state = _state([7, -1, 5, 9], [1.0, 0.0, 1.0, 1.0],
                 last_sampled=[6, 0, 6, 2], clock=10)
  got = []
  for n in (1, 2, 3, 4):
    _, ids, replayed, _ = _sample(ADA, state, jax.random.key(1),
                                  num_tasks=NUM_TASKS, n=n)
    got.append(np.asarray(ids)[np.asarray(replayed)].tolist())
  assert got == [[9], [9, 7], [9, 7, 5], [9, 7, 5]]
  # Drawn tasks go to the back of the queue.
  state, _, _, _ = _sample(ADA, state, jax.random.key(1), num_tasks=NUM_TASKS,
                           n=2)
  _, ids, _, _ = _sample(ADA, state, jax.random.key(2), num_tasks=NUM_TASKS,
                         n=1)
  assert np.asarray(ids).tolist() == [5]


def test_ada_noop_filter_trains_on_a_task_once_and_never_requeues_it():
  state = _record(ADA, cur.init(ADA, NUM_TASKS), [1, 2],
                  success_rate=[0.5, 0.5])
  state, ids, replayed, _ = _sample(ADA, state, jax.random.key(0),
                                    num_tasks=NUM_TASKS, n=2)
  assert replayed.all()
  # Only the slot whose episode began takes its task out of the queue.
  began = np.asarray(ids) == 1
  state = _start(ADA, state, ids, jnp.asarray(began))
  assert _contents(state) == {1: (0.0, 1), 2: (1.0, 1)}
  for i in range(3):  # the marker is never drawn
    _, again, replayed, _ = _sample(ADA, state, jax.random.key(i),
                                    num_tasks=NUM_TASKS, n=2)
    assert np.asarray(again)[np.asarray(replayed)].tolist() == [2]
  # An episode of task 2 ending while it is queued (an evaluation episode
  # of a task drawn from the pool again) leaves it queued.
  state = _record(ADA, state, [2], success_rate=[0.0])
  assert set(_contents(state)) == {1, 2}
  # Task 1's training episode ends, passing the test or not: it leaves.
  assert set(_contents(_record(ADA, state, [1], success_rate=[0.5]))) == {2}
  assert set(_contents(_record(ADA, state, [1], success_rate=[1.0]))) == {2}
  # Starting a task that is not queued (a new task) changes nothing.
  chex.assert_trees_all_equal(
      _start(ADA, state, jnp.array([7, 9]), jnp.array([True, True])), state)


def test_start_changes_nothing_for_other_kinds():
  for config in (PLR, NOOP, CurriculumConfig()):
    state = _record(config, cur.init(config, NUM_TASKS), [1, 2],
                    success_rate=[0.5, 0.5])
    chex.assert_trees_all_equal(
        _start(config, state, jnp.array([1, 2]), jnp.array([True, True])),
        state)


def test_ada_noop_filter_full_queue_admits_nothing_more():
  state = _record(ADA, cur.init(ADA, NUM_TASKS), [6, 5, 4, 3, 2, 1],
                  success_rate=[0.5] * 6)
  assert set(_contents(state)) == {1, 2, 3, 4}   # lower ids fill first
  assert set(_contents(_record(ADA, state, [9], success_rate=[0.5]))) == {
      1, 2, 3, 4}
  state = _start(ADA, state, jnp.array([1]), jnp.array([True]))
  state = _record(ADA, state, [1, 9], success_rate=[0.5, 0.5])
  assert set(_contents(state)) == {2, 3, 4, 9}   # 1 trained: room for 9


def test_ada_noop_filter_replay_prob_sets_the_share_of_training_slots():
  config = dataclasses.replace(ADA, replay_prob=0.3, buffer_size=N)
  state = cur.init(config, N)
  state = state._replace(task_ids=jnp.arange(N, dtype=jnp.int32),
                         scores=jnp.ones((N,), jnp.float32),
                         size=jnp.asarray(N, jnp.int32))
  _, ids, replayed, train = _sample(config, state, jax.random.key(3),
                                    num_tasks=NUM_TASKS, n=N)
  share = float(np.mean(replayed))
  assert abs(share - 0.3) < 5 * np.sqrt(0.3 * 0.7 / N)
  np.testing.assert_array_equal(train, replayed)
  picked = np.asarray(ids)[np.asarray(replayed)]
  assert len(set(picked.tolist())) == len(picked)   # distinct
  np.testing.assert_array_equal(np.sort(picked), np.arange(len(picked)))


def test_non_robust_trains_on_every_slot():
  config = dataclasses.replace(RANK, replay_prob=0.5, robust=False)
  _, _, replayed, train = _sample(config, HAND, jax.random.key(0),
                                  num_tasks=NUM_TASKS, n=N)
  assert 0 < int(replayed.sum()) < N and train.all()


def test_same_key_same_result():
  state = _record(PLR, cur.init(PLR, NUM_TASKS), list(range(8)),
                  success_rate=np.linspace(0, 1, 8))
  a = _sample(PLR, state, jax.random.key(7), num_tasks=NUM_TASKS, n=N)
  b = _sample(PLR, state, jax.random.key(7), num_tasks=NUM_TASKS, n=N)
  chex.assert_trees_all_equal(a, b)
  c = _sample(PLR, state, jax.random.key(8), num_tasks=NUM_TASKS, n=N)
  assert not np.array_equal(a[1], c[1])


def test_jit_with_a_partial_config_traces_once():
  # As in a training step: the config bound with functools.partial.
  sample_fn = functools.partial(cur.sample, PLR, num_tasks=NUM_TASKS, n=N)
  update_fn = functools.partial(cur.update, PLR)

  @jax.jit
  @chex.assert_max_traces(n=1)
  def sample(state, key):
    return sample_fn(state, key)

  @jax.jit
  @chex.assert_max_traces(n=1)
  def update(state, task_ids, success_rate, value_loss, mask):
    return update_fn(state, task_ids, success_rate, value_loss, mask)

  state = ref = cur.init(PLR, NUM_TASKS)
  mask = jnp.arange(M) % 4 != 0
  for i in range(4):
    key = jax.random.key(i)
    state, ids, _, _ = sample(state, key)
    ref, ref_ids, _, _ = _sample(PLR, ref, key, num_tasks=NUM_TASKS, n=N)
    p = jnp.round(jax.random.uniform(jax.random.fold_in(key, 1), (M,)) * 4) / 4
    state = update(state, ids[:M], p, p, mask)
    ref = _update(PLR, ref, ref_ids[:M], p, p, mask)
    chex.assert_trees_all_equal(state, ref)
  assert int(state.size) > 0 and int(state.clock) == 4


def test_stats():
  got = {k: float(v) for k, v in cur.stats(RANK, HAND).items()}
  np.testing.assert_allclose(
      [got["fill"], got["size"], got["clock"], got["mean_score"],
       got["max_score"], got["min_score"], got["mean_staleness"]],
      [0.75, 3, 10, 0.2, 0.3, 0.1, 16 / 3], rtol=1e-6)
  assert "queued" not in got
  # AdA's filter: task 7 under way, 5 and 9 queued.
  ada = {k: float(v) for k, v in cur.stats(ADA, _state(
      [7, -1, 5, 9], [0.0, 1.0, 1.0, 1.0])).items()}
  assert (ada["queued"], ada["under_way"], ada["size"]) == (2, 1, 3)
  empty = {k: float(v) for k, v in
           cur.stats(RANK, cur.init(RANK, NUM_TASKS)).items()}
  assert empty == {"fill": 0.0, "size": 0.0, "clock": 0.0, "mean_score": 0.0,
                   "max_score": 0.0, "min_score": 0.0, "mean_staleness": 0.0}
