"""Rollouts of a memory agent in a multi-trial task environment, for the
Anakin driver's task mode.

Environments and the agent's memories persist from one update to the next
(a segment of `unroll_length` steps per update, as in Transformer-XL's
segment training and PureJaxRL's recurrent PPO), and the task of each new
episode comes from the curriculum (`selfplay.curriculum`), which is told how
each finished episode went. Resets are the environment's: at a trial's end
the world is placed anew (the memory kept); at an episode's end the next
task's episode starts, and the agent clears its memory on the
`episode_start` flag of the observation.

Everything here is pure JAX and runs inside the compiled update
(`agents.core.make_update(..., carry=True)`); the `RolloutCarry` is saved
with every checkpoint, so a resumed run goes on with the same episodes.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from agents.core.experiment import CurriculumConfig
from agents.core.types import Segment
from selfplay import curriculum


class RolloutCarry(NamedTuple):
  """What the rollout carries from one update to the next."""
  env: Any  # the environments' states, leaves [B, ...]
  memory: Any  # the agent's memories, leaves [B, ...]
  task: jax.Array  # [B] int32: each environment's current task
  train: jax.Array  # [B] bool: its current episode is trained on
  successes: jax.Array  # [B] float32: trials succeeded so far this episode
  score_sum: jax.Array  # [B] float32: positive advantages so far this episode
  score_steps: jax.Array  # [B] float32: steps so far this episode
  curriculum: curriculum.CurriculumState


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 4))
def init_carry(env: Any, agent: Any, cfg: CurriculumConfig,
               key: jax.Array, batch_size: int) -> RolloutCarry:
  """B environments at the start of episodes of tasks the curriculum picks
  (compiled as one program: run eagerly, each operation compiles alone)."""
  sample_key, env_key = jax.random.split(key)
  state = curriculum.init(cfg, env.num_tasks)
  state, task, _, train = curriculum.sample(cfg, state, sample_key,
                                            env.num_tasks, batch_size)
  envs = jax.vmap(env.init)(jax.random.split(env_key, batch_size),
                            env.task(task))
  zeros = jnp.zeros((batch_size,), jnp.float32)
  return RolloutCarry(env=envs, memory=agent.initial_memory(batch_size),
                      task=task, train=train, successes=zeros,
                      score_sum=zeros, score_steps=zeros, curriculum=state)


def make_batch_fn(env: Any, agent: Any, cfg: CurriculumConfig):
  """`batch_fn(state, key, carry) -> (batch, carry, metrics)` for
  `make_update(..., carry=True)`: one segment of `agent.unroll_length`
  steps, the agent's batch of it, the curriculum told of the episodes that
  ended."""
  num_trials = env.num_trials
  length = agent.unroll_length
  # A slot begins at most this many episodes in a segment: an episode lasts
  # at least one step per trial, and one may end at the segment's first step.
  starts = (length - 1) // num_trials + 1
  step_env = jax.vmap(env.step)
  observe = jax.vmap(env.observation)

  def batch_fn(train_state, key, carry: RolloutCarry):
    params = train_state.params
    batch = carry.task.shape[0]
    slots = jnp.arange(batch)
    sample_key, env_key, act_key, last_key = jax.random.split(key, 4)
    # A task and a world for each episode a slot may begin in the segment,
    # [starts, B]: the j-th episode a slot begins takes row j, so two
    # episodes never replay one draw. (Rows in order: the first episodes
    # come first in a queue's draws.)
    before = carry.curriculum
    cstate, *draws = curriculum.sample(cfg, before, sample_key,
                                       env.num_tasks, starts * batch)
    next_task, next_replayed, next_train = (x.reshape(starts, batch)
                                            for x in draws)
    next_tasks = env.task(next_task)
    next_keys = jax.random.split(env_key, starts * batch).reshape(
        starts, batch)
    carry = carry._replace(memory=agent.refresh_memory(params, carry.memory))
    memory0 = carry.memory

    def one_step(state, step_key):
      c, begun = state  # begun [B]: episodes each slot began so far
      row = jnp.minimum(begun, starts - 1)
      pick = lambda x: x[row, slots]
      obs = observe(c.env)
      reset = obs.episode_start
      action, out, memory = agent.act(params, c.memory, obs, reset, step_key)
      envs, result = step_env(c.env, action,
                              jax.tree.map(pick, next_tasks), pick(next_keys))
      done = result.episode_done
      successes = c.successes + result.success.astype(jnp.float32)
      record = dict(
          obs=obs, reset=reset, action=action, log_prob=out.log_prob,
          value=out.value, reward=result.reward, done=done, mask=c.train,
          ended_task=c.task, success_rate=successes / num_trials,
          trial_success=(jax.nn.one_hot(result.trial, num_trials) *
                         (result.trial_done & result.success)[:, None]),
          trial_count=(jax.nn.one_hot(result.trial, num_trials) *
                       result.trial_done[:, None]))
      c = c._replace(
          env=envs, memory=memory,
          task=jnp.where(done, pick(next_task), c.task),
          train=jnp.where(done, pick(next_train), c.train),
          successes=jnp.where(done, 0.0, successes))
      return (c, begun + done.astype(jnp.int32)), record

    (carry, begun), rec = jax.lax.scan(
        one_step, (carry, jnp.zeros((batch,), jnp.int32)),
        jax.random.split(act_key, length))
    last_obs = observe(carry.env)
    _, last, _ = agent.act(params, carry.memory, last_obs,
                           last_obs.episode_start, last_key)
    batch_major = lambda x: jnp.swapaxes(x, 0, 1)
    trajectory = Segment(
        obs=jax.tree.map(batch_major, rec["obs"]),
        **{k: batch_major(rec[k]) for k in ("reset", "action", "log_prob",
                                            "value", "reward", "done",
                                            "mask")},
        memory=memory0, bootstrap=last.value)
    agent_batch = agent.make_batch(trajectory)

    # Each ended episode's positive value loss: its mean positive advantage
    # (PLR's score; the parts of an episode in earlier segments included).
    def score_step(c, t):
      positive, done = t
      total, steps = c[0] + positive, c[1] + 1.0
      return ((jnp.where(done, 0.0, total), jnp.where(done, 0.0, steps)),
              total / steps)

    (score_sum, score_steps), value_loss = jax.lax.scan(
        score_step, (carry.score_sum, carry.score_steps),
        (jnp.maximum(batch_major(agent_batch.advantage), 0.0), rec["done"]))
    # The draws of the episodes that began in this segment (the others were
    # not played: their staleness stays).
    used = (next_replayed &
            (jnp.arange(starts)[:, None] < begun[None, :])).reshape(-1)
    cstate = curriculum.keep_draws(cfg, cstate, before, next_task.reshape(-1),
                                   used)
    cstate = curriculum.start(cfg, cstate, next_task.reshape(-1), used)
    cstate = curriculum.update(
        cfg, cstate, rec["ended_task"].reshape(-1),
        rec["success_rate"].reshape(-1), value_loss.reshape(-1),
        rec["done"].reshape(-1))
    carry = carry._replace(score_sum=score_sum, score_steps=score_steps,
                           curriculum=cstate)

    trial_success = rec["trial_success"].sum((0, 1))
    trial_count = rec["trial_count"].sum((0, 1))
    # Counts, not rates: a record's rate is the ratio of the counts summed
    # over its updates (`ratio_metrics`), not a mean of per-update rates.
    metrics = {
        "train/episodes": rec["done"].sum().astype(jnp.float32),
        "train/successes": jnp.sum(rec["success_rate"] * rec["done"]),
        "train/reward_per_step": rec["reward"].mean(),
        **{f"train/trial_{k + 1}_successes": trial_success[k]
           for k in range(num_trials)},
        **{f"train/trial_{k + 1}_ended": trial_count[k]
           for k in range(num_trials)},
        **{f"curriculum/{k}": v
           for k, v in curriculum.stats(cfg, cstate).items()},
    }
    return agent_batch, carry, metrics

  return batch_fn


def ratio_metrics(metrics: dict[str, Any], num_trials: int) -> dict[str, Any]:
  """A record's rates from the counts `batch_fn` reports: the success per
  episode (mean share of its trials succeeded) and per trial k
  (`train/success_trial_k`), in place of the counts."""
  out = dict(metrics)
  episodes = out.pop("train/episodes", None)
  successes = out.pop("train/successes", None)
  if episodes is not None and successes is not None and episodes > 0:
    out["train/success"] = successes / episodes
  for k in range(1, num_trials + 1):
    won = out.pop(f"train/trial_{k}_successes", None)
    ended = out.pop(f"train/trial_{k}_ended", None)
    if won is not None and ended is not None and ended > 0:
      out[f"train/success_trial_{k}"] = won / ended
  if episodes is not None:
    out["train/episodes_per_step"] = episodes
  return out
