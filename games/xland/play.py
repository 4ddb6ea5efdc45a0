"""Playing a policy with memory through episodes of K trials, and the
per-trial summary AdA judges adaptation by.

AdA (Adaptive Agent team 2023, "Human-Timescale Adaptation in an Open-Ended
Task Space", https://arxiv.org/abs/2301.07608, sec. 3) judges an agent with
memory by how its score on held-out tasks rises from trial 1 to trial K of an
episode (`games.xland.trials`): per trial, the success rate of each task
(over episodes), then across tasks the mean, the median and the 20th
percentile (AdA's "hard tasks" view of the distribution).

A policy is anything with the two fields of `MemoryPolicy` (duck typing; AdA's
actor, `agents.ada.actor.MemoryPolicy`, has them). Everything here is pure
JAX under one `jit` per (policy, config, batch size): `vmap` over
environments, `lax.scan` over an episode's `config.max_episode_length` steps.
`eval.xland.trials_eval` adds the controls and the command line; training
logs the same figures (`selfplay.task_mode`). `play_steps` plays the same
episodes and also keeps what the caller asks of every step
(`eval.xland.behaviour`).

Percentiles are numpy's default (linear interpolation between the closest
ranks): the 20th percentile of [0, 1, 2, 3, 4] is 0.8.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games.xland import trials

# Keys of a `summarise` dict, each a list of K floats.
SUMMARY_KEYS = ("success_mean", "success_median", "success_p20",
                "return_mean", "return_median", "return_p20")
# Keys of a `summarise` dict, each a list of K floats or None: success in
# trial k among the episodes whose trial k - 1 succeeded / failed.
CONDITIONAL_KEYS = ("success_after_success", "success_after_failure")
PERCENTILE = 20

# record(obs, reset, memory, out) -> pytree: what `play_steps` keeps of a step
# (the observation and reset flag the policy acted on, its memory after the
# step, the environment's `trials.StepOutput`), leaves [B, ...].
Record = Callable[[trials.Observation, jax.Array, Any, trials.StepOutput], Any]

# progress(phase, batches done, batches in all), phase one of "agent",
# "memory_reset", "random".
Progress = Callable[[str, int, int], None]


class MemoryPolicy(NamedTuple):
  """A policy with memory over a batch of environments.

  Attributes:
    init: `init(batch) -> memory`, the memory pytree of `batch` environments.
    step: `step(memory, obs, reset, key) -> (action, memory)`: `obs` a
      `trials.Observation` with leaves [B, ...], `reset` [B] bool marks the
      environments whose memory is cleared before this step's input is read,
      `key` one PRNG key for the batch; `action` [B] int32.
    params: None, or the policy's parameters (a pytree): then `step` takes
      them first, `step(params, memory, obs, reset, key)`, and they are an
      input of the compiled program, so the same policy with new
      parameters (an agent evaluated during training) compiles nothing.
  """
  init: Callable[[int], Any]
  step: Callable[..., tuple[jax.Array, Any]]
  params: Any = None


def _no_memory(batch: int) -> tuple[()]:
  del batch
  return ()


@dataclasses.dataclass(frozen=True)
class _UniformStep:
  """`MemoryPolicy.step` of the random policy (a value, so that two random
  policies compare equal)."""
  num_actions: int

  def __call__(self, memory: Any, obs: trials.Observation, reset: jax.Array,
               key: chex.PRNGKey) -> tuple[jax.Array, Any]:
    del reset
    batch = obs.trial.shape[0]
    action = jax.random.randint(key, (batch,), 0, self.num_actions, jnp.int32)
    return action, memory


def random_policy(num_actions: int = trials.NUM_ACTIONS) -> MemoryPolicy:
  """A policy that plays uniformly random actions and keeps no memory.

  Args:
    num_actions: actions drawn from, 0..num_actions-1 (xminigrid's first
      `num_actions`).

  Raises:
    ValueError: `num_actions` is not in 1..trials.NUM_ACTIONS.
  """
  if (not isinstance(num_actions, (int, np.integer)) or
      isinstance(num_actions, bool) or
      not 1 <= num_actions <= trials.NUM_ACTIONS):
    raise ValueError(f"num_actions must be an integer in 1.."
                     f"{trials.NUM_ACTIONS}, got {num_actions!r}")
  return MemoryPolicy(init=_no_memory, step=_UniformStep(int(num_actions)))


class _Outcome(NamedTuple):
  """Per environment, per trial of its episode."""
  success: jax.Array  # [B, K] bool
  returns: jax.Array  # [B, K] float32
  ended: jax.Array    # [B, K] int32: times the trial ended (1, checked)


def _play_batch(policy: Any, config: trials.TrialsConfig,
                record: Record | None, tasks: trials.Task,
                task_index: jax.Array, env_keys: chex.PRNGKey,
                key: chex.PRNGKey, memory_reset: jax.Array,
                params: Any = None) -> _Outcome | tuple[_Outcome, Any]:
  """One episode in each of B environments.

  Args:
    policy: has `init` and `step` (`MemoryPolicy`, its `params` None);
      static.
    config: static.
    record: None, or what to keep of every step (`play_steps`); static.
      With it, the result is (outcome, the records with leaves [T, B, ...]).
    tasks: all tasks, leaves [N, ...].
    task_index: [B] int32, each environment's task.
    env_keys: [B] episode keys (worlds).
    key: the policy's key for this batch.
    memory_reset: [] bool: clear memory at each trial's start, not only at
      the episode's.
    params: the policy's parameters, when its `step` takes them.
  """
  batch = task_index.shape[0]
  act = policy.step if params is None else functools.partial(policy.step,
                                                              params)
  num_trials = config.num_trials
  state = jax.vmap(trials.init, in_axes=(0, None, 0))(
      env_keys, config, trials.task_at(tasks, task_index))
  step_env = jax.vmap(functools.partial(trials.step, config=config))

  def body(carry, step_key):
    state, memory = carry
    obs = state.observation
    reset = jnp.where(memory_reset, obs.trial_start, obs.episode_start)
    action, memory = act(memory, obs, reset, step_key)
    state, out = step_env(state, action)
    kept = None if record is None else record(obs, reset, memory, out)
    return (state, memory), ((out.trial_done, out.trial, out.success,
                              out.trial_return), kept)

  step_keys = jax.random.split(key, config.max_episode_length)
  _, ((done, trial, success, trial_return), kept) = jax.lax.scan(
      body, (state, policy.init(batch)), step_keys)
  # [T, B, K]: the step that ended trial k (one per trial: a trial lasts at
  # most T steps, and the scan runs K * T).
  ends = jax.nn.one_hot(trial, num_trials, dtype=jnp.bool_) & done[..., None]
  outcome = _Outcome(
      success=jnp.any(ends & success[..., None], axis=0),
      returns=jnp.sum(jnp.where(ends, trial_return[..., None], 0.0), axis=0),
      ended=jnp.sum(ends, axis=0, dtype=jnp.int32))
  return outcome if record is None else (outcome, kept)


# XLA options of the compiled episodes: none (XLA's defaults). Tests swap in
# fast-compile ones: these programs run a few times each there.
_COMPILER_OPTIONS: dict[str, Any] = {}


@functools.lru_cache(maxsize=16)
def _compile_cached(policy: Any, config: trials.TrialsConfig,
                    record: Record | None = None) -> Callable[..., Any]:
  return jax.jit(functools.partial(_play_batch, policy, config, record),
                 compiler_options=dict(_COMPILER_OPTIONS) or None)


def compile_policy(policy: Any, config: trials.TrialsConfig,
                   record: Record | None = None) -> Callable[..., Any]:
  """`_play_batch` jitted for `policy`, `config` and `record`.

  It compiles once per batch shape; `memory_reset` is an input, so the agent
  and its memory-reset control share the program. A hashable policy's
  program is kept for later calls (the last 16), so evaluating again, or
  the random control again, compiles nothing; a policy with `params` is
  keyed without them (they are an input), so new parameters reuse it.
  """
  if not callable(getattr(policy, "init", None)) or not callable(
      getattr(policy, "step", None)):
    raise TypeError(f"policy must have callable init and step "
                    f"(MemoryPolicy), got {type(policy).__name__}")
  if not isinstance(config, trials.TrialsConfig):
    raise TypeError(f"config must be a trials.TrialsConfig, got "
                    f"{type(config).__name__}")
  params = getattr(policy, "params", None)
  if params is not None:  # Keyed without them: they are an input.
    policy = MemoryPolicy(init=policy.init, step=policy.step)
  try:
    hash((policy, record))
  except TypeError:
    run = _compile_cached.__wrapped__(policy, config, record)
  else:
    run = _compile_cached(policy, config, record)
  return run if params is None else functools.partial(run, params=params)


def is_random(policy: Any) -> bool:
  """Whether `policy` is `random_policy()` (all actions)."""
  step = getattr(policy, "step", None)
  return (isinstance(step, _UniformStep) and
          step.num_actions == trials.NUM_ACTIONS and
          getattr(policy, "init", None) is _no_memory)


def _check_count(name: str, value: Any) -> int:
  if (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or
      value < 1):
    raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
  return int(value)


def num_tasks_of(tasks: trials.Task) -> int:
  if not isinstance(tasks, trials.Task):
    raise TypeError(f"tasks must be a trials.Task (trials.tasks_of), got "
                    f"{type(tasks).__name__}")
  if jnp.ndim(tasks.goal) != 2 or jnp.shape(tasks.goal)[0] == 0:
    raise ValueError(f"tasks must be a batch with leaves [N, ...], N >= 1; "
                     f"its goal has shape {jnp.shape(tasks.goal)}")
  return int(jnp.shape(tasks.goal)[0])


def play_compiled(run: Callable[..., Any], tasks: trials.Task,
          config: trials.TrialsConfig, *, episodes: int, key: chex.PRNGKey,
          batch_size: int, memory_reset: bool, on_batch: Callable[[int, int],
                                                                 None] | None
          ) -> tuple[np.ndarray, np.ndarray]:
  """`play_trials` with a compiled `run` (shared by the agent's runs)."""
  success, returns, _ = _play_all(run, tasks, config, episodes=episodes,
                                  key=key, batch_size=batch_size,
                                  memory_reset=memory_reset,
                                  on_batch=on_batch)
  return success, returns


def _play_all(run: Callable[..., Any], tasks: trials.Task,
              config: trials.TrialsConfig, *, episodes: int,
              key: chex.PRNGKey, batch_size: int, memory_reset: bool,
              on_batch: Callable[[int, int], None] | None
              ) -> tuple[np.ndarray, np.ndarray, Any]:
  """Every episode through `run`, by batches: (success, returns, the
  records with leaves [N, E, T, ...] when `run` keeps them, else None)."""
  num_tasks = num_tasks_of(tasks)
  episodes = _check_count("episodes", episodes)
  batch_size = _check_count("batch_size", batch_size)
  num_jobs = num_tasks * episodes
  batch = min(batch_size, num_jobs)
  num_batches = -(-num_jobs // batch)
  # Job j plays episode j % E of task j // E; the padding repeats job 0.
  task_index = np.zeros(num_batches * batch, np.int32)
  episode = np.zeros(num_batches * batch, np.int32)
  task_index[:num_jobs] = np.repeat(np.arange(num_tasks), episodes)
  episode[:num_jobs] = np.tile(np.arange(episodes), num_tasks)
  env_key, policy_key = jax.random.split(key)
  # A world depends on (key, task, episode) only, not on the batching.
  env_keys = jax.vmap(lambda t, e: jax.random.fold_in(
      jax.random.fold_in(env_key, t), e))(task_index, episode)
  memory_reset = jnp.asarray(bool(memory_reset))
  success, returns, kept = [], [], []
  for b in range(num_batches):
    part = slice(b * batch, (b + 1) * batch)
    out = jax.device_get(run(tasks, jnp.asarray(task_index[part]),
                             env_keys[part], jax.random.fold_in(policy_key, b),
                             memory_reset))
    if not isinstance(out, _Outcome):  # (outcome, records [T, B, ...])
      out, records = out
      kept.append(jax.tree.map(lambda x: np.swapaxes(x, 0, 1), records))
    if not np.all(out.ended == 1):
      raise RuntimeError("a trial did not end exactly once in an episode of "
                         f"{config.max_episode_length} steps")
    success.append(out.success)
    returns.append(out.returns)
    if on_batch is not None:
      on_batch(b + 1, num_batches)
  shape = (num_tasks, episodes, config.num_trials)
  per_episode = lambda *x: np.concatenate(x)[:num_jobs].reshape(
      num_tasks, episodes, *x[0].shape[1:])
  records = jax.tree.map(per_episode, *kept) if kept else None
  return (np.concatenate(success)[:num_jobs].reshape(shape).astype(bool),
          np.concatenate(returns)[:num_jobs].reshape(shape).astype(np.float32),
          records)


def play_steps(policy: Any, tasks: trials.Task, config: trials.TrialsConfig,
               record: Record, *, episodes: int, key: chex.PRNGKey,
               batch_size: int, memory_reset: bool = False
               ) -> tuple[np.ndarray, np.ndarray, Any]:
  """`play_trials`, also keeping `record(obs, reset, memory, out)` of every
  step (for looking into what a policy does, e.g. `eval.xland.behaviour`).

  The same key plays the same episodes as `play_trials` (the same worlds and
  policy keys).

  Returns:
    (success [N, E, K], returns [N, E, K], the records with leaves
    [N, E, K * T, ...]).

  Raises:
    As `play_trials`; TypeError: `record` is not callable.
  """
  if not callable(record):
    raise TypeError(f"record must be callable, got {type(record).__name__}")
  return _play_all(compile_policy(policy, config, record), tasks, config,
                   episodes=episodes, key=key, batch_size=batch_size,
                   memory_reset=memory_reset, on_batch=None)


def play_trials(policy: Any, tasks: trials.Task, config: trials.TrialsConfig,
                *, episodes: int, key: chex.PRNGKey, batch_size: int,
                memory_reset: bool = False,
                on_batch: Callable[[int, int], None] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
  """Plays `episodes` episodes of K trials of every task.

  The N * E episodes run in batches of `batch_size` environments (the last
  one padded), all through one compiled program. Episode e of task i is
  placed from `fold_in(fold_in(k, i), e)` (k from `key`), so the worlds do
  not depend on `batch_size`; the policy's key for batch b is
  `fold_in(k', b)`, so a random policy's actions do.

  Args:
    policy: a `MemoryPolicy` (or any object with its `init` and `step`).
    tasks: `trials.Task` with leaves [N, ...] (`trials.tasks_of`).
    config: the episodes' setting: K = `config.num_trials` trials of
      `config.trial_length` steps.
    episodes: E, episodes per task.
    key: consumed; the same key gives the same result.
    batch_size: environments per compiled call (capped at N * E).
    memory_reset: the memory-reset control: the policy's `reset` input is
      set at every trial's start (`obs.trial_start`), not only at the
      episode's (`obs.episode_start`).
    on_batch: called with (batches done, batches in all) after each batch.

  Returns:
    (success [N, E, K] bool, returns [N, E, K] float32), per trial of each
    episode: whether the goal was reached, and the trial's reward.

  Raises:
    ValueError: `episodes` or `batch_size` is not an integer >= 1, or
      `tasks` is not a batch of tasks.
    TypeError: `policy`, `tasks` or `config` is of the wrong kind.
  """
  return play_compiled(compile_policy(policy, config), tasks, config, episodes=episodes,
               key=key, batch_size=batch_size, memory_reset=memory_reset,
               on_batch=on_batch)


def summarise(success: np.ndarray, returns: np.ndarray
              ) -> dict[str, list[float | None]]:
  """Per trial k: each task's mean over episodes, then across tasks.

  Args:
    success: [N, E, K] bool.
    returns: [N, E, K] float.

  Returns:
    `SUMMARY_KEYS` -> K floats each: the mean, median and 20th percentile
    (numpy's linear interpolation) across tasks of the per-task success
    rate and mean return; `CONDITIONAL_KEYS` -> K entries each: the success
    rate in trial k over all episodes whose trial k - 1 succeeded (failed),
    None for k = 1 and where no episode qualifies. After a failure, an
    agent that remembers tries something else; after a success, in the
    same world, even a memoryless policy often repeats it.

  Raises:
    ValueError: the arrays are not [N, E, K] alike, or empty.
  """
  success, returns = np.asarray(success), np.asarray(returns)
  if success.ndim != 3 or success.shape != returns.shape or 0 in success.shape:
    raise ValueError(f"success and returns must both be [N, E, K] with "
                     f"N, E, K >= 1, got shapes {success.shape} and "
                     f"{returns.shape}")
  out = {}
  for name, values in (("success", success), ("return", returns)):
    per_task = values.astype(np.float64).mean(axis=1)  # [N, K]
    for stat, reduced in (
        ("mean", per_task.mean(axis=0)),
        ("median", np.median(per_task, axis=0)),
        (f"p{PERCENTILE}", np.percentile(per_task, PERCENTILE, axis=0))):
      out[f"{name}_{stat}"] = [float(x) for x in reduced]
  flags = success.astype(bool)
  before, after = flags[..., :-1], flags[..., 1:]  # [N, E, K - 1]
  for name, given in zip(CONDITIONAL_KEYS, (before, ~before)):
    count = given.sum(axis=(0, 1))
    hits = (after & given).sum(axis=(0, 1))
    out[name] = [None] + [float(h / c) if c else None
                          for h, c in zip(hits, count)]
  return out


