"""The Anakin driver's task mode: a memory agent in a multi-trial task
environment (`games.TaskEnvironment`), e.g. AdA on XLand-MiniGrid.

What differs from self-play on a two-player game: the batch source keeps
state between updates (the environments mid-episode, the agent's memories,
the curriculum: a `trial_rollout.RolloutCarry`), which is saved with every
checkpoint as its `extra` item and restored on resume, so a resumed run goes
on with the same episodes; and evaluation plays held-out tasks trial by
trial (`TrialsEvaluator`). The loop itself (logging, checkpoints, time
limits, signals) is the driver's.
"""

from __future__ import annotations

import logging
from typing import Any

import jax
from jax.sharding import Mesh

from agents.core import CheckpointError, Checkpointer, make_update, replicate
from selfplay import trial_rollout

_META_KEY = "task_mode"


class TaskSource:
  """Produces the updates of a task-mode run and holds the rollout carry."""

  def __init__(self, env: Any, agent: Any, config: Any, mesh: Mesh,
               seed: int):
    self._env, self._agent, self._config, self._mesh = env, agent, config, mesh
    self._batch_fn = trial_rollout.make_batch_fn(env, agent,
                                                 config.curriculum)
    self.carry = replicate(trial_rollout.init_carry(
        env, agent, config.curriculum,
        jax.random.fold_in(jax.random.key(seed), 0x7A5C),
        agent.batch_size), mesh)

  @property
  def steps_per_update(self) -> int:
    """Environment steps per learner step (all environments)."""
    return self._agent.batch_size * self._agent.unroll_length

  def make_update(self, k: int, unroll: bool):
    """`update(state) -> (state, metrics)` running `k` learner steps; it
    advances `self.carry`."""
    agent = self._agent
    update = make_update(agent.loss_fn, agent.optimizer, self._mesh,
                         agent.after_update, steps_per_call=k, unroll=unroll,
                         batch_fn=self._batch_fn, epochs=agent.epochs,
                         carry=True)

    def call(state):
      state, self.carry, metrics = update(state, self.carry)
      return state, metrics

    return call

  def metrics(self, metrics: dict[str, Any]) -> dict[str, Any]:
    """A record's rates from the rollout's counts."""
    return trial_rollout.ratio_metrics(metrics, self._env.num_trials)

  def save_args(self) -> tuple[dict[str, Any], Any]:
    """(meta entries, extra pytree) to save with a checkpoint."""
    return {_META_KEY: {"carry": True}}, {"rollout": self.carry}

  def restore(self, checkpointer: Checkpointer, meta: dict[str, Any],
              step: int) -> None:
    """Continues from the carry saved at `step` (a warning and fresh
    episodes if none was saved).

    Raises:
      CheckpointError: the saved carry does not fit this config.
    """
    if not isinstance(meta.get(_META_KEY), dict):
      logging.getLogger(__name__).warning(
          "checkpoint %d holds no rollout state; starting fresh episodes",
          step)
      return
    like = {"rollout": self.carry}
    extra = checkpointer.restore_extra(like, step)
    if extra is None:
      raise CheckpointError(f"checkpoint {step}: its rollout state is "
                            "missing")
    self.carry = replicate(extra["rollout"], self._mesh)


class TrialsEvaluator:
  """The held-out evaluation of a task-mode run: the first
  `evaluation.num_tasks` held-out tasks, `evaluation.episodes` episodes
  each, success per trial (mean over tasks of each task's success rate), as
  `arena eval trials` reports it; with `evaluation.controls`, the same with
  the memory cleared at every trial (`memory_reset/...`) and for a random
  policy (`random/...`, computed once)."""

  def __init__(self, env: Any, agent: Any, config: Any):
    self._env, self._agent = env, agent
    self._cfg = config.evaluation
    self._seed = config.run.seed
    n = min(self._cfg.num_tasks, int(env.test_tasks.goal.shape[0]))
    self._tasks = jax.tree.map(lambda x: x[:n], env.test_tasks)
    self._random: dict[str, float] | None = None

  def _run(self, policy, memory_reset: bool, step: int) -> Any:
    from games.xland import play  # pylint: disable=g-import-not-at-top
    success, returns = play.play_trials(
        policy, self._tasks, self._env.config, episodes=self._cfg.episodes,
        key=jax.random.fold_in(jax.random.key(self._seed), step),
        batch_size=self._cfg.batch_size, memory_reset=memory_reset)
    return play.summarise(success, returns)

  @staticmethod
  def _flatten(prefix: str, summary: dict[str, list[float | None]]
               ) -> dict[str, float]:
    """`{prefix}success_trial_k`, `..return_trial_k` and the conditional
    `..success_after_success_trial_k` / `..success_after_failure_trial_k`
    (where defined) of a `games.xland.play.summarise` dict."""
    from games.xland import play  # pylint: disable=g-import-not-at-top
    out = {}
    for name, key in (("success", "success_mean"), ("return", "return_mean"),
                      *((c, c) for c in play.CONDITIONAL_KEYS)):
      for k, value in enumerate(summary[key]):
        if value is not None:
          out[f"{prefix}{name}_trial_{k + 1}"] = value
    return out

  def __call__(self, params: Any, step: int) -> dict[str, float]:
    if not self._cfg.every:
      return {}
    results = self._flatten("eval/", self._run(
        self._agent.memory_policy(params), False, step))
    if self._cfg.controls:
      results.update(self._flatten("eval/memory_reset/", self._run(
          self._agent.memory_policy(params), True, step)))
      if self._random is None:
        from games.xland import play  # pylint: disable=g-import-not-at-top
        self._random = self._flatten("eval/random/", self._run(
            play.random_policy(), False, 0))
      results.update(self._random)
    return results
