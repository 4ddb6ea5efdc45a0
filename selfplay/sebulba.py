"""The Sebulba driver: host environments, parallel actors, replay, a learner.

Actors step Control Suite environments on the host, each in its own process
(or as Ray tasks on a cluster with `runtime.backend=ray`), act with the
latest policy parameters plus exploration noise, and send n-step transitions
to the learner process. There the transitions go into a replay buffer whose
rate limiter holds sampled/inserted transitions near `samples_per_insert`;
the learner samples K batches at a time and runs K updates in one call of
`agents.core.make_update` (Hessel et al. 2021, "Podracer architectures",
arXiv:2104.06272; D4PG, Barth-Maron et al. 2018, arXiv:1804.08617). An
evaluator plays the noiseless policy.

It trains any agent whose experiment type names it (`agents.core.registry`)
and that gives, besides the learner's `init`, `optimizer`, `loss_fn`,
`after_update` and `priorities`, its actors' side: `actor_params(params)`,
`act(actor_params, obs, key, explore)`, `n_step`, `discount`,
`n_step_target` and `make_batch(items, weights)` (D4PG does). The
environments are Control Suite tasks (`games.control`), named by
`game.name`.

This module is the impure shell: processes, queues, run directories,
resumption, logging, checkpoints, time limits and signals. The replay
buffer and the rate limiter's counts are saved with each checkpoint
(`replay/replay-<step>.npz`, written atomically after the checkpoint; the
newest two are kept), so a resumed run samples from them at once; with
`runtime.replay.checkpoint=False`, or when the file is missing, it refills
`replay.min_size` transitions before it learns again.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time
from typing import Any, NamedTuple

import jax
import numpy as np

from agents.core import (CheckpointError, Checkpointer, TrainState,
                         check_batch_size, make_mesh, make_update,
                         read_run_config, registry, replicate, runs,
                         write_json_atomic)
from agents.core.checkpoint import CONFIG_FILE
from games import control
from selfplay import config as config_lib
from selfplay import logging as log_lib
from selfplay import replay as replay_lib
from selfplay import sebulba_actors
from selfplay import signals


class Run(NamedTuple):
  """A restored training run."""

  config: Any  # a registered experiment type of the Sebulba driver
  agent: Any
  state: TrainState
  run_dir: pathlib.Path
  counters: dict[str, int]  # env_steps and episodes at the checkpoint


class TrainResult(NamedTuple):
  run_dir: pathlib.Path
  step: int  # learner steps done in total
  stop_reason: str  # "steps", "env_steps", "time_limit" or "signal"
  metrics: dict[str, Any]  # the latest logged value of every metric


def build(config: Any) -> Any:
  """The agent for the config's task (`AgentType.build` of its registered
  experiment type).

  Raises:
    ValueError: for an unknown task.
  """
  return registry.for_config(config).build(config)[1]


def restore_run(run_dir: str | os.PathLike[str],
                step: int | None = None) -> Run:
  """Loads a Sebulba run directory's config and checkpoint (latest by
  default), with the env-step counters saved beside it.

  Raises:
    CheckpointError: for a missing, corrupt or non-Sebulba run directory.
  """
  config = runs.read_config(run_dir)
  if registry.for_config(config).driver != "sebulba":
    raise CheckpointError(f"{str(run_dir)!r} holds a {type(config).__name__} "
                          "run, not one of the Sebulba driver")
  run = runs.read_run(run_dir, step)
  return Run(run.config, run.agent, run.state, run.run_dir,
             dict(run.meta.get("counters", {})))


# ---------------------------------------------------------------- replay

REPLAY_DIR = "replay"


def _replay_files(run_dir: pathlib.Path) -> dict[int, pathlib.Path]:
  """Step -> saved replay file in `run_dir`."""
  out = {}
  for path in (run_dir / REPLAY_DIR).glob("replay-*.npz"):
    tail = path.stem[len("replay-"):]
    if tail.isdigit():
      out[int(tail)] = path
  return out


def _save_replay(run_dir: pathlib.Path, step: int,
                 buffer: replay_lib.ReplayBuffer) -> None:
  """Writes the buffer for checkpoint `step`, then drops all files but this
  one and the one before: checkpoints are written asynchronously, so `step`
  may not be on disk yet when a run is killed; the previous one is."""
  replay_lib.save(run_dir / REPLAY_DIR / f"replay-{step}.npz", buffer)
  files = _replay_files(run_dir)
  for old in sorted(files)[:-2]:
    files[old].unlink(missing_ok=True)


def _restore_replay(run_dir: pathlib.Path, step: int,
                    buffer: replay_lib.ReplayBuffer,
                    limiter: replay_lib.RateLimiter,
                    saved_counts: dict[str, int] | None) -> None:
  """Refills `buffer` from the newest replay file saved at or before
  checkpoint `step`. The limiter's counts come back only with the file of
  that very checkpoint; otherwise it starts again (refilling `min_size`).
  A missing or unreadable file leaves the buffer empty, with a warning: the
  run goes on (it refills), nothing else is lost. Files of later steps
  (their checkpoint never reached the disk) are removed."""
  files = _replay_files(run_dir)
  for later in [s for s in files if s > step]:
    files.pop(later).unlink(missing_ok=True)
  if not files:
    print(f"arena: no saved replay in {run_dir / REPLAY_DIR} for step {step}; "
          "refilling it", file=sys.stderr)
    return
  saved = max(files)
  try:
    buffer.restore(replay_lib.load(files[saved]))
  except ValueError as e:
    print(f"arena: {e}; refilling the replay", file=sys.stderr)
    return
  if saved == step and saved_counts:
    limiter.restore(saved_counts)
  elif saved != step:
    print(f"arena: replay restored from step {saved}, checkpoint is step "
          f"{step}", file=sys.stderr)


# ---------------------------------------------------------------- learner


class _Evaluator:
  """Mean return of the noiseless policy over a few episodes."""

  def __init__(self, config: Any, agent: Any):
    self._episodes = config.evaluation.episodes
    self._env = control.make(config.game.name, seed=config.run.seed * 10_000)
    self._actor_params = agent.actor_params
    self._act = jax.jit(lambda params, obs: agent.act(
        params, obs, jax.random.key(0), explore=False))

  def __call__(self, params) -> dict[str, float]:
    if not self._episodes:
      return {}
    params = jax.device_get(self._actor_params(params))
    returns = []
    for _ in range(self._episodes):
      timestep, total = self._env.reset(), 0.0
      while not timestep.last():
        timestep = self._env.step(np.asarray(
            self._act(params, timestep.observation)))
        total += timestep.reward
      returns.append(total)
    return {"eval_return": float(np.mean(returns)),
            "eval_return_std": float(np.std(returns))}


def _error_buffer(config: Any, n_step: int) -> float:
  replay = config.runtime.replay
  needed = replay_lib.RateLimiter.required_error_buffer(
      # An episode's last message also carries its n-step remainder.
      replay.samples_per_insert,
      config.runtime.send_every + n_step,
      config.run.steps_per_call * config.agent.batch_size)
  if not replay.error_buffer:
    return max(needed, 0.1 * replay.samples_per_insert * replay.min_size)
  if replay.error_buffer < needed:
    raise ValueError(
        f"runtime.replay.error_buffer={replay.error_buffer} is too small for "
        f"samples_per_insert={replay.samples_per_insert}, send_every="
        f"{config.runtime.send_every} (+ n_step) and "
        f"{config.run.steps_per_call} x "
        f"{config.agent.batch_size} samples per learner call; use >= {needed} "
        "(or 0 for automatic)")
  return replay.error_buffer


def train(config: Any,
          run_dir: str | os.PathLike[str], *, resume: bool = False,
          num_steps: int | None = None, time_limit_s: float | None = None,
          progress: str = "bar") -> TrainResult:
  """Trains (or resumes training) until a step/env-step/time limit or signal.

  Args:
    config: the resolved experiment config.
    run_dir: where checkpoints, config.json and metrics.jsonl go.
    resume: continue from the latest checkpoint in `run_dir`; otherwise
      `run_dir` must not hold a run already.
    num_steps: total learner steps to reach (default `config.run.num_steps`).
    time_limit_s: wall-clock budget of this call, 0/None for
      `config.run.time_limit_s` (0 there means none).
    progress: "bar", "lines" (one line per log record) or "off".

  Returns:
    A `TrainResult`. A final checkpoint is always written.

  Raises:
    ValueError: for a bad config (unknown task, batch not divisible over the
      devices, error buffer too small, Ray missing), or `run_dir` holding a
      run when not resuming.
    CheckpointError: when resuming from a missing or damaged run.
  """
  run_cfg, runtime = config.run, config.runtime
  num_steps = num_steps or run_cfg.num_steps
  time_limit_s = time_limit_s or run_cfg.time_limit_s
  run_dir = pathlib.Path(run_dir)
  agent = build(config)
  mesh = make_mesh(run_cfg.num_devices or None)
  batch_size, k_max = config.agent.batch_size, run_cfg.steps_per_call
  check_batch_size(batch_size, mesh)
  sebulba_actors.check_backend(runtime)
  limiter = replay_lib.RateLimiter(runtime.replay.samples_per_insert,
                                   runtime.replay.min_size,
                                   _error_buffer(config, agent.n_step))
  if resume:
    read_run_config(run_dir)  # clear error for a missing/corrupt directory
  elif (run_dir / CONFIG_FILE).exists():
    raise ValueError(f"{str(run_dir)!r} already holds a run; resume it with "
                     "--resume or choose another --out")
  checkpointer = Checkpointer(run_dir, max_to_keep=run_cfg.keep_checkpoints)
  state = runs.fresh_state(agent, run_cfg.seed)
  counters = {"env_steps": 0, "episodes": 0}
  meta: dict[str, Any] = {}
  if resume:
    state, meta = checkpointer.restore(state)
    counters.update(meta.get("counters", {}))
  elif run_cfg.init_from:
    state = runs.init_from(run_cfg.init_from, state)
  write_json_atomic(run_dir / CONFIG_FILE, config_lib.to_json(config))
  state = replicate(state, mesh)
  step = int(jax.device_get(state.step))

  obs_size, action_spec = control.specs(config.game.name)
  spec = {"obs": ((obs_size,), np.float32),
          "action": (action_spec.shape, np.float32),
          "reward": ((), np.float32), "discount": ((), np.float32),
          "next_obs": ((obs_size,), np.float32)}
  buffer = replay_lib.ReplayBuffer(runtime.replay.capacity, spec,
                                   runtime.replay)
  if resume and runtime.replay.checkpoint:
    _restore_replay(run_dir, step, buffer, limiter, meta.get("limiter"))
  rng = np.random.default_rng([run_cfg.seed, step])
  updates: dict[int, Any] = {}
  priorities = jax.jit(agent.priorities)

  def update(state: TrainState, k: int):
    if k not in updates:
      updates[k] = make_update(agent.loss_fn, agent.optimizer, mesh,
                               agent.after_update, steps_per_call=k)
    items, slots, weights = buffer.sample(k * batch_size, rng)
    limiter.sampled(k * batch_size)
    shape = (k, batch_size) if k > 1 else (batch_size,)
    batch = agent.make_batch(
        {f: v.reshape(*shape, *v.shape[1:]) for f, v in items.items()},
        weights.reshape(shape))
    state, metrics = updates[k](state, batch)
    if runtime.replay.prioritized:
      flat = jax.tree.map(lambda x: x.reshape(-1, *x.shape[len(shape):]),
                          batch)
      buffer.update_priorities(slots, np.asarray(
          priorities(state.params, state.extras, flat)))
    return state, metrics

  evaluator = _Evaluator(config, agent)
  logger = log_lib.MetricsLogger(run_dir)
  log_lib.record_session(run_dir, step)
  bar = log_lib.Progress(total=num_steps, start=step, mode=progress,
                         shown=("eval_return", "train_return", "critic_loss"))
  start = time.monotonic()
  cpu_start = time.process_time()
  last_ckpt_time, last_ckpt_step = start, step
  next_log = step + run_cfg.log_every - step % run_cfg.log_every
  next_eval = (step + config.evaluation.every - step % config.evaluation.every
               if config.evaluation.every else None)
  rate = {"t": start, "step": step, "env_steps": counters["env_steps"],
          "wait": 0.0}
  waited = 0.0  # seconds the learner spent waiting for transitions
  recent_returns: list[float] = []
  shown: dict[str, Any] = {}
  logged_step = -1

  window = log_lib.MetricsMean()  # the learner's metrics since the last log

  def log(step: int, evaluate: bool) -> None:
    nonlocal logged_step, recent_returns
    now = time.monotonic()
    dt = max(now - rate["t"], 1e-9)
    record = window.pop() or {}
    record.update(
        env_steps=counters["env_steps"], episodes=counters["episodes"],
        updates_per_s=(step - rate["step"]) / dt,
        env_steps_per_s=(counters["env_steps"] - rate["env_steps"]) / dt,
        learner_wait_frac=(waited - rate["wait"]) / dt,
        samples_per_insert=limiter.samples / max(limiter.inserts, 1),
        replay_inserts=limiter.inserts, replay_samples=limiter.samples,
        replay_size=buffer.size, elapsed_s=now - start,
        cpu_s=time.process_time() - cpu_start)
    if recent_returns:
      record["train_return"] = float(np.mean(recent_returns))
      recent_returns = []
    if evaluate:
      results = evaluator(state.params)
      record.update(results)
      bar.report_evaluation(step, results)
    rate.update(t=time.monotonic(), step=step,
                env_steps=counters["env_steps"], wait=waited)
    shown.update(logger.write(step, record))
    logged_step = step

  def save() -> None:
    checkpointer.save(state, {"config": config_lib.to_json(config),
                              "counters": dict(counters),
                              "limiter": limiter.state()})
    if runtime.replay.checkpoint:
      _save_replay(run_dir, int(jax.device_get(state.step)), buffer)

  stop_reason = "steps"
  actors = None
  pending = None
  try:
    actors = sebulba_actors.Actors(config)
    actors.broadcast(jax.device_get(agent.actor_params(state.params)))
    with signals.stop_on_signals() as stop:
      if next_eval is not None and step == 0:
        results = evaluator(state.params)
        bar.report_evaluation(0, results)
        shown.update(logger.write(0, {"env_steps": counters["env_steps"],
                                      **results}))
      while True:
        if step >= num_steps:
          break
        if runtime.max_env_steps and counters["env_steps"] >= \
            runtime.max_env_steps:
          stop_reason = "env_steps"
          break
        if stop.is_set():
          stop_reason = "signal"
          break
        if time_limit_s and time.monotonic() - start >= time_limit_s:
          stop_reason = "time_limit"
          break
        # Insert every message that the rate limiter lets in.
        if pending is None:
          pending = actors.get(timeout=None)
        if pending is not None:
          _, items, returns = pending
          n = 0 if items is None else len(items["reward"])
          if limiter.can_insert(n):
            if n:
              buffer.insert(items)
              limiter.inserted(n)
            counters["env_steps"] += n
            counters["episodes"] += len(returns)
            recent_returns.extend(returns)
            pending = None
            continue
        k = min(k_max, num_steps - step)
        if not limiter.can_sample(k * batch_size):
          if pending is None:
            t0 = time.monotonic()
            pending = actors.get(timeout=0.5)
            waited += time.monotonic() - t0
            actors.check_alive()
          continue
        state, metrics = update(state, k)
        window.add(metrics, k)
        step = int(jax.device_get(state.step))
        actors.broadcast(jax.device_get(agent.actor_params(state.params)))
        due_eval = next_eval is not None and step >= next_eval
        if step >= next_log or due_eval or step >= num_steps:
          log(step, evaluate=due_eval)
          if due_eval:
            next_eval = step + config.evaluation.every - step % config.evaluation.every
          next_log = step + run_cfg.log_every - step % run_cfg.log_every
        bar.update(step, shown.get("updates_per_s", 0.0), shown)
        now = time.monotonic()
        if (step - last_ckpt_step >= run_cfg.checkpoint_every or
            now - last_ckpt_time >= run_cfg.checkpoint_every_s):
          save()
          last_ckpt_time, last_ckpt_step = now, step
      if logged_step != step:
        log(step, evaluate=next_eval is not None)
    save()
  finally:
    if actors is not None:
      actors.close()
    bar.close()
    logger.close()
    checkpointer.close()
  return TrainResult(run_dir=run_dir, step=step, stop_reason=stop_reason,
                     metrics=shown)
