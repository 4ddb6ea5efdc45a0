"""An automated task curriculum for AdA-style meta-RL, in pure JAX.

AdA (Adaptive Agent team 2023, https://arxiv.org/abs/2301.07608) trains on a
curriculum of tasks that are neither too easy nor too hard. This module picks
which task each actor plays next. Tasks are integer indices `0..num_tasks-1`
into a pool the caller holds; an episode is K trials of one task. Three kinds:

- `"uniform"`: every task is drawn uniformly from the pool; nothing is stored.
- `"plr"`: Prioritized Level Replay (Jiang et al. 2021,
  https://arxiv.org/abs/2010.03934). A buffer of `buffer_size` tasks with
  scores; each slot replays a buffer task with probability `replay_prob`
  (once the buffer is `min_fill` full), drawn from
  `P = (1 - staleness_coef) P_score + staleness_coef P_staleness` with
  rank-based `P_score`. The score is either the learnability p(1 - p) of the
  episode's success rate p ("No Regrets"/SFL, Rutherford et al. 2024,
  https://arxiv.org/abs/2408.15099) or the episode's positive value loss
  (PLR), which the caller computes.
- `"noop_filter"`: AdA's no-op filtering (Adaptive Agent team 2023,
  "Auto-curriculum learning"). AdA's task-evaluation workers play candidate
  tasks with the current agent and a no-op policy and pass on only the
  tasks the agent does better on than the no-op policy and does not already
  master; the learners train on the tasks that passed. In XLand-MiniGrid a
  no-op policy never scores, so "better than no-op" reduces to "solves at
  least once": a task passes iff the success rate p of an episode of it
  satisfies `noop_low < p < noop_high` (strictly; defaults 0 and 1). Here a
  slot that does not replay plays a new task from the pool (an evaluation
  episode: with `robust` it gives no gradient); a passing task joins a
  queue (the buffer), and replaying slots take queued tasks, least recently
  drawn first, no two slots the same task in one call. A drawn task is
  trained on once: when its episode starts (`start`) it stays in the buffer
  only as a marker that its episode is under way, and leaves when that
  episode ends. A replaying slot finding the queue empty plays a new task
  instead; `min_fill` does not apply. With `noop_keep` (this suite's first
  filter) a passing task is instead kept and replayed uniformly until one
  of its episodes fails the test.

With `robust` (Robust PLR, Jiang et al. 2021, "Replay-Guided Adversarial
Environment Design", https://arxiv.org/abs/2110.02439) only replayed tasks
give gradients: `sample` returns a per-slot `train` flag and the caller masks
its loss with it. Defaults are those of JaxUED's `examples/maze_plr.py`
(Coward et al. 2024, https://arxiv.org/abs/2403.13091).

The state is a NamedTuple of arrays, so `sample` and `update` run inside a
jitted training step and a checkpoint (e.g. orbax) resumes exactly.

The clock counts `sample` calls. Staleness is measured in calls, not in
episodes as in PLR; with a fixed number of slots per call the two differ by
a constant factor, which the normalisation of P_staleness removes.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from agents.core.experiment import CurriculumConfig

_EMPTY = -1                                 # task id of an empty buffer slot
_NO_TASK = int(jnp.iinfo(jnp.int32).max)    # sorts after every real task id


class CurriculumState(NamedTuple):
  """The task buffer. Empty slots have task id -1 and may sit anywhere."""
  task_ids: jax.Array      # [S] int32, -1 = empty slot
  scores: jax.Array        # [S] float32, meaningless where empty
  last_sampled: jax.Array  # [S] int32, clock of last sample or update
  size: jax.Array          # [] int32, number of non-empty slots
  clock: jax.Array         # [] int32, number of `sample` calls so far


def _check_num_tasks(num_tasks: int) -> None:
  if isinstance(num_tasks, int) and not 0 < num_tasks < _NO_TASK:
    raise ValueError(f"num_tasks must be in [1, {_NO_TASK}), got {num_tasks}")


def init(config: CurriculumConfig, num_tasks: int) -> CurriculumState:
  """An empty curriculum over tasks `0..num_tasks-1`.

  Args:
    config: the curriculum's config.
    num_tasks: the size of the task pool.

  Returns:
    A state with an empty buffer of `config.buffer_size` slots and clock 0.

  Raises:
    ValueError: if `num_tasks` < 1, or if the pool is too small for the
      buffer ever to hold `config.min_replay_size` tasks (it would never
      replay).
  """
  _check_num_tasks(num_tasks)
  if config.kind != "uniform" and num_tasks < config.min_replay_size:
    raise ValueError(
        f"num_tasks={num_tasks} is below min_fill * buffer_size = "
        f"{config.min_replay_size}: the buffer could never fill enough to "
        "replay; lower buffer_size or min_fill")
  s = config.buffer_size
  return CurriculumState(
      task_ids=jnp.full((s,), _EMPTY, jnp.int32),
      scores=jnp.zeros((s,), jnp.float32),
      last_sampled=jnp.zeros((s,), jnp.int32),
      size=jnp.zeros((), jnp.int32),
      clock=jnp.zeros((), jnp.int32))


def learnability(success_rate: jax.Array) -> jax.Array:
  """p (1 - p): the variance of a trial's success, largest at p = 0.5.

  Args:
    success_rate: [...] float, successes / trials of an episode.

  Returns:
    [...] float32, 0 for tasks always or never solved, 0.25 at p = 0.5.
  """
  p = jnp.asarray(success_rate, jnp.float32)
  return p * (1.0 - p)


def replay_probs(config: CurriculumConfig,
                 state: CurriculumState) -> jax.Array:
  """The distribution a replaying slot draws buffer slots from.

  For "plr", `(1 - staleness_coef) P_score + staleness_coef P_staleness`:
  `P_score` ∝ (1 / rank)^(1 / temperature) over non-empty slots, rank 1 the
  highest score (ties go to the lower slot index); `P_staleness` ∝
  `clock - last_sampled` over non-empty slots, uniform if all are 0. For
  "noop_filter" and "uniform", uniform over non-empty slots.

  Args:
    config: the curriculum's config.
    state: the curriculum's state.

  Returns:
    [S] float32 probabilities, 0 on empty slots; all 0 if the buffer is empty.
  """
  valid = state.task_ids >= 0
  num_valid = jnp.maximum(valid.sum(), 1).astype(jnp.float32)
  uniform = valid.astype(jnp.float32) / num_valid
  if config.kind != "plr":
    return uniform
  s = config.buffer_size
  index = jnp.arange(s, dtype=jnp.int32)
  # Empty slots rank last; among equal scores the lower slot ranks first.
  order = jnp.lexsort((index, -state.scores, ~valid))
  rank = jnp.zeros((s,), jnp.float32).at[order].set(
      jnp.arange(1, s + 1, dtype=jnp.float32))
  h = jnp.where(valid, rank ** (-1.0 / config.temperature), 0.0)
  p_score = h / jnp.maximum(h.sum(), jnp.finfo(jnp.float32).tiny)
  staleness = jnp.where(
      valid, (state.clock - state.last_sampled).astype(jnp.float32), 0.0)
  total = staleness.sum()
  p_stale = jnp.where(total > 0, staleness / jnp.maximum(total, 1.0), uniform)
  return ((1.0 - config.staleness_coef) * p_score
          + config.staleness_coef * p_stale)


def sample(config: CurriculumConfig, state: CurriculumState,
           key: chex.PRNGKey, num_tasks: int, n: int,
           ) -> tuple[CurriculumState, jax.Array, jax.Array, jax.Array]:
  """Picks the task each of `n` slots plays next.

  Each slot independently replays with probability `replay_prob`, but only
  once the buffer holds `config.min_replay_size` tasks (never for
  "uniform"); a replaying slot draws a buffer slot from `replay_probs`
  (with replacement: two slots may replay the same task). Other slots draw
  a new task uniformly from the pool. AdA's no-op filter differs (see the
  module docstring): replaying slots take distinct queued tasks, at any
  fill. Advances the clock by one and stamps replayed entries with the new
  clock.

  Args:
    config: the curriculum's config.
    state: the curriculum's state.
    key: consumed.
    num_tasks: the size of the task pool (static).
    n: the number of slots (static).

  Returns:
    `(state, task_ids, replayed, train)`: task_ids [n] int32, replayed [n]
    bool, and train [n] bool, which is `replayed | ~robust` (all True for
    "uniform").

  Raises:
    ValueError: if `num_tasks` < 1.
  """
  _check_num_tasks(num_tasks)
  key_new, key_replay, key_slot = jax.random.split(key, 3)
  new_tasks = jax.random.randint(key_new, (n,), 0, num_tasks, jnp.int32)
  clock = state.clock + 1
  if config.kind == "uniform":
    ones = jnp.ones((n,), bool)
    return state._replace(clock=clock), new_tasks, ~ones, ones
  s = config.buffer_size
  if config.trains_once:
    return _sample_queue(config, state, key_replay, new_tasks, clock)
  can_replay = state.size >= config.min_replay_size
  replayed = can_replay & (
      jax.random.uniform(key_replay, (n,)) < config.replay_prob)
  p = replay_probs(config, state)
  # An empty buffer has p = 0 everywhere; no slot replays then, but `choice`
  # still needs a distribution.
  p = jnp.where(state.size > 0, p, 1.0 / s)
  slots = jax.random.choice(key_slot, s, (n,), replace=True, p=p)
  return _draw(config, state, replayed, slots, new_tasks, clock)


def _draw(config: CurriculumConfig, state: CurriculumState,
          replayed: jax.Array, slots: jax.Array, new_tasks: jax.Array,
          clock: jax.Array,
          ) -> tuple[CurriculumState, jax.Array, jax.Array, jax.Array]:
  """`sample`'s result: replaying slots play their buffer slot's task
  (stamped with the clock), the others `new_tasks`."""
  task_ids = jnp.where(replayed, state.task_ids[slots], new_tasks)
  last_sampled = state.last_sampled.at[
      jnp.where(replayed, slots, config.buffer_size)].set(clock, mode="drop")
  train = replayed | (not config.robust)
  return (state._replace(last_sampled=last_sampled, clock=clock),
          task_ids, replayed, train)


def _sample_queue(config: CurriculumConfig, state: CurriculumState,
                  key: chex.PRNGKey, new_tasks: jax.Array, clock: jax.Array,
                  ) -> tuple[CurriculumState, jax.Array, jax.Array, jax.Array]:
  """`sample` for AdA's no-op filter: replaying slots take distinct queued
  tasks, least recently drawn first (then lower slot), while there are any;
  the rest play `new_tasks`."""
  s, n = config.buffer_size, new_tasks.shape[0]
  index = jnp.arange(s, dtype=jnp.int32)
  queued = (state.task_ids >= 0) & (state.scores > 0)
  order = jnp.lexsort((index, state.last_sampled, ~queued))
  wants = jax.random.uniform(key, (n,)) < config.replay_prob
  rank = jnp.cumsum(wants) - 1                 # the k-th slot wanting a task
  replayed = wants & (rank < queued.sum())
  slots = order[jnp.clip(rank, 0, s - 1)]
  return _draw(config, state, replayed, slots, new_tasks, clock)


def _merge_duplicates(task_ids: jax.Array, success_rate: jax.Array,
                      value_loss: jax.Array, mask: jax.Array,
                      ) -> tuple[jax.Array, jax.Array, jax.Array]:
  """Averages the entries of each task: (ids [m], p [m], value loss [m]).

  Returns one row per distinct unmasked task, in increasing task id, then
  rows with id `_NO_TASK` as padding.
  """
  m = task_ids.shape[0]
  ids = jnp.where(mask, task_ids, _NO_TASK)
  order = jnp.argsort(ids)
  sorted_ids = ids[order]
  first = jnp.concatenate(
      [jnp.ones((1,), bool), sorted_ids[1:] != sorted_ids[:-1]])
  segment = jnp.cumsum(first) - 1                         # [m] in 0..m-1
  weight = mask[order].astype(jnp.float32)
  count = jax.ops.segment_sum(weight, segment, num_segments=m)
  denom = jnp.maximum(count, 1.0)
  p = jax.ops.segment_sum(weight * success_rate[order], segment,
                          num_segments=m) / denom
  v = jax.ops.segment_sum(weight * value_loss[order], segment,
                          num_segments=m) / denom
  unique = jnp.full((m,), _NO_TASK, jnp.int32).at[segment].set(sorted_ids)
  return jnp.where(count > 0, unique, _NO_TASK), p, v


def _find(state: CurriculumState, ids: jax.Array, mask: jax.Array,
          ) -> tuple[jax.Array, jax.Array]:
  """(found [m], slot [m]): whether each masked id is in the buffer (which
  holds a task at most once) and its slot there, else `buffer_size`, an
  index `.at[...]` drops."""
  s = state.task_ids.shape[0]
  order = jnp.argsort(state.task_ids)
  pos = jnp.clip(jnp.searchsorted(state.task_ids[order], ids), 0, s - 1)
  found = mask & (state.task_ids[order][pos] == ids)
  return found, jnp.where(found, order[pos], s)


def _passes(config: CurriculumConfig, p: jax.Array) -> jax.Array:
  """The no-op filter's test: solved in some trials, not in all."""
  return (config.noop_low < p) & (p < config.noop_high)


def update(config: CurriculumConfig, state: CurriculumState,
           task_ids: jax.Array, success_rate: jax.Array,
           value_loss: jax.Array, mask: jax.Array) -> CurriculumState:
  """Records finished episodes in the buffer.

  Entries of the same task are first merged: their success rates and value
  losses are averaged, so the result does not depend on their order. Then,
  for "plr", each task's score (`learnability(p)` or its value loss) is
  set on its buffer entry if it has one (stamping it with the current
  clock); the other tasks are inserted into empty slots and, when the
  buffer is full, replace its lowest-score entries if their score is
  strictly higher. That is, the buffer becomes the top `buffer_size` of its
  re-scored entries and the new tasks; ties keep entries already in it
  (evicting higher slots first), then new tasks with lower ids. Up to ties
  this equals inserting the new tasks one at a time, each replacing the
  lowest entry if higher (tested against such a loop).

  For "noop_filter", a task passes iff `noop_low < p < noop_high`. AdA's
  (not `noop_keep`): a task whose training episode was under way (`start`)
  leaves; a task not in the buffer joins the queue if it passed and there
  is room (score 1; the queue's order is `last_sampled`, the clock it
  joined or was last drawn at). With `noop_keep`, a passing task is kept
  (score 1) or inserted when there is room (a full buffer turns over only
  as entries fail); a failing task is evicted. For "uniform" the state is
  returned unchanged.

  Args:
    config: the curriculum's config.
    state: the curriculum's state.
    task_ids: [m] int32 in `0..num_tasks-1` where `mask`.
    success_rate: [m] float32, successes / trials of each episode.
    value_loss: [m] float32, each episode's positive value loss (mean
      positive advantage); used only with `score="value_loss"`.
    mask: [m] bool, which entries are finished episodes.

  Returns:
    The updated state; the clock is unchanged.
  """
  if config.kind == "uniform":
    return state
  chex.assert_rank([task_ids, success_rate, value_loss, mask], 1)
  chex.assert_equal_shape([task_ids, success_rate, value_loss, mask])
  s, m = config.buffer_size, task_ids.shape[0]
  ids, p, v = _merge_duplicates(
      task_ids.astype(jnp.int32), success_rate.astype(jnp.float32),
      value_loss.astype(jnp.float32), mask.astype(bool))
  real = ids != _NO_TASK
  if config.trains_once:
    return _update_queue(config, state, ids, p)
  if config.kind == "plr":
    score = learnability(p) if config.score == "learnability" else v
    admit = real
  else:
    score = jnp.ones((m,), jnp.float32)
    admit = real & _passes(config, p)

  found, slot = _find(state, ids, real)
  buf_ids = state.task_ids.at[jnp.where(admit, s, slot)].set(
      _EMPTY, mode="drop")                                # noop_filter fails
  scores = state.scores.at[slot].set(score, mode="drop")
  last_sampled = state.last_sampled.at[slot].set(state.clock, mode="drop")

  # Keep the top s of the buffer's entries and the new tasks, ordered by
  # (valid first, high score, low index); JAX's lexsort's primary key is the
  # last. Buffer slots come before new tasks, so ties keep buffer entries.
  valid = buf_ids >= 0
  new = admit & ~found
  cand_valid = jnp.concatenate([valid, new])
  cand_score = jnp.concatenate([scores, score])
  index = jnp.arange(s + m, dtype=jnp.int32)
  order = jnp.lexsort((index, -cand_score, ~cand_valid))
  rank = jnp.zeros((s + m,), jnp.int32).at[order].set(index)
  kept = cand_valid & (rank < s)
  buf_ids = jnp.where(kept[:s], buf_ids, _EMPTY)
  # The k-th admitted new task goes to the k-th empty slot; there are enough.
  admitted = kept[s:]
  empty_slots = jnp.nonzero(buf_ids < 0, size=s, fill_value=s)[0]
  k = jnp.clip(jnp.cumsum(admitted) - 1, 0, s - 1)
  target = jnp.where(admitted, empty_slots[k], s)
  buf_ids = buf_ids.at[target].set(ids, mode="drop")
  scores = scores.at[target].set(score, mode="drop")
  last_sampled = last_sampled.at[target].set(state.clock, mode="drop")
  return state._replace(task_ids=buf_ids, scores=scores,
                        last_sampled=last_sampled,
                        size=(buf_ids >= 0).sum().astype(jnp.int32))


def _update_queue(config: CurriculumConfig, state: CurriculumState,
                  ids: jax.Array, p: jax.Array) -> CurriculumState:
  """`update` for AdA's no-op filter, on merged episodes (`ids` increasing,
  padded with `_NO_TASK`). A task whose episode was under way (score 0)
  leaves; a task not in the buffer had an evaluation episode and, if it
  passed, joins the queue (score 1, stamped with the clock) in the free
  slots, in increasing task id, while there are any. A queued task (an
  evaluation episode of a task that is also queued) is left as it is."""
  s = config.buffer_size
  real = ids != _NO_TASK
  found, slot = _find(state, ids, real)
  ended = jnp.zeros((s,), bool).at[slot].set(True, mode="drop")
  buf_ids = jnp.where(ended & (state.scores <= 0), _EMPTY, state.task_ids)
  passed = real & ~found & _passes(config, p)
  free = jnp.nonzero(buf_ids < 0, size=s, fill_value=s)[0]
  k = jnp.cumsum(passed) - 1
  target = jnp.where(passed & (k < (buf_ids < 0).sum()),
                     free[jnp.clip(k, 0, s - 1)], s)
  buf_ids = buf_ids.at[target].set(ids, mode="drop")
  scores = state.scores.at[target].set(1.0, mode="drop")
  last_sampled = state.last_sampled.at[target].set(state.clock, mode="drop")
  return state._replace(task_ids=buf_ids, scores=scores,
                        last_sampled=last_sampled,
                        size=(buf_ids >= 0).sum().astype(jnp.int32))


def keep_draws(config: CurriculumConfig, state: CurriculumState,
               before: CurriculumState, task_ids: jax.Array,
               used: jax.Array) -> CurriculumState:
  """Keeps `sample`'s stamps only on the buffer entries some slot played.

  A caller may draw more slots than begin an episode (one per episode that
  could begin in a stretch, `selfplay.trial_rollout`); a replayed task no
  episode began with was not played, so its staleness (and its place in
  AdA's queue) is left as it was before the draw.

  Args:
    config: the curriculum's config.
    state: `sample`'s state.
    before: the state `sample` was given (the same buffer).
    task_ids: [n] int32, the tasks `sample` gave.
    used: [n] bool, the replayed slots whose episode began.

  Returns:
    `state` with `before`'s stamps on the entries of no used slot; the clock
    is `state`'s.
  """
  if config.kind == "uniform":
    return state
  _, slot = _find(state, task_ids, used)
  keep = jnp.zeros(state.task_ids.shape, bool).at[slot].set(True,
                                                            mode="drop")
  return state._replace(last_sampled=jnp.where(
      keep, state.last_sampled, before.last_sampled))


def start(config: CurriculumConfig, state: CurriculumState,
          task_ids: jax.Array, started: jax.Array) -> CurriculumState:
  """Records which replayed tasks' episodes began (AdA's no-op filter).

  A queued task whose training episode has started can no longer be drawn
  (score 0) and leaves the buffer when an episode of it ends (`update`).
  Call it before `update` with the episodes that ended in the same stretch,
  with one draw for each episode begun (a slot may begin several in a
  stretch longer than its episodes; `selfplay.trial_rollout` draws as many
  per slot as can begin). Every other kind returns `state` unchanged.

  Args:
    config: the curriculum's config.
    state: the curriculum's state.
    task_ids: [n] int32, tasks `sample` gave the slots.
    started: [n] bool, the slots that replayed and began their task.

  Returns:
    The updated state; the clock is unchanged.
  """
  if not config.trains_once:
    return state
  _, slot = _find(state, task_ids, started)
  return state._replace(scores=state.scores.at[slot].set(0.0, mode="drop"))


def stats(config: CurriculumConfig,
          state: CurriculumState) -> dict[str, jax.Array]:
  """Scalars for logging: buffer fill, scores and staleness of its entries.

  Args:
    config: the curriculum's config.
    state: the curriculum's state.

  Returns:
    `fill` (size / buffer_size), `size`, `clock`, and over non-empty slots
    (0 when the buffer is empty) `mean_score`, `max_score`, `min_score`,
    `mean_staleness` (in `sample` calls); for AdA's no-op filter also
    `queued` (tasks waiting to be trained on) and `under_way` (tasks whose
    training episode is being played); all [] arrays.
  """
  valid = state.task_ids >= 0
  num = jnp.maximum(valid.sum(), 1).astype(jnp.float32)
  any_valid = valid.any()
  staleness = (state.clock - state.last_sampled).astype(jnp.float32)
  out = {
      "fill": state.size.astype(jnp.float32) / config.buffer_size,
      "size": state.size,
      "clock": state.clock,
      "mean_score": jnp.where(valid, state.scores, 0.0).sum() / num,
      "max_score": jnp.where(
          any_valid, jnp.where(valid, state.scores, -jnp.inf).max(), 0.0),
      "min_score": jnp.where(
          any_valid, jnp.where(valid, state.scores, jnp.inf).min(), 0.0),
      "mean_staleness": jnp.where(valid, staleness, 0.0).sum() / num,
  }
  if config.trains_once:
    out["queued"] = (valid & (state.scores > 0)).sum()
    out["under_way"] = (valid & (state.scores <= 0)).sum()
  return out
