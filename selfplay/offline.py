"""The offline driver: supervised learning from a fixed dataset.

For agents that learn from recorded data rather than from their own play
(the Go networks of `agents.go_retrieval`, trained on expert positions). It
trains any agent whose experiment type names the driver "offline" and that
gives, besides the learner's `init`, `optimizer`, `loss_fn`, `after_update`
and `test_params`: `dataset(config)` (an object with `sample(rng,
batch_size, augment) -> batch` and `fixed(split, count, batch_size)`, the
evaluation batches, each with a `weight` per row), `batch_size`, `augment`
and `evaluate(params, batch) -> metric sums` (`agents.go_retrieval.learner`).

Each call of the shared learner's update (`agents.core.make_update`) takes K
batches sampled on the host. Every `evaluation.every` steps the test
positions (`data.eval_positions`, always the same ones) are scored and the
weighted means logged as `test/<metric>`. This module is the impure shell:
the run directory, resumption (the batches of each step are drawn from a
generator seeded by the run's seed and the step, so a resumed run trains on
the same batches as an uninterrupted one), logging, checkpoints, time
limits and signals.
"""

from __future__ import annotations

import os
import pathlib
import time
from typing import Any

import jax
import numpy as np

from agents.core import (Checkpointer, check_batch_size, make_mesh,
                         make_update, read_run_config, registry, replicate,
                         runs, write_json_atomic)
from agents.core.checkpoint import CONFIG_FILE
from selfplay import config as config_lib
from selfplay import logging as log_lib
from selfplay import signals
from selfplay.anakin import TrainResult  # the same result as Anakin's


def evaluate(agent: Any, params: Any, dataset: Any, count: int,
             batch_size: int) -> dict[str, float]:
  """Weighted means of `agent.evaluate` over the fixed test positions."""
  sums: dict[str, float] = {}
  total = 0.0
  for batch in dataset.fixed("test", count, batch_size):
    for k, v in agent.evaluate(params, batch).items():
      sums[k] = sums.get(k, 0.0) + float(v)
    total += float(batch["weight"].sum())
  return {f"test/{k}": v / max(total, 1.0) for k, v in sums.items()}


def train(config: Any, run_dir: str | os.PathLike[str], *,
          resume: bool = False, num_steps: int | None = None,
          time_limit_s: float | None = None,
          progress: str = "bar") -> TrainResult:
  """Trains (or resumes) until the step or time limit, or a signal.

  Args:
    config: the resolved experiment config.
    run_dir: where checkpoints, config.json and metrics.jsonl go.
    resume: continue from the latest checkpoint in `run_dir`; otherwise
      `run_dir` must not hold a run already.
    num_steps: total learner steps (default `config.run.num_steps`).
    time_limit_s: wall-clock budget of this call (default
      `config.run.time_limit_s`; 0: none).
    progress: "bar", "lines" or "off".

  Returns:
    A `TrainResult`; a final checkpoint is always written.

  Raises:
    ValueError: a bad config or dataset, or `run_dir` holding a run when not
      resuming.
    CheckpointError: when resuming from a missing or damaged run.
  """
  run_cfg = config.run
  num_steps = num_steps or run_cfg.num_steps
  time_limit_s = time_limit_s or run_cfg.time_limit_s
  run_dir = pathlib.Path(run_dir)
  _, agent = registry.for_config(config).build(config)
  dataset = agent.dataset(config)
  mesh = make_mesh(run_cfg.num_devices or None)
  check_batch_size(agent.batch_size, mesh)
  if resume:
    read_run_config(run_dir)
  elif (run_dir / CONFIG_FILE).exists():
    raise ValueError(f"{str(run_dir)!r} already holds a run; resume it with "
                     "--resume or choose another --out")
  checkpointer = Checkpointer(run_dir, max_to_keep=run_cfg.keep_checkpoints)
  state = runs.fresh_state(agent, run_cfg.seed)
  if resume:
    state, _ = checkpointer.restore(state)
  elif run_cfg.init_from:
    state = runs.init_from(run_cfg.init_from, state)
  write_json_atomic(run_dir / CONFIG_FILE, config_lib.to_json(config))
  state = replicate(state, mesh)
  step = int(jax.device_get(state.step))
  k_max = run_cfg.steps_per_call
  updates: dict[int, Any] = {}
  eval_every = config.evaluation.every
  eval_count = config.data.eval_positions

  def update(state, k: int):
    if k not in updates:
      updates[k] = make_update(agent.loss_fn, agent.optimizer, mesh,
                               agent.after_update, steps_per_call=k)
    # The batches of step s come from a generator seeded by (seed, s): a
    # resumed run trains on exactly the batches of an uninterrupted one.
    step = int(jax.device_get(state.step))
    rng = np.random.default_rng([run_cfg.seed, step])
    batches = [dataset.sample(rng, agent.batch_size, agent.augment)
               for _ in range(k)]
    batch = (batches[0] if k == 1 else
             jax.tree.map(lambda *xs: np.stack(xs), *batches))
    return updates[k](state, batch)

  logger = log_lib.MetricsLogger(run_dir)
  log_lib.record_session(run_dir, step)
  bar = log_lib.Progress(total=num_steps, start=step, mode=progress,
                         shown=("loss", "accuracy", "test/accuracy"))
  window = log_lib.MetricsMean()
  shown: dict[str, Any] = {}
  start = time.monotonic()
  last_ckpt_time, last_ckpt_step = start, step
  rate = {"t": start, "step": step}

  def log(step: int, do_eval: bool) -> None:
    now = time.monotonic()
    record = window.pop() or {}
    record.update(steps_per_s=(step - rate["step"]) / max(now - rate["t"],
                                                           1e-9),
                  elapsed_s=now - start)
    if do_eval:
      results = evaluate(agent, agent.test_params(state), dataset,
                         eval_count, agent.batch_size)
      record.update(results)
      bar.report_evaluation(step, results)
    rate.update(t=time.monotonic(), step=step)
    shown.update(logger.write(step, record))

  def save() -> None:
    checkpointer.save(state, {"config": config_lib.to_json(config)})

  stop_reason = "steps"
  logged = step
  try:
    with signals.stop_on_signals() as stop:
      if eval_every and step == 0:
        log(0, do_eval=True)
      while step < num_steps:
        if stop.is_set():
          stop_reason = "signal"
          break
        if time_limit_s and time.monotonic() - start >= time_limit_s:
          stop_reason = "time_limit"
          break
        k = min(k_max, num_steps - step)
        state, metrics = update(state, k)
        window.add(metrics, k)
        step = int(jax.device_get(state.step))
        due_eval = bool(eval_every) and step % eval_every < k
        if step % run_cfg.log_every < k or due_eval or step >= num_steps:
          log(step, do_eval=due_eval or (bool(eval_every) and
                                         step >= num_steps))
          logged = step
        bar.update(step, shown.get("steps_per_s", 0.0), shown)
        now = time.monotonic()
        if (step - last_ckpt_step >= run_cfg.checkpoint_every or
            now - last_ckpt_time >= run_cfg.checkpoint_every_s):
          save()
          last_ckpt_time, last_ckpt_step = now, step
      if logged != step:
        log(step, do_eval=bool(eval_every))
    save()
  finally:
    bar.close()
    logger.close()
    checkpointer.close()
  return TrainResult(run_dir=run_dir, step=step, stop_reason=stop_reason,
                     metrics=shown)
