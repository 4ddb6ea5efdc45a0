"""Few-shot adaptation on XLand-MiniGrid: success and return per trial, the
figures AdA judges an agent with memory by (`games.xland.play`), with its
controls.

Two controls are played on the very same worlds (the same environment keys):
- memory reset: the agent's memory cleared at every trial's start, so any
  rise over trials that survives it is not adaptation from memory;
- random: a uniformly random policy, the floor of each task.

Besides the per-trial means, the agent's success in trial k after a success
and after a failure in trial k - 1 tells remembering from searching anew.
The figure AdA's adaptation is judged by, mean success in trial K over
trial 1, comes with a 95% percentile bootstrap interval over tasks (the
same task resample for both trials: a paired ratio), for the agent and its
memory-reset control.

The episodes are played by `games.xland.play` (`play_trials`,
`summarise`, `random_policy`, re-exported here); this module adds the
controls, loading agents, and the table of `arena eval trials`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any

import jax
import numpy as np

from games.xland import tasks as task_lib
from games.xland import trials
from games.xland.play import (CONDITIONAL_KEYS, PERCENTILE, SUMMARY_KEYS,
                              MemoryPolicy, Progress, compile_policy,
                              is_random, num_tasks_of, play_compiled,
                              play_trials, random_policy, summarise)

RANDOM_AGENT = "random"

__all__ = ["CONDITIONAL_KEYS", "PERCENTILE", "RANDOM_AGENT", "SUMMARY_KEYS",
           "MemoryPolicy", "evaluate", "evaluate_agent", "load_trials_agent",
           "play_trials", "random_policy", "ratio_line", "summarise",
           "trials_config_for", "trials_table", "trial_k_over_1"]

_RATIO_RESAMPLES = 2000


def trial_k_over_1(success: np.ndarray, *, seed: int = 0
                   ) -> dict[str, float | None]:
  """Mean success in the last trial over the first, with its 95% percentile
  bootstrap interval over tasks (`eval.xland.compare` with one seed: each
  resample draws the N tasks with replacement, and both trials' means come
  from that draw).

  Args:
    success: [N, E, K] bool, as `play_trials` gives.
    seed: the resampling's seed.

  Returns:
    {"ratio", "low", "high"}: None where trial 1's mean is 0 (the interval's
    ends also where no resample has a first trial above 0).
  """
  from eval.xland import compare  # pylint: disable=g-import-not-at-top
  per_task = np.asarray(success, np.float64).mean(axis=1)  # [N, K]
  out = compare.compare({"last": per_task[None, :, -1],
                         "first": per_task[None, :, 0]}, baseline="first",
                        num_resamples=_RATIO_RESAMPLES, seed=seed)["last"]
  return {"ratio": out["ratio"], "low": out["ratio_low"],
          "high": out["ratio_high"]}


def ratio_line(result: dict[str, Any]) -> str:
  """One line of an `evaluate` result's trial K / trial 1 figures."""
  parts = []
  for name, label in (("agent", "agent"), ("memory_reset", "memory reset")):
    r = (result.get("trial_k_over_1") or {}).get(name)
    if r is None or r["ratio"] is None:
      continue
    interval = ("" if r["low"] is None else
                f" [{r['low']:.2f}, {r['high']:.2f}]")
    parts.append(f"{label} {r['ratio']:.2f}{interval}")
  if not parts:
    return "trial K / trial 1: - (no success in trial 1)"
  return (f"trial {result['trials']} / trial 1 success (95% bootstrap over "
          f"tasks): " + ", ".join(parts))


def evaluate(policy: Any, task_set_or_tasks: task_lib.TaskSet | trials.Task,
             config: trials.TrialsConfig, *, episodes: int, seed: int,
             batch_size: int, controls: bool = True,
             progress: Progress | None = None) -> dict[str, Any]:
  """The agent's per-trial summary, and the controls' on the same worlds.

  The agent and its memory-reset control share one compiled program and
  the worlds; the random control plays the same worlds (and, when `policy`
  is itself `random_policy()`, is the agent's own result).

  Args:
    policy: a `MemoryPolicy`.
    task_set_or_tasks: a `TaskSet` (checked against `config`'s layout) or
      `trials.Task` with leaves [N, ...].
    config: the episodes' setting.
    episodes: E, episodes per task.
    seed: the PRNG seed.
    batch_size: environments per compiled call.
    controls: also play the memory-reset and random controls; else their
      entries are None.
    progress: called as `progress(phase, done, total)` after each batch.

  Returns:
    A JSON-ready dict: "tasks" N, "trials" K, "episodes" E, "agent",
    "memory_reset" and "random" (`summarise` dicts, or None without
    `controls`), "layout" and "steps_per_trial" (T, resolved), and
    "trial_k_over_1": {"agent", "memory_reset" (with `controls`)} ->
    `trial_k_over_1`'s ratio and interval.

  Raises:
    ValueError: bad counts, or tasks that do not fit `config`.
    TypeError: arguments of the wrong kind (a seed that is no integer).
  """
  if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
    raise TypeError(f"seed must be an integer, got {seed!r}")
  if isinstance(task_set_or_tasks, task_lib.TaskSet):
    tasks = trials.tasks_of(task_set_or_tasks, config)
  else:
    tasks = task_set_or_tasks
  num_tasks = num_tasks_of(tasks)
  key = jax.random.key(int(seed))

  def play(run, phase, memory_reset):
    on_batch = (None if progress is None else
                functools.partial(progress, phase))
    return play_compiled(run, tasks, config, episodes=episodes, key=key,
                 batch_size=batch_size, memory_reset=memory_reset,
                 on_batch=on_batch)

  run = compile_policy(policy, config)
  agent = play(run, "agent", False)
  result = {"tasks": num_tasks, "trials": config.num_trials,
            "episodes": int(episodes), "agent": summarise(*agent),
            "memory_reset": None, "random": None, "layout": config.layout,
            "steps_per_trial": config.trial_length,
            "trial_k_over_1": {"agent": trial_k_over_1(agent[0])}}
  if controls:
    reset = play(run, "memory_reset", True)
    result["memory_reset"] = summarise(*reset)
    result["trial_k_over_1"]["memory_reset"] = trial_k_over_1(reset[0])
    if is_random(policy):  # the control would replay the agent's games
      result["random"] = result["agent"]
    else:
      result["random"] = summarise(*play(compile_policy(random_policy(), config),
                                         "random", False))
  return result


def trials_config_for(trained: trials.TrialsConfig, *, layout: str | None,
                      num_trials: int | None = None,
                      steps_per_trial: int | None = None
                      ) -> trials.TrialsConfig:
  """The setting to evaluate in: the agent's, with K and T overridden.

  Args:
    trained: the agent's setting.
    layout: the task set's layout (None: unknown, any fits).
    num_trials: K, if not the agent's.
    steps_per_trial: T, if not the agent's.

  Raises:
    ValueError: `layout` is not the agent's, or a bad K or T.
  """
  if layout is not None and layout != trained.layout:
    raise ValueError(f"the task set is for layout {layout}, the agent plays "
                     f"{trained.layout}")
  changes = {k: v for k, v in (("num_trials", num_trials),
                               ("steps_per_trial", steps_per_trial))
             if v is not None}
  return dataclasses.replace(trained, **changes)


def load_trials_agent(agent: str, *, layout: str | None,
                      num_trials: int | None = None,
                      steps_per_trial: int | None = None
                      ) -> tuple[Any, trials.TrialsConfig, int | None]:
  """An agent's memory policy, the setting to evaluate it in, and the
  learner step of the checkpoint played (None for "random").

  Args:
    agent: a run directory, a bundled agent's name, or "random" (a uniformly
      random policy, in `layout` or R1-9x9 when None).
    layout: the task set's layout, None when unknown.
    num_trials: K; default the agent's (4 for "random").
    steps_per_trial: T; default the agent's (xminigrid's for "random").

  Returns:
    (policy, config, step).

  Raises:
    ValueError: an unknown agent, one without a memory policy, a layout
      other than the agent's, or a bad K or T.
    CheckpointError: a damaged run directory.
  """
  if agent == RANDOM_AGENT:
    base = trials.TrialsConfig() if layout is None else trials.TrialsConfig(
        layout=layout)
    return random_policy(), trials_config_for(
        base, layout=layout, num_trials=num_trials,
        steps_per_trial=steps_per_trial), None
  from agents.core import runs  # pylint: disable=g-import-not-at-top
  run_dir = runs.resolve_run_dir(agent)
  if not run_dir.is_dir():
    bundled = ", ".join(runs.bundled_agents()) or "none"
    raise ValueError(f"unknown agent {agent!r}: not a run directory, a "
                     f"bundled agent ({bundled}) or {RANDOM_AGENT!r}")
  run = runs.read_run(run_dir)
  if not all(hasattr(run.agent, a) for a in ("memory_policy",
                                             "trials_config")):
    raise ValueError(f"agent {agent!r} ({type(run.config).__name__}) has no "
                     "memory policy for XLand trials")
  policy = run.agent.memory_policy(run.agent.test_params(run.state))
  return policy, trials_config_for(
      run.agent.trials_config, layout=layout, num_trials=num_trials,
      steps_per_trial=steps_per_trial), int(jax.device_get(run.state.step))


def evaluate_agent(agent: str, tasks_path: str | os.PathLike, *,
                   num_trials: int | None = None,
                   steps_per_trial: int | None = None, episodes: int,
                   seed: int, batch_size: int,
                   progress: Progress | None = None) -> dict[str, Any]:
  """`evaluate` of an agent (`load_trials_agent`) on a task set file; the
  result also holds "step", the learner step of the checkpoint played (None
  for "random").

  Raises:
    FileNotFoundError: no file at `tasks_path`.
    ValueError: not a task set, a layout other than the agent's, an unknown
      agent, bad K, T, episodes, batch size or seed.
  """
  from eval.xland import task_sets  # pylint: disable=g-import-not-at-top
  task_set = task_sets.load_task_set(tasks_path)
  policy, config, step = load_trials_agent(agent, layout=task_set.layout,
                                           num_trials=num_trials,
                                           steps_per_trial=steps_per_trial)
  result = evaluate(policy, task_set, config, episodes=episodes, seed=seed,
                    batch_size=batch_size, progress=progress)
  return {**result, "step": step}


def trials_table(result: dict[str, Any], title: str | None = None):
  """A `rich.table.Table` of an `evaluate` result, one row per trial."""
  from rich.table import Table  # pylint: disable=g-import-not-at-top
  table = Table(title=title)
  headers = ("trial", "success mean", "median", f"p{PERCENTILE}",
             "after a success", "after a failure", "return mean",
             "memory reset", "random")
  for header in headers:
    table.add_column(header, justify="right")
  percent = lambda x: "-" if x is None else f"{100 * x:.1f}%"
  agent = result["agent"]
  for k in range(result["trials"]):
    controls = [percent(result[c]["success_mean"][k]) if result[c] else "-"
                for c in ("memory_reset", "random")]
    after = [percent(agent[c][k]) for c in CONDITIONAL_KEYS]
    table.add_row(str(k + 1), percent(agent["success_mean"][k]),
                  percent(agent["success_median"][k]),
                  percent(agent["success_p20"][k]), *after,
                  f"{agent['return_mean'][k]:.3f}", *controls)
  return table
