"""What a memory agent does after failed trials: searches on, repeats, or
gives up.

AdA's measure of adaptation (Adaptive Agent team 2023, "Human-Timescale
Adaptation in an Open-Ended Task Space", https://arxiv.org/abs/2301.07608,
sec. 3) is success per trial (`eval.xland.trials_eval`). When it stops
rising, the per-trial figure does not say why. In the same world
(`trials.TrialsConfig.same_world`) each object is one candidate of the
task's hidden rule, so which object the agent takes in each trial tells
the three apart: after a failure, an agent that searches takes an object it
has not held in the episode, one that repeats takes the one that just
failed, and one that gave up takes none.

Per trial k, among the episodes whose trials 1..k-1 all failed ("after
failures"; in trial 1, all episodes) and among those whose trial k-1
succeeded ("after a success"):
- `success`: the share of trials k that succeeded;
- `held`: the share in which the agent held an object at some step;
- `same_as_last` / `same_as_earlier` / `new`: the share in which the
  first object it held was the first one of trial k-1 / of some earlier
  trial / none of them (None in trial 1);
- `entropy` (nats; uniform over xminigrid's 6 actions is ln 6 = 1.79) and
  `value`: the policy's entropy and the value estimate, averaged over the
  trial's steps; None for policies without a network (`random`).

An object is its (tile, colour) pair as held, so the object a rule turned
it into counts as another; distractor objects of one kind and colour are
one object. All of it is played by `games.xland.play.play_steps` with the
same keys as `arena eval trials`, so the episodes and their success are
those of the evaluation with the same seed.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from games.xland import play, trials

GROUPS = ("after_failures", "after_success")
KEYS = ("episodes", "success", "held", "same_as_last", "same_as_earlier",
        "new", "entropy", "value")


@dataclasses.dataclass(frozen=True)
class _InspectInit:
  """The memory of `_InspectStep`: the network's, and the last step's
  (entropy, value)."""
  networks: Any

  def __call__(self, batch: int) -> Any:
    zeros = jnp.zeros((batch,), jnp.float32)
    return self.networks.initial_memory(batch), (zeros, zeros)


@dataclasses.dataclass(frozen=True)
class _InspectStep:
  """The agent's sampling step (as `agents.ada.actor`: the same key gives
  the same action), keeping the policy's entropy and value in the memory."""
  networks: Any

  def __call__(self, params: Any, memory: Any, obs: trials.Observation,
               reset: jax.Array, key: jax.Array) -> tuple[jax.Array, Any]:
    inner, _ = memory
    logits, value, inner = self.networks.step(params, obs, reset, inner)
    action = jax.random.categorical(key, logits).astype(jnp.int32)
    log_p = jax.nn.log_softmax(logits)
    entropy = -jnp.sum(jnp.exp(log_p) * log_p, axis=-1)
    return action, (inner, (entropy, value))


def _keep_inspected(obs, reset, memory, out) -> dict[str, jax.Array]:
  del obs, reset
  entropy, value = memory[1]
  return {**_keep(None, None, None, out), "entropy": entropy, "value": value}


def _keep(obs, reset, memory, out) -> dict[str, jax.Array]:
  del obs, reset, memory
  held = out.held.astype(jnp.int32)
  return {"trial": out.trial, "episode_done": out.episode_done,
          "held": held[..., 0] * 256 + held[..., 1]}


def first_held(trial: np.ndarray, held: np.ndarray, active: np.ndarray,
               num_trials: int) -> np.ndarray:
  """[B, K]: the first object held in each trial (its code, 0 for none).

  Args:
    trial: [B, S] the trial of each step.
    held: [B, S] the object held after it (code, 0 for none).
    active: [B, S] the step was played (not after the episode's end).
    num_trials: K.
  """
  out = np.zeros((trial.shape[0], num_trials), np.int64)
  for k in range(num_trials):
    mask = (trial == k) & (held > 0) & active
    index = np.argmax(mask, axis=1)
    out[:, k] = np.where(mask.any(1), np.take_along_axis(
        held, index[:, None], axis=1)[:, 0], 0)
  return out


def per_trial_mean(values: np.ndarray, trial: np.ndarray, active: np.ndarray,
                   num_trials: int) -> np.ndarray:
  """[B, K]: the mean of `values` [B, S] over each trial's played steps."""
  onehot = (trial[..., None] == np.arange(num_trials)) & active[..., None]
  count = onehot.sum(1)
  return (values[..., None] * onehot).sum(1) / np.maximum(count, 1)


def summarise(success: np.ndarray, first: np.ndarray,
              entropy: np.ndarray | None = None,
              value: np.ndarray | None = None) -> dict[str, list[dict]]:
  """The figures of the module docstring, per group and trial.

  Args:
    success: [B, K] bool, each episode's trials.
    first: [B, K] the first object held (`first_held`).
    entropy: [B, K] mean policy entropy per trial, or None.
    value: [B, K] mean value estimate per trial, or None.

  Returns:
    {group: K dicts of `KEYS`}, a figure None where it does not apply or no
    episode qualifies.
  """
  success = np.asarray(success, bool)
  num_trials = success.shape[1]
  out = {group: [] for group in GROUPS}
  for k in range(num_trials):
    earlier = (first[:, :k] == first[:, k:k + 1]).any(1) & (first[:, k] > 0)
    groups = {"after_failures": ~success[:, :k].any(1),
              "after_success": (success[:, k - 1] if k else
                                np.zeros(len(success), bool))}
    for group, mask in groups.items():
      n = int(mask.sum())
      mean = lambda x, m=mask, n=n: float(x[m].mean()) if n else None
      row = {"episodes": n, "success": mean(success[:, k]),
             "held": mean(first[:, k] > 0),
             "same_as_last": None, "same_as_earlier": None, "new": None,
             "entropy": None if entropy is None else mean(entropy[:, k]),
             "value": None if value is None else mean(value[:, k])}
      if k:
        row["same_as_last"] = mean((first[:, k] == first[:, k - 1]) &
                                   (first[:, k] > 0))
        row["same_as_earlier"] = mean(earlier)
        row["new"] = mean((first[:, k] > 0) & ~earlier)
      out[group].append(row)
  return out


def inspect(policy: Any, tasks: trials.Task, config: trials.TrialsConfig, *,
            episodes: int, seed: int, batch_size: int,
            memory_reset: bool = False) -> dict[str, list[dict]]:
  """`summarise` of `policy`'s episodes on `tasks` (with the memory-reset
  control's resets when `memory_reset`).

  `policy` is a `MemoryPolicy`; when its step has the agent's network
  (`agents.ada.actor`'s, a `networks` field), entropy and value are
  measured too.
  """
  networks = getattr(policy.step, "networks", None)
  params = getattr(policy, "params", None)
  if networks is not None and params is not None:
    policy = play.MemoryPolicy(init=_InspectInit(networks),
                               step=_InspectStep(networks), params=params)
    keep = _keep_inspected
  else:
    keep = _keep
  success, _, rec = play.play_steps(
      policy, tasks, config, keep, episodes=episodes,
      key=jax.random.key(int(seed)), batch_size=batch_size,
      memory_reset=memory_reset)
  flat = lambda x: x.reshape(-1, *x.shape[2:])  # [N, E, ...] -> [N * E, ...]
  success = flat(success)
  rec = {name: flat(x) for name, x in rec.items()}
  ended = np.cumsum(rec["episode_done"], axis=1)
  active = (ended - rec["episode_done"]) == 0  # up to the episode's end
  k = config.num_trials
  first = first_held(rec["trial"], rec["held"], active, k)
  means = {name: per_trial_mean(rec[name], rec["trial"], active, k)
           for name in ("entropy", "value") if name in rec}
  return summarise(success, first, means.get("entropy"), means.get("value"))


def inspect_agent(agent: str, tasks_path: str | os.PathLike, *,
                  episodes: int, seed: int, batch_size: int,
                  num_trials: int | None = None,
                  steps_per_trial: int | None = None) -> dict[str, Any]:
  """`inspect` of an agent (`trials_eval.load_trials_agent`) and of its
  memory-reset control on a task-set file.

  Returns:
    {"tasks", "trials", "episodes", "step", "agent", "memory_reset"}.

  Raises:
    As `trials_eval.evaluate_agent`.
  """
  from eval.xland import task_sets, trials_eval  # pylint: disable=g-import-not-at-top
  task_set = task_sets.load_task_set(tasks_path)
  policy, config, step = trials_eval.load_trials_agent(
      agent, layout=task_set.layout, num_trials=num_trials,
      steps_per_trial=steps_per_trial)
  tasks = trials.tasks_of(task_set, config)
  result = {"tasks": int(task_set.num_tasks), "trials": config.num_trials,
            "episodes": int(episodes), "step": step}
  for name, reset in (("agent", False), ("memory_reset", True)):
    result[name] = inspect(policy, tasks, config, episodes=episodes,
                           seed=seed, batch_size=batch_size,
                           memory_reset=reset)
  return result


def table(result: dict[str, Any], who: str = "agent",
          group: str = "after_failures", title: str | None = None):
  """A rich table of one policy ("agent" or "memory_reset") and group, a
  row per trial."""
  from rich.table import Table  # pylint: disable=g-import-not-at-top
  pct = lambda x: "" if x is None else f"{100 * x:.1f}"
  num = lambda x: "" if x is None else f"{x:.3f}"
  out = Table(title=title)
  for column in ("trial", "episodes", "success %", "held %", "same as last %",
                 "as earlier %", "new %", "entropy", "value"):
    out.add_column(column, justify="right")
  for k, row in enumerate(result[who][group]):
    out.add_row(str(k + 1), str(row["episodes"]), pct(row["success"]),
                pct(row["held"]), pct(row["same_as_last"]),
                pct(row["same_as_earlier"]), pct(row["new"]),
                num(row["entropy"]), num(row["value"]))
  return out
