"""The Anakin self-play driver: rollouts and updates compiled together.

For games written in JAX, one compiled call plays a batch of self-play games
to the end and applies the learner update, `steps_per_call` times over
(Hessel et al. 2021, "Podracer architectures", arXiv:2104.06272). This module
is the impure shell around it: run directories, resumption, logging,
evaluation, checkpoints, time limits and signals.

It trains any agent whose experiment type names it (`agents.core.registry`),
through the agent's `init`, `optimizer`, `loss_fn`, `after_update`,
`make_policy_fn`, `test_params` and `policy_probs`; the config needs `game`,
`agent.batch_size`, `run` and `evaluation`, and may have `league` (opponents
and reward shaping; plain self-play without) and `warm_start` (an imitation
warm start, for agents with an `imitation_loss`).
"""

from __future__ import annotations

import logging
import os
import pathlib
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

import games
from agents.core import (CheckpointError, Checkpointer, TrainState,
                         check_batch_size, configs, experiment, make_mesh,
                         make_update, registry, replicate, runs,
                         write_json_atomic)
from agents.core.checkpoint import CONFIG_FILE
from selfplay import evaluation
from selfplay import logging as log_lib
from selfplay import opponent_pool
from selfplay import signals
from selfplay.rollout import PolicyFn, rollout


class TrainResult(NamedTuple):
  run_dir: pathlib.Path
  step: int  # learner steps done in total
  stop_reason: str  # "steps", "time_limit" or "signal"
  metrics: dict[str, Any]  # the latest logged value of every metric


def build(config: Any) -> tuple[games.Game, Any]:
  """The game and the agent a config describes (`AgentType.build` of its
  registered experiment type).

  Raises:
    ValueError: for an unregistered config type, an unknown game or bad
      game parameters.
  """
  return registry.for_config(config).build(config)


def restore_run(run_dir: str | os.PathLike[str],
                step: int | None = None) -> runs.Run:
  """`agents.core.runs.read_run`: a run directory's config and checkpoint.

  Raises:
    CheckpointError: for a missing, incomplete or corrupt run directory.
  """
  return runs.read_run(run_dir, step)


def _league(config: Any) -> experiment.LeagueConfig:
  """The config's league settings; plain self-play for an experiment type
  without a `league` section."""
  return getattr(config, "league", None) or experiment.LeagueConfig()


def _checkpoint_seed(meta: dict[str, Any], default: int | None) -> int | None:
  """The `run.seed` a checkpoint was saved under (its metadata's config;
  `default` where that is missing), so a fork killed before its first
  checkpoint still forks when resumed."""
  try:
    return int(meta["config"]["config"]["run"]["seed"])
  except (KeyError, TypeError, ValueError):
    return default


def _warm_start(game: games.Game, agent: Any, state: TrainState, config: Any,
                mesh: Mesh, progress: str
                ) -> tuple[TrainState, dict[str, float]]:
  """`selfplay.warm_start.warm_start` with progress lines and signals.

  Raises:
    _Interrupted: a signal arrived before the clone was done (nothing is
      saved; `--resume` starts the run again).
  """
  from selfplay import warm_start  # pylint: disable=g-import-not-at-top
  cfg = config.warm_start

  def report(done: int, metrics) -> None:
    if progress != "off":
      print(f"warm start ({cfg.bot}): {done}/{cfg.steps} steps, accuracy "
            f"{float(metrics['accuracy']):.3f}, policy loss "
            f"{float(metrics['loss_policy']):.3f}, value loss "
            f"{float(metrics['loss_value']):.3f}", flush=True)

  with signals.stop_on_signals() as stop:
    state, metrics = warm_start.warm_start(
        game, agent, state, cfg, mesh=mesh,
        shaping=(_league(config).reward_shaping if cfg.reward_shaping is None
                 else cfg.reward_shaping),
        should_stop=stop.is_set, report=report)
  if metrics["steps"] < cfg.steps:
    raise _Interrupted()
  return state, metrics


class _Interrupted(Exception):
  """A signal stopped the warm start."""


def _saved_seconds(meta: dict[str, Any], key: str, step: int) -> float:
  """A time total saved with checkpoint `step` (0 if none was saved)."""
  value = meta.get(key, 0.0)
  if (isinstance(value, bool) or not isinstance(value, (int, float))
      or not 0.0 <= value < float("inf")):
    raise CheckpointError(
        f"checkpoint {step}: malformed {key} metadata {value!r}")
  return float(value)


def _check_potential(game: games.Game) -> None:
  """Raises a clear ValueError when `game` has no potential to shape with."""
  try:
    jax.eval_shape(game.potential, jax.eval_shape(game.init,
                                                  jax.random.key(0)))
  except NotImplementedError as e:
    raise ValueError(f"league.reward_shaping needs a game with a potential: "
                     f"{e}") from None


def _bot_opponents(game: games.Game,
                   names: tuple[str, ...]) -> PolicyFn | None:
  """The batch policy of the fixed opponents `names`, game i's bot being
  `names[i % len(names)]`; it reports the one-hot of each bot's move as its
  policy. None for no bots.

  Raises:
    ValueError: for a bot `game` does not have.
  """
  if not names:
    return None
  bots = [jax.vmap(games.bot_policy(game, name)) for name in names]

  def policy_fn(obs, legal, key):
    batch = obs.shape[0]
    keys = jax.random.split(key, len(bots))
    actions = jnp.stack([bot(obs, legal, jax.random.split(k, batch))
                         for bot, k in zip(bots, keys)])  # [N, B]
    action = actions[jnp.arange(batch) % len(bots), jnp.arange(batch)]
    return action, jax.nn.one_hot(action, legal.shape[-1])

  return policy_fn


def train(config: Any,
          run_dir: str | os.PathLike[str], *, resume: bool = False,
          num_steps: int | None = None, time_limit_s: float | None = None,
          progress: str = "bar") -> TrainResult:
  """Trains (or resumes training) until a step or time limit, or a signal.

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
    ValueError: for a bad config, or `run_dir` holding a run when not
      resuming.
    CheckpointError: when resuming from a missing or damaged run.
  """
  run_cfg, league, eval_cfg = config.run, _league(config), config.evaluation
  num_steps = num_steps or run_cfg.num_steps
  time_limit_s = time_limit_s or run_cfg.time_limit_s
  run_dir = pathlib.Path(run_dir)
  game, agent = build(config)
  # A multi-trial task environment (AdA): the batch source carries its
  # environments, memories and curriculum between updates (`task_mode`).
  task_mode = isinstance(game, games.TaskEnvironment)
  mesh = make_mesh(run_cfg.num_devices or None)
  check_batch_size(config.agent.batch_size, mesh)

  warm_cfg = getattr(config, "warm_start", None)
  warm = bool(warm_cfg is not None and warm_cfg.steps)
  if warm:
    if not hasattr(agent, "imitation_loss"):
      raise ValueError(f"warm_start.steps must be 0: the "
                       f"{registry.for_config(config).name} agent has no "
                       "imitation loss")
    games.bot_policy(game, warm_cfg.bot)  # a clear error first
    try:
      check_batch_size(warm_cfg.batch_size, mesh)
    except ValueError as e:
      raise ValueError(f"warm_start.batch_size: {e}") from None
  if warm and run_cfg.init_from:
    raise ValueError("run.init_from and warm_start.steps both give the run "
                     "its first network; set one of them")
  fixed_fn = None if task_mode else _bot_opponents(game,
                                                   league.bot_opponents)
  shaping = league.reward_shaping
  if shaping or (warm and warm_cfg.reward_shaping):
    _check_potential(game)
  saved_seed = None
  if resume:  # (a clear error for a missing or corrupt directory first)
    saved_seed = runs.read_config(run_dir).run.seed
  elif (run_dir / CONFIG_FILE).exists():
    raise ValueError(f"{str(run_dir)!r} already holds a run; resume it with "
                     "--resume or choose another --out")
  checkpointer = Checkpointer(run_dir, max_to_keep=run_cfg.keep_checkpoints)
  fresh = runs.fresh_state(agent, run_cfg.seed)
  meta_saved: dict[str, Any] = {}
  if resume and checkpointer.latest_step() is None:
    # Stopped before its first checkpoint (e.g. during the warm start).
    logging.getLogger(__name__).warning(
        "%s holds no checkpoint yet; starting the run from the beginning",
        run_dir)
    resume = False
  if resume:
    state, meta_saved = runs.restore_state(checkpointer, fresh)
    if run_cfg.seed != _checkpoint_seed(meta_saved, saved_seed):
      # A fork under a new seed (`arena train --resume COPY --seed N`): the
      # restored key is mixed with it, so the games played from here differ
      # from the original run's; resuming the fork again keeps its seed.
      state = state._replace(key=jax.random.fold_in(state.key, run_cfg.seed))
  elif run_cfg.init_from:
    state = runs.init_from(run_cfg.init_from, fresh)
  else:
    state = fresh
  write_json_atomic(run_dir / CONFIG_FILE, configs.to_json(config))
  start = time.monotonic()
  cpu_start = time.process_time()
  warm_metrics: dict[str, float] = {}
  if not resume and warm:
    try:
      state, warm_metrics = _warm_start(game, agent, state, config, mesh,
                                        progress)
    except _Interrupted:
      checkpointer.close()
      return TrainResult(run_dir=run_dir, step=0, stop_reason="signal",
                         metrics={})
  state = replicate(state, mesh)

  batch_size = config.agent.batch_size
  num_vs_past = round(league.past_opponent_fraction * batch_size)
  pool = opponent_pool.OpponentPool(
      league, state.params, int(jax.device_get(state.step)),
      seed=run_cfg.seed) if (
          league.past_opponents and num_vs_past) else None
  if pool is not None and resume and not pool.restore(
      checkpointer, meta_saved, int(jax.device_get(state.step)), state.params):
    logging.getLogger(__name__).warning(
        "%s: the checkpoint holds no pool of past opponents; starting a new "
        "one from the restored parameters", run_dir)

  source = None
  if task_mode:
    from selfplay import task_mode as task_lib  # pylint: disable=g-import-not-at-top
    source = task_lib.TaskSource(game, agent, config, mesh, run_cfg.seed)
    if resume:
      source.restore(checkpointer, meta_saved,
                     int(jax.device_get(state.step)))

  if pool is None:
    num_vs_past = 0
  num_vs_bot = (min(round(league.bot_opponent_fraction * batch_size),
                    batch_size - num_vs_past) if fixed_fn is not None else 0)

  def make_step_fn(k: int):
    if source is not None:
      return source.make_update(k, run_cfg.unroll_steps)

    def batch_fn(state: TrainState, key, past_params=None):
      if past_params is None and not num_vs_bot:  # self-play only
        return rollout(game, agent.make_policy_fn(state), key, batch_size,
                       game.max_episode_length, shaping=shaping)
      seat_key, key = jax.random.split(key)
      seat = jax.random.bernoulli(seat_key, shape=(batch_size,)).astype(
          jnp.int32)
      game_index = jnp.arange(batch_size)
      kwargs = {}
      if past_params is not None:
        kwargs.update(
            opponent_fn=agent.make_policy_fn(
                state._replace(params=past_params)),
            opponent_seat=jnp.where(game_index < num_vs_past, seat, -1))
      if num_vs_bot:
        kwargs.update(fixed_fn=fixed_fn, fixed_seat=jnp.where(
            (game_index >= num_vs_past) &
            (game_index < num_vs_past + num_vs_bot), seat, -1))
      return rollout(game, agent.make_policy_fn(state), key, batch_size,
                     game.max_episode_length, shaping=shaping, **kwargs)
    return make_update(agent.loss_fn, agent.optimizer, mesh,
                       agent.after_update, steps_per_call=k,
                       unroll=run_cfg.unroll_steps,
                       batch_fn=batch_fn, batch_axis=1)

  updates = {run_cfg.steps_per_call: make_step_fn(run_cfg.steps_per_call)}
  if task_mode:
    evaluator = task_lib.TrialsEvaluator(game, agent, config)
  else:
    evaluator = evaluation.Evaluator(game, agent, config)
  logger = log_lib.MetricsLogger(run_dir)
  step = int(jax.device_get(state.step))
  log_lib.record_session(run_dir, step)
  bar = log_lib.Progress(total=num_steps, start=step, mode=progress)
  meta = {"config": configs.to_json(config)}
  # Wall and CPU time of the run's earlier invocations, up to the checkpoint
  # resumed from, so logged times count the whole run.
  elapsed_before, cpu_before = (_saved_seconds(meta_saved, k, step)
                                for k in ("elapsed_s", "cpu_s"))

  def elapsed() -> float:
    return elapsed_before + time.monotonic() - start

  def cpu() -> float:
    return cpu_before + time.process_time() - cpu_start

  last_ckpt_time, last_ckpt_step = start, step
  next_log = step + run_cfg.log_every - step % run_cfg.log_every
  next_eval = (step + eval_cfg.every - step % eval_cfg.every
               if eval_cfg.every else None)
  rate_t, rate_step, rate = start, step, 0.0
  shown: dict[str, Any] = {}  # latest value of every metric
  logged_step = -1

  window = log_lib.MetricsMean()  # the learner's metrics since the last log

  def evaluate(step: int, should_stop) -> dict[str, Any]:
    """The evaluation's results, or none if a stop request came first."""
    params = agent.test_params(state)
    finished, results = signals.call_until_stopped(
        lambda: evaluator(params, step), should_stop)
    if not finished:
      return {}
    bar.report_evaluation(step, results)
    return results

  def log(step: int, evaluate_now: bool, should_stop) -> None:
    nonlocal logged_step
    metrics = window.pop() or {}
    if source is not None:
      metrics = source.metrics(metrics)
      metrics.update(env_steps=step * source.steps_per_update,
                     env_steps_per_s=rate * source.steps_per_update)
    else:
      metrics.update(games=step * config.agent.batch_size)
    metrics.update(steps_per_s=rate, elapsed_s=elapsed(), cpu_s=cpu())
    if evaluate_now:
      metrics.update(evaluate(step, should_stop))
    shown.update(logger.write(step, metrics))
    logged_step = step

  def save() -> None:
    entries, extra = {**meta, "elapsed_s": elapsed(), "cpu_s": cpu()}, None
    for part in (pool, source):
      if part is not None:
        part_meta, part_extra = part.save_args()
        entries.update(part_meta)
        extra = {**(extra or {}), **part_extra}
    checkpointer.save(state, entries, extra=extra)

  stop_reason = "steps"
  abandoned = False  # a stop request gave up on a call that took the state
  metrics = None
  try:
    with signals.stop_on_signals() as stop:
      if step == 0 and (next_eval is not None or warm_metrics):
        first = {f"warm_start/{k}": v for k, v in warm_metrics.items()}
        if next_eval is not None:
          first.update(evaluate(0, stop.is_set))
        shown.update(logger.write(0, {**first, "elapsed_s": elapsed(),
                                      "cpu_s": cpu()}))
      if warm_metrics:  # the clone is step 0 of the run: never redone
        save()
        last_ckpt_time = time.monotonic()
      while step < num_steps:
        if stop.is_set():
          stop_reason = "signal"
          break
        if time_limit_s and time.monotonic() - start >= time_limit_s:
          stop_reason = "time_limit"
          break
        k = min(run_cfg.steps_per_call, num_steps - step)
        args = () if pool is None else (pool.draw(step),)
        if k not in updates:
          updates[k] = make_step_fn(k)
          if step == last_ckpt_step:
            # Compiles first. Nothing is new since the checkpoint (or the
            # start), so a stop request may give up on the call, which
            # consumes (donates) the state.
            finished, out = signals.call_until_stopped(
                lambda f=updates[k], a=args: f(state, *a), stop.is_set)
            if not finished:
              stop_reason, abandoned = "signal", True
              break
            state, metrics = out
          else:
            state, metrics = updates[k](state, *args)
        else:
          state, metrics = updates[k](state, *args)
        window.add(metrics, k)
        step = int(jax.device_get(state.step))
        if pool is not None:
          pool.maybe_add(step, state.params)
        now = time.monotonic()
        if now - rate_t > 1.0:
          rate = (step - rate_step) / (now - rate_t)
          rate_t, rate_step = now, step
        due_eval = next_eval is not None and step >= next_eval
        if step >= next_log or due_eval or step >= num_steps:
          log(step, due_eval, stop.is_set)
          if due_eval:
            next_eval = step + eval_cfg.every - step % eval_cfg.every
          next_log = step + run_cfg.log_every - step % run_cfg.log_every
        bar.update(step, rate, shown)
        if (step - last_ckpt_step >= run_cfg.checkpoint_every or
            now - last_ckpt_time >= run_cfg.checkpoint_every_s):
          save()
          last_ckpt_time, last_ckpt_step = now, step
      if metrics is not None and logged_step != step:  # stopped early
        log(step, next_eval is not None and stop_reason != "signal",
            stop.is_set)
    if not abandoned:
      save()
  finally:
    bar.close()
    logger.close()
    checkpointer.close()
  return TrainResult(run_dir=run_dir, step=step, stop_reason=stop_reason,
                     metrics=shown)
