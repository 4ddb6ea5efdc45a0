"""AdA's multi-trial episodes on XLand-MiniGrid (`games.xland.trials`):
trial resets, success and the step limit, the episode's end, the agent's
inputs, xminigrid's own step, vmap, determinism and errors."""

import collections
import dataclasses
import functools
import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xminigrid
from xminigrid.types import RuleSet

from games import xland
from games.xland import trials

CFG = trials.TrialsConfig(layout="R1-9x9", num_trials=3, steps_per_trial=8)
NUM_STEPS = CFG.max_episode_length + 4  # the episode's end, and beyond
TASK_SET = xland.generate(xland.TaskConfig(
    depth=1, num_distractor_rules=1, num_distractor_objects=2), 4, seed=0)
TASKS = trials.tasks_of(TASK_SET, CFG)

FORWARD, TURN_RIGHT, TURN_LEFT, PICK_UP, PUT_DOWN, TOGGLE = range(6)
RIGHT = 1  # xminigrid's directions: 0 up, 1 right, 2 down, 3 left
FLOOR, WALL = 1, 2
BALL, KEY = 3, 7
RED, BLUE = 1, 3
# Goal: agent_hold(red ball). Rule: agent_hold(blue key) -> red ball. The
# world holds a blue key: picking it up turns it into a red ball at once.
# Padded as TASKS are (2 rules, 5 objects), to share their compiled programs.
HOLD_TASK = trials.Task(
    goal=jnp.array([1, BALL, RED, 0, 0], jnp.uint8),
    rules=jnp.array([[1, KEY, BLUE, BALL, RED, 0, 0],
                     [0, 0, 0, 0, 0, 0, 0]], jnp.uint8),
    init_tiles=jnp.array([[KEY, BLUE]] + [[0, 0]] * 4, jnp.uint8))

# The programs here run a few times each: their compile time dominates, and
# XLA's fast-compile options cut it about threefold (as `games.conformance`).
_jit = functools.partial(jax.jit, compiler_options={
    "xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False})
init = _jit(trials.init, static_argnums=1)
step = _jit(trials.step, static_argnums=2)


def _rollout(config, key, task, actions):
  """One episode's inputs and outputs: (observations [T + 1], outputs [T],
  worlds [T + 1]) for actions [T]."""
  state = trials.init(key, config, task)

  def body(state, action):
    next_state, out = trials.step(state, action, config)
    return next_state, (next_state.observation, out, next_state.world)

  _, (obs, outs, worlds) = jax.lax.scan(body, state, actions)
  prepend = lambda x, xs: jnp.concatenate([x[None], xs])
  return (jax.tree.map(prepend, state.observation, obs), outs,
          jax.tree.map(prepend, state.world, worlds))


@functools.partial(_jit, static_argnums=0)
def batched_rollout(config, keys, tasks, actions):
  return jax.vmap(functools.partial(_rollout, config))(keys, tasks, actions)


@functools.partial(_jit, static_argnums=0)
def single_rollouts(config, keys, tasks, actions):
  """The same, one environment at a time (the unbatched code path)."""
  return jax.lax.map(lambda args: _rollout(config, *args),
                     (keys, tasks, actions))


def _random_actions(key, batch=4, num_steps=NUM_STEPS):
  return jax.random.randint(key, (batch, num_steps), 0, trials.NUM_ACTIONS)


@functools.cache
def _random_run():
  """(keys, actions, batched rollout) of the 4 tasks, random actions."""
  keys = jax.random.split(jax.random.key(7), 4)
  actions = _random_actions(jax.random.key(8))
  return keys, actions, _fetch(batched_rollout(CFG, keys, TASKS, actions))


def _fetch(tree):
  """`tree` on the host, PRNG keys as their raw data."""
  return jax.device_get(_keyless(tree))


def _objects(grid, pocket=None):
  """The objects on a grid [H, W, 2] (and in the pocket) as a Counter."""
  grid = np.asarray(grid).reshape(-1, 2)
  cells = [tuple(c) for c in grid if c[0] not in (0, FLOOR, WALL)]
  if pocket is not None and pocket[0]:
    cells.append(tuple(pocket))
  return collections.Counter((int(t), int(c)) for t, c in cells)


def _task_objects(init_tiles):
  return collections.Counter(
      (int(t), int(c)) for t, c in np.asarray(init_tiles) if t)


def _keyless(tree):
  """`tree` with PRNG keys as their raw data (comparable as arrays)."""
  return jax.tree.map(
      lambda x: jax.random.key_data(x)
      if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x, tree)


def _set_world(state, key_cell, agent_cell, direction):
  """`state` with its objects cleared, a blue key at `key_cell` and the
  agent at `agent_cell` facing `direction`, holding nothing."""
  grid = np.asarray(state.world.grid).copy()
  inside = grid[..., 0] != WALL
  grid[inside] = (FLOOR, 7)  # xminigrid's floor: black (7)
  grid[key_cell] = (KEY, BLUE)
  agent = state.world.agent.replace(
      position=jnp.array(agent_cell, jnp.int32),
      direction=jnp.array(direction, jnp.int32),
      pocket=jnp.zeros(2, jnp.uint8))
  return state._replace(world=state.world.replace(
      grid=jnp.asarray(grid), agent=agent))


def test_reaching_the_goal_ends_the_trial_with_success_and_a_fresh_world():
  config = CFG
  state = init(jax.random.key(0), config, HOLD_TASK)
  for trial in range(config.num_trials):
    # . . .      The agent (>) faces the blue key (k) on its right: picking
    # . > k      it up fires the rule (blue key -> red ball), and holding
    # . . .      the red ball is the goal.
    state = _set_world(state, (3, 4), (3, 3), RIGHT)
    _, out = step(state, jnp.int32(TURN_LEFT), config)  # not a pick-up
    assert not out.trial_done and out.reward == 0
    state, out = step(state, jnp.int32(PICK_UP), config)
    expected_reward = np.float32(1.0 - 0.9 * 1 / config.trial_length)
    np.testing.assert_allclose(out.reward, expected_reward, rtol=1e-6)
    assert out.success and out.trial_done and out.trial == trial
    assert out.trial_length == 1
    np.testing.assert_allclose(out.trial_return, expected_reward, rtol=1e-6)
    last = trial == config.num_trials - 1
    assert bool(out.episode_done) == last
    if not last:  # The next trial: the task's objects, placed anew.
      assert state.trial == trial + 1 and state.world.step_num == 0
      assert _objects(state.world.grid, state.world.agent.pocket) == {
          (KEY, BLUE): 1}
      np.testing.assert_array_equal(state.world.rule_encoding,
                                    HOLD_TASK.rules)
      np.testing.assert_array_equal(state.world.goal_encoding,
                                    HOLD_TASK.goal)
      obs = state.observation
      assert obs.trial == trial + 1 and obs.trial_start
      assert not obs.episode_start
      assert obs.prev_action == PICK_UP
      np.testing.assert_allclose(obs.prev_reward, expected_reward,
                                 rtol=1e-6)
      np.testing.assert_array_equal(obs.pocket, [0, 0])
      assert state.trial_return == 0
  # After the last trial: absorbing, no reward, no flags.
  assert state.done and state.trial == config.num_trials - 1
  after, out = step(state, jnp.int32(PICK_UP), config)
  chex.assert_trees_all_equal(_keyless(after), _keyless(state))
  assert out.reward == 0 and not (out.success | out.trial_done |
                                  out.episode_done)


def test_the_step_limit_ends_each_trial_without_success():
  # Forward and turns never hold anything: agent_hold cannot be reached.
  actions = jnp.tile(jnp.array([FORWARD, TURN_RIGHT, TURN_LEFT]),
                     NUM_STEPS // 3 + 1)[:NUM_STEPS]
  tasks = jax.tree.map(lambda x: jnp.stack([x] * 4), HOLD_TASK)
  keys = jax.random.split(jax.random.key(3), 4)
  obs, out, worlds = _fetch(batched_rollout(
      CFG, keys, tasks, jnp.stack([actions] * 4)))
  t, k = CFG.trial_length, CFG.num_trials
  steps = np.arange(NUM_STEPS)
  ends = (steps + 1) % t == 0
  ends &= steps < k * t
  for b in range(4):
    np.testing.assert_array_equal(out.trial_done[b], ends)
    assert not out.success[b].any() and not out.reward[b].any()
    np.testing.assert_array_equal(np.flatnonzero(out.episode_done[b]),
                                  [k * t - 1])
    np.testing.assert_array_equal(out.trial[b], np.minimum(steps // t, k - 1))
    np.testing.assert_array_equal(out.trial_length[b][ends], t)
    # Observation t + 1 follows step t: a trial starts after each end
    # but the last.
    np.testing.assert_array_equal(obs.trial_start[b][1:],
                                  ends & (steps < (k - 1) * t))
    np.testing.assert_array_equal(obs.trial[b][1:],
                                  np.minimum((steps + 1) // t, k - 1))
    # The world's step count: reset at each new trial, not after the last.
    np.testing.assert_array_equal(
        worlds.step_num[b][1:],
        np.where(obs.trial_start[b][1:], 0, np.minimum(steps + 1, k * t)
                 - t * np.minimum(steps // t, k - 1)))


def test_each_trial_starts_from_the_task_with_its_rules_and_a_new_placement():
  _, _, (obs, out, worlds) = _random_run()
  moved = 0
  for b in range(4):
    starts = np.flatnonzero(obs.trial_start[b])
    trial_of_start = obs.trial[b][starts]
    assert starts[0] == 0 and obs.episode_start[b][0]
    # Trials 0, 1, 2 in order, each starting right after the last ended.
    np.testing.assert_array_equal(trial_of_start, np.arange(CFG.num_trials))
    np.testing.assert_array_equal(
        starts[1:] - 1, np.flatnonzero(out.trial_done[b])[:-1])
    grids = []
    for i in starts:
      assert worlds.step_num[b][i] == 0
      assert _objects(worlds.grid[b][i], worlds.agent.pocket[b][i]) == (
          _task_objects(TASKS.init_tiles[b]))
      np.testing.assert_array_equal(worlds.agent.pocket[b][i], [0, 0])
      np.testing.assert_array_equal(worlds.rule_encoding[b][i],
                                    TASKS.rules[b])
      np.testing.assert_array_equal(worlds.goal_encoding[b][i],
                                    TASKS.goal[b])
      grids.append((worlds.grid[b][i], worlds.agent.position[b][i]))
    # The rules and the goal never change within the episode either.
    np.testing.assert_array_equal(
        worlds.rule_encoding[b], np.broadcast_to(
            TASKS.rules[b], worlds.rule_encoding[b].shape))
    np.testing.assert_array_equal(
        obs.goal[b], np.broadcast_to(TASKS.goal[b], obs.goal[b].shape))
    moved += sum(not (np.array_equal(g0, g1) and np.array_equal(p0, p1))
                 for (g0, p0), (g1, p1) in itertools.pairwise(grids))
  assert moved >= 6  # of 8 trial changes (a repeat has odds ~1e-5)


def test_same_world_starts_every_trial_as_the_first_and_changes_nothing_else():
  keys, actions, (obs, out, worlds) = _random_run()
  same = dataclasses.replace(CFG, same_world=True)
  obs_s, out_s, worlds_s = _fetch(batched_rollout(same, keys, TASKS, actions))
  for b in range(4):
    starts = np.flatnonzero(obs_s.trial_start[b])
    assert len(starts) == CFG.num_trials
    first = (worlds_s.grid[b][0], worlds_s.agent.position[b][0],
             worlds_s.agent.direction[b][0])
    for i in starts:  # each trial's start is the episode's first placement
      np.testing.assert_array_equal(worlds_s.grid[b][i], first[0])
      np.testing.assert_array_equal(worlds_s.agent.position[b][i], first[1])
      assert worlds_s.agent.direction[b][i] == first[2]
      assert worlds_s.step_num[b][i] == 0
    # Trial 1 is the same episode as without `same_world`.
    end = starts[1]
    np.testing.assert_array_equal(worlds_s.grid[b][:end],
                                  worlds.grid[b][:end])
    np.testing.assert_array_equal(out_s.reward[b][:end], out.reward[b][:end])
  with pytest.raises(ValueError, match="same_world"):
    trials.TrialsConfig(same_world="yes")


def test_episode_done_is_set_exactly_once_and_the_end_is_absorbing():
  _, _, (obs, out, worlds) = _random_run()
  for b in range(4):
    (end,) = np.flatnonzero(out.episode_done[b])
    assert out.trial_done[b][end] and out.trial[b][end] == CFG.num_trials - 1
    assert out.trial_done[b].sum() == CFG.num_trials
    after = slice(end + 1, None)
    assert not (out.reward[b][after].any() | out.trial_done[b][after].any()
                | out.success[b][after].any())
    for leaf in jax.tree.leaves((obs, worlds)):
      np.testing.assert_array_equal(
          leaf[b][end + 1:], np.broadcast_to(leaf[b][end + 1],
                                             leaf[b][end + 1:].shape))


def test_observation_carries_the_last_action_and_reward():
  _, actions, (obs, out, _) = _random_run()
  actions = np.asarray(actions)
  for b in range(4):
    assert obs.prev_action[b][0] == trials.NO_ACTION
    assert obs.prev_reward[b][0] == 0
    assert obs.episode_start[b][0] and not obs.episode_start[b][1:].any()
    (end,) = np.flatnonzero(out.episode_done[b])
    live = slice(0, end + 1)  # steps until the episode's end
    np.testing.assert_array_equal(obs.prev_action[b][1:][live],
                                  actions[b][live])
    np.testing.assert_array_equal(obs.prev_reward[b][1:][live],
                                  out.reward[b][live])
    np.testing.assert_array_equal(
        obs.view.shape[-3:], trials.observation_spec(CFG).view.shape)


def test_a_batch_of_tasks_plays_as_each_task_alone_and_deterministically():
  keys, actions, batched = _random_run()
  singles = _fetch(single_rollouts(CFG, keys, TASKS, actions))
  chex.assert_trees_all_equal(batched, singles)
  again = _fetch(batched_rollout(CFG, keys, TASKS, actions))
  chex.assert_trees_all_equal(batched, again)
  other = _fetch(batched_rollout(
      CFG, jax.random.split(jax.random.key(70), 4), TASKS, actions))
  first_grids = lambda run: run[2].grid[:, 0]
  assert not np.array_equal(first_grids(batched), first_grids(other))


def test_a_trial_is_xminigrids_episode():
  """Trial 0 against xminigrid's own reset and step (same key, same limit):
  the same worlds, views and rewards; the trial ends where xminigrid's
  episode does."""
  keys, actions, (obs, out, worlds) = _random_run()
  env, params = xminigrid.make(xland.env_id(CFG.layout))
  params = params.replace(view_size=CFG.view_size,
                          max_steps=CFG.trial_length)

  @_jit
  def reference(key, goal, rules, init_tiles, actions):
    p = params.replace(ruleset=RuleSet(goal=goal, rules=rules,
                                       init_tiles=init_tiles))
    first = env.reset(p, jax.random.fold_in(key, 0))
    def body(timestep, action):
      timestep = env.step(p, timestep, action)
      return timestep, timestep
    _, steps = jax.lax.scan(body, first, actions)
    return first, steps

  t = CFG.trial_length
  for b in range(4):
    first, ref = jax.device_get(reference(
        keys[b], *(x[b] for x in TASKS), actions[b][:t]))
    np.testing.assert_array_equal(obs.view[b][0], first.observation)
    np.testing.assert_array_equal(worlds.grid[b][0], first.state.grid)
    end = int(np.flatnonzero(out.trial_done[b])[0])
    np.testing.assert_array_equal(np.flatnonzero(ref.step_type == 2)[0], end)
    live = slice(0, end + 1)
    np.testing.assert_array_equal(out.reward[b][live], ref.reward[live])
    np.testing.assert_array_equal(out.success[b][live],
                                  ref.discount[live] == 0)
    # Up to the trial's end (after it, ours is the next trial's world).
    np.testing.assert_array_equal(obs.view[b][1:end + 1],
                                  ref.observation[:end])
    np.testing.assert_array_equal(worlds.grid[b][1:end + 1],
                                  ref.state.grid[:end])
    np.testing.assert_array_equal(worlds.agent.position[b][1:end + 1],
                                  ref.state.agent.position[:end])


def test_next_task_starts_the_next_episode_on_the_last_step():
  config = CFG
  step_next = _jit(trials.step, static_argnums=2)
  other = trials.task_at(TASKS, 1)
  next_key = jax.random.key(11)
  state = plain = init(jax.random.key(10), config, HOLD_TASK)
  for i in range(config.max_episode_length):
    action = jnp.int32(TURN_RIGHT)
    plain, plain_out = step(plain, action, config)
    state, out = step_next(state, action, config, next_task=other,
                           next_key=next_key)
    chex.assert_trees_all_equal(out, plain_out)
    if i + 1 < config.max_episode_length:  # Unused before the end.
      chex.assert_trees_all_equal(_keyless(state), _keyless(plain))
  assert out.episode_done and plain.done and not state.done
  fresh = init(next_key, config, other)
  chex.assert_trees_all_equal(_keyless(state), _keyless(fresh))
  assert state.observation.prev_action == trials.NO_ACTION
  assert state.observation.episode_start and state.observation.trial == 0
  with pytest.raises(TypeError, match="both"):
    trials.step(state, 0, config, next_task=other)
  with pytest.raises(ValueError, match="shapes"):
    trials.step(state, 0, config, next_key=next_key,
                next_task=other._replace(init_tiles=other.init_tiles[:2]))


def test_config_and_task_errors():
  with pytest.raises(ValueError, match="num_trials"):
    trials.TrialsConfig(num_trials=0)
  with pytest.raises(ValueError, match="steps_per_trial"):
    trials.TrialsConfig(steps_per_trial=0)
  with pytest.raises(ValueError, match="view_size"):
    trials.TrialsConfig(view_size=4)
  with pytest.raises(ValueError, match="layout"):
    trials.TrialsConfig(layout="R1-8x8")
  assert trials.TrialsConfig().trial_length == 3 * 9 * 9  # xminigrid's
  assert trials.TrialsConfig(layout="R4-13x13").trial_length == 3 * 13 * 13
  with pytest.raises(ValueError, match="layout"):
    trials.tasks_of(TASK_SET, trials.TrialsConfig(layout="R1-11x11"))
