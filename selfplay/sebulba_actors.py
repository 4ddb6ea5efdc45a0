"""Sebulba actors: processes (or Ray tasks) stepping host environments.

Each actor steps one Control Suite environment with the latest policy
parameters plus exploration noise, and sends n-step transitions and the
returns of finished episodes to the learner over a bounded queue; it gets
parameters (and finally `STOP`) over a queue of its own. Local actors are
spawned processes; with `runtime.backend=ray` they are Ray tasks, and Ray is
imported only then.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import time
from typing import Any

import jax
import numpy as np

from agents.core import configs as config_lib
from agents.core import experiment, registry
from games import control
from selfplay import replay as replay_lib

STOP = "stop"  # sent on an actor's parameter queue to end it
RAY_MISSING = ("runtime.backend=ray needs Ray, which is not installed; "
               "install it with: pip install 'arena[ray]' (ray==2.60.0)")

# Actors run JAX on the CPU with one thread: the learner owns the accelerator
# (if any), and the cores are shared.
_ACTOR_ENV = {"JAX_PLATFORMS": "cpu",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}


def check_backend(runtime: experiment.RuntimeConfig) -> None:
  """Raises ValueError if the chosen backend cannot run here."""
  if runtime.backend == "ray":
    try:
      import ray  # pylint: disable=g-import-not-at-top,unused-import  # noqa: F401
    except ImportError as e:
      raise ValueError(RAY_MISSING) from e


def _queue_errors(backend: str) -> tuple[tuple[type, ...], tuple[type, ...]]:
  empty, full = (queue.Empty,), (queue.Full,)
  if backend == "ray":
    from ray.util import queue as ray_queue  # pylint: disable=g-import-not-at-top
    empty, full = empty + (ray_queue.Empty,), full + (ray_queue.Full,)
  return empty, full


def _actor_main(actor_id: int, config_json: dict[str, Any], data_q: Any,
                param_q: Any) -> None:
  """One actor: steps its environment and sends n-step transitions.

  Runs until it receives `STOP` on `param_q`. Each message on `data_q` is
  `(actor_id, items, episode_returns)`, items being a dict of arrays [n, ...]
  (possibly None) and episode_returns the returns of the episodes it ended.
  """
  config = config_lib.from_json(config_json)
  backend = config.runtime.backend
  parent = os.getppid()
  if backend == "local":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the learner stops us

  def orphaned() -> bool:  # the learner was killed without stopping us
    return backend == "local" and os.getppid() != parent
  empty, full = _queue_errors(backend)
  seed = config.run.seed
  env = control.make(config.game.name, seed=seed * 10_000 + actor_id + 1)
  _, agent = registry.for_config(config).build(config)
  key = jax.random.fold_in(jax.random.key(seed), actor_id + 1)

  @jax.jit
  def act(params, obs, t):
    return agent.act(params, obs, jax.random.fold_in(key, t), explore=True)

  adder = replay_lib.NStepAdder(agent.n_step, agent.discount,
                                agent.n_step_target)
  params = None

  def poll(block: bool) -> bool:
    """Takes the newest parameters; False once told to stop."""
    nonlocal params
    while True:
      try:
        item = param_q.get(timeout=1.0) if block else param_q.get_nowait()
      except empty:
        if block and not orphaned():
          continue
        return not orphaned()
      if isinstance(item, str) and item == STOP:
        return False
      params = jax.device_put(item)
      if block:
        return True

  def send(items, returns) -> bool:
    msg = (actor_id, items, tuple(returns))
    while True:
      try:
        data_q.put(msg, timeout=0.5)
        return True
      except full:
        if not poll(block=False) or orphaned():
          return False

  if not poll(block=True):
    return
  buffer: list[replay_lib.NStepTransition] = []
  returns: list[float] = []
  t = 0
  while True:
    timestep = env.reset()
    adder.start(timestep.observation)
    episode_return = 0.0
    while not timestep.last():
      obs = timestep.observation
      action = np.asarray(act(params, obs, t))
      t += 1
      timestep = env.step(action)
      episode_return += timestep.reward
      buffer.extend(adder.step(action, timestep.reward, timestep.discount,
                               timestep.observation, timestep.last()))
      if timestep.last():
        returns.append(episode_return)
      if len(buffer) >= config.runtime.send_every or timestep.last():
        items = _stack(buffer) if buffer else None
        if not send(items, returns) or not poll(block=False):
          if hasattr(data_q, "cancel_join_thread"):
            data_q.cancel_join_thread()
          return
        buffer, returns = [], []


def _stack(transitions: list[replay_lib.NStepTransition]
           ) -> dict[str, np.ndarray]:
  obs, action, reward, discount, next_obs = zip(*transitions)
  return {"obs": np.stack(obs), "action": np.stack(action).astype(np.float32),
          "reward": np.asarray(reward, np.float32),
          "discount": np.asarray(discount, np.float32),
          "next_obs": np.stack(next_obs)}


class Actors:
  """Starts actors (local processes or Ray tasks) and talks to them."""

  def __init__(self, config: Any):
    runtime = config.runtime
    self.num = runtime.num_actors or os.cpu_count() or 1
    self.backend = runtime.backend
    size = runtime.queue_size or 2 * self.num
    config_json = config_lib.to_json(config)
    self._empty, self._full = (queue.Empty,), (queue.Full,)
    if self.backend == "local":
      ctx = multiprocessing.get_context("spawn")
      self.data_q = ctx.Queue(maxsize=size)
      self._param_qs = [ctx.Queue(maxsize=1) for _ in range(self.num)]
      self._procs = [ctx.Process(target=_actor_main, daemon=True,
                                 name=f"actor-{i}",
                                 args=(i, config_json, self.data_q, q))
                     for i, q in enumerate(self._param_qs)]
      env = _ACTOR_ENV
      saved = {k: os.environ.get(k) for k in env}
      os.environ.update(env)
      try:
        for p in self._procs:
          p.start()
      finally:
        for k, v in saved.items():
          if v is None:
            os.environ.pop(k, None)
          else:
            os.environ[k] = v
      return
    try:
      import ray  # pylint: disable=g-import-not-at-top
      from ray.util.queue import Queue as RayQueue  # pylint: disable=g-import-not-at-top
    except ImportError as e:
      raise ValueError(RAY_MISSING) from e
    self._empty, self._full = _queue_errors("ray")
    ray.init(address=runtime.ray_address or None, ignore_reinit_error=True)
    self.data_q = RayQueue(maxsize=size)
    self._param_qs = [RayQueue(maxsize=1) for _ in range(self.num)]
    remote = ray.remote(num_cpus=1, runtime_env={"env_vars": _ACTOR_ENV})(
        _actor_main)
    self._refs = [remote.remote(i, config_json, self.data_q, q)
                  for i, q in enumerate(self._param_qs)]

  def get(self, timeout: float | None) -> Any | None:
    """The next message, or None if there is none (within `timeout`)."""
    try:
      if timeout is None:
        return self.data_q.get_nowait()
      return self.data_q.get(timeout=timeout)
    except self._empty:
      return None

  def broadcast(self, params: Any) -> None:
    """Offers `params` to every actor, replacing any they have not taken."""
    for q in self._param_qs:
      try:
        q.get_nowait()
      except self._empty:
        pass
      try:
        q.put_nowait(params)
      except self._full:
        pass  # the queue's old item is still in flight; next time

  def check_alive(self) -> None:
    if self.backend == "local":
      dead = [p for p in self._procs if p.exitcode not in (None, 0)]
      if dead:
        raise RuntimeError(f"actor {dead[0].name} died with exit code "
                           f"{dead[0].exitcode}")

  def close(self) -> None:
    for q in self._param_qs:
      deadline = time.monotonic() + 2.0
      while time.monotonic() < deadline:  # replace any unread parameters
        with contextlib.suppress(*self._empty):
          q.get_nowait()
        try:
          q.put_nowait(STOP)
          break
        except self._full:
          time.sleep(0.01)
    if self.backend == "ray":
      import ray  # pylint: disable=g-import-not-at-top
      _, pending = ray.wait(self._refs, num_returns=len(self._refs),
                            timeout=10.0)
      for ref in pending:
        ray.cancel(ref, force=True)
      return
    deadline = time.monotonic() + 10.0
    while (any(p.is_alive() for p in self._procs) and
           time.monotonic() < deadline):
      while self.get(timeout=None) is not None:  # unblock pending puts
        pass
      time.sleep(0.05)
    for p in self._procs:
      if p.is_alive():
        p.terminate()
      p.join(timeout=5.0)
    self.data_q.cancel_join_thread()
    self.data_q.close()
    for q in self._param_qs:
      q.cancel_join_thread()
      q.close()
