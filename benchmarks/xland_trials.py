"""Random-policy env steps/s: `games.xland.trials` against raw xminigrid.

jit(vmap(step)) under a `lax.scan` over steps, batches 256 and 1024, uniform
random actions, tasks drawn from a generated set; run with `taskset -c 1` for
one core. Raw xminigrid runs with its GymAutoResetWrapper (a reset inside
the jitted step, as ours has). The variants are compiled first, then timed in
interleaved rounds (best round kept), so that load from other processes
biases none of them.

  python benchmarks/xland_trials.py [--steps 512] [--rounds 6]
"""

import argparse
import functools
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import xminigrid
from xminigrid.types import RuleSet
from xminigrid.wrappers import GymAutoResetWrapper

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # pylint: disable=g-import-not-at-top  # benchmarks/common.py
from games import xland  # pylint: disable=g-import-not-at-top
from games.xland import trials  # pylint: disable=g-import-not-at-top

LAYOUT = "R1-9x9"


def _task_set():
  return xland.generate(xland.TaskConfig(
      depth=1, num_distractor_rules=1, num_distractor_objects=1,
      layout=LAYOUT), 4096, seed=0)


def make_trials(task_set, batch, num_steps, next_task):
  config = trials.TrialsConfig(layout=LAYOUT, num_trials=4)
  tasks = trials.tasks_of(task_set, config)
  step = jax.vmap(functools.partial(trials.step, config=config))
  init = jax.vmap(trials.init, in_axes=(0, None, 0))

  @jax.jit
  def run(key):
    k_init, k_task, k_run = jax.random.split(key, 3)
    idx = jax.random.randint(k_task, (batch,), 0, task_set.num_tasks)
    state = init(jax.random.split(k_init, batch), config,
                 trials.task_at(tasks, idx))

    def body(state, key):
      k_act, k_idx, k_ep = jax.random.split(key, 3)
      actions = jax.random.randint(k_act, (batch,), 0, trials.NUM_ACTIONS)
      if next_task:  # A new random task where an episode ends.
        idx = jax.random.randint(k_idx, (batch,), 0, task_set.num_tasks)
        state, out = step(state, actions, next_task=trials.task_at(tasks, idx),
                          next_key=jax.random.split(k_ep, batch))
      else:
        state, out = step(state, actions)
      return state, out.reward.sum()

    _, rewards = jax.lax.scan(body, state, jax.random.split(k_run, num_steps))
    return rewards.sum()
  return run


def make_xminigrid(task_set, batch, num_steps):
  env, params = xminigrid.make(xland.env_id(LAYOUT))
  env = GymAutoResetWrapper(env)
  goals, rules, tiles = map(jnp.asarray, (task_set.goals, task_set.rules,
                                          task_set.init_tiles))
  with_task = lambda g, r, t: params.replace(
      ruleset=RuleSet(goal=g, rules=r, init_tiles=t))

  @jax.jit
  def run(key):
    k_init, k_task, k_run = jax.random.split(key, 3)
    idx = jax.random.randint(k_task, (batch,), 0, task_set.num_tasks)
    g, r, t = goals[idx], rules[idx], tiles[idx]
    timestep = jax.vmap(lambda k, g, r, t: env.reset(with_task(g, r, t), k))(
        jax.random.split(k_init, batch), g, r, t)

    def body(timestep, key):
      actions = jax.random.randint(key, (batch,), 0, 6)
      timestep = jax.vmap(
          lambda g, r, t, x, a: env.step(with_task(g, r, t), x, a))(
              g, r, t, timestep, actions)
      return timestep, timestep.reward.sum()

    _, rewards = jax.lax.scan(body, timestep, jax.random.split(k_run, num_steps))
    return rewards.sum()
  return run


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--steps", type=int, default=512)
  parser.add_argument("--rounds", type=int, default=6)
  parser.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
  args = parser.parse_args()
  task_set = _task_set()
  runs = {}
  for batch in args.batches:
    runs[("xminigrid", batch)] = make_xminigrid(task_set, batch, args.steps)
    runs[("trials", batch)] = make_trials(task_set, batch, args.steps, False)
    runs[("trials+next_task", batch)] = make_trials(task_set, batch,
                                                    args.steps, True)
  for run in runs.values():  # compile and warm up
    run(jax.random.key(0)).block_until_ready()
  best = dict.fromkeys(runs, 0.0)
  for i in range(args.rounds):
    for (name, batch), run in runs.items():
      start = time.perf_counter()
      run(jax.random.key(i + 1)).block_until_ready()
      rate = batch * args.steps / (time.perf_counter() - start)
      best[name, batch] = max(best[name, batch], rate)
  print(json.dumps({
      "device": common.device_name(), "layout": LAYOUT,
      "scan_steps": args.steps, "rounds": args.rounds,
      "steps_per_s": {f"{name}@{batch}": round(rate)
                      for (name, batch), rate in best.items()}}, indent=1))


if __name__ == "__main__":
  main()
