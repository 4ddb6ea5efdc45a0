"""Time of one R-NaD learner step on Stratego, for network and learner options.

A learner step is what `arena train` compiles and calls: the self-play
rollout of `agent.batch_size` games and the update on them. This times it
(after compilation; median of several calls) for a bundled config and a list
of option sets, so the effect of e.g. the 1x1 stem or `compute_fraction` on
this machine can be read off directly. Prints a table and JSON with the
device.

  python benchmarks/stratego_learner.py                       # small variant
  python benchmarks/stratego_learner.py --config stratego_barrage_rnad --calls 3
  python benchmarks/stratego_learner.py --option "agent.network.channels=32"
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import jax

import common  # benchmarks/common.py, beside this script
from agents.core import make_mesh, make_update, replicate
from selfplay import anakin
from selfplay import config as config_lib
from selfplay.rollout import rollout

# Each option set: overrides applied on top of the config.
_DEFAULT_OPTIONS = (
    "agent.network.stem_kernel=3 agent.compute_fraction=1.0",
    "agent.network.stem_kernel=3 agent.compute_fraction=0.7",
    "agent.network.stem_kernel=1 agent.compute_fraction=0.7",
)


def time_learner_step(config_name: str, overrides: list[str],
                      calls: int) -> dict:
  """Seconds per compiled learner step (median of `calls`) and compile time."""
  config = config_lib.load(config_name, overrides)
  game, agent = anakin.build(config)
  mesh = make_mesh(config.run.num_devices or None)
  state = replicate(agent.init(jax.random.key(config.run.seed)), mesh)
  batch = config.agent.batch_size

  def batch_fn(state, key):
    return rollout(game, agent.make_policy_fn(state), key, batch,
                   game.max_episode_length)

  update = make_update(agent.loss_fn, agent.optimizer, mesh,
                       agent.after_update, steps_per_call=1,
                       batch_fn=batch_fn, batch_axis=1)
  start = time.perf_counter()
  state, metrics = update(state)
  jax.block_until_ready(state)
  compile_s = time.perf_counter() - start
  times, lengths = [], []
  for _ in range(calls):
    start = time.perf_counter()
    state, metrics = update(state)
    jax.block_until_ready(state)
    times.append(time.perf_counter() - start)
    lengths.append(float(metrics["episode_length"]))
  step_s = statistics.median(times)
  mean_len = statistics.mean(lengths)
  return {"options": " ".join(overrides), "batch_size": batch,
          "step_s": round(step_s, 3),
          "min_step_s": round(min(times), 3),
          "steps_per_s": round(1.0 / step_s, 3),
          "games_per_s": round(batch / step_s, 2),
          "decisions_per_s": round(batch * mean_len / step_s, 1),
          "compile_and_first_s": round(compile_s, 1),
          "mean_decisions_per_game": round(mean_len, 1),
          "max_decisions_per_game": game.max_episode_length}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--config", default="stratego_small_rnad")
  parser.add_argument("--option", action="append", default=None,
                      help="an option set: space-separated KEY=VALUE "
                      "overrides (repeatable; default: stem and "
                      "compute_fraction variants)")
  parser.add_argument("--calls", type=int, default=6)
  parser.add_argument("--json", default=None, help="also write the JSON here")
  args = parser.parse_args(argv)
  if args.calls < 1:
    parser.error("--calls must be >= 1")
  results = []
  try:
    for option in args.option or _DEFAULT_OPTIONS:
      results.append(time_learner_step(args.config, option.split(),
                                       args.calls))
      # One line a measurement as it lands, so a long sweep cut short
      # still reports what it measured.
      print(json.dumps(results[-1]), flush=True)
  except ValueError as e:
    print(f"stratego_learner: error: {e}", file=sys.stderr)
    return 2
  device = common.device_name()
  print(f"\n{args.config} learner step on {device} "
        f"(median of {args.calls} calls)")
  print(f"{'options':<58} {'s/step':>7} {'steps/s':>8} {'games/s':>8} "
        f"{'decisions/s':>11} {'decisions':>10}")
  for r in results:
    print(f"{r['options']:<58} {r['step_s']:>7.2f} {r['steps_per_s']:>8.3f} "
          f"{r['games_per_s']:>8.1f} {r['decisions_per_s']:>11.0f} "
          f"{r['mean_decisions_per_game']:>6.1f}/{r['max_decisions_per_game']}")
  out = {"config": args.config, "device": device, "results": results}
  common.emit_json(out, path=args.json)
  return 0


if __name__ == "__main__":
  sys.exit(main())
