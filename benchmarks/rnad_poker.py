"""R-NaD on Kuhn and Leduc poker: NashConv against time, and learner speed.

Trains each game from scratch with its bundled config (`configs/<game>_rnad.py`)
for a wall-clock budget, evaluating exact NashConv (OpenSpiel's best response
on the test-time policy) along the way, and prints a table and a JSON summary
with the device name. Compile time is included in the wall time, as a user
would see it.

  python benchmarks/rnad_poker.py                       # kuhn 5 min, leduc 15 min
  python benchmarks/rnad_poker.py --game leduc --minutes 60
  python benchmarks/rnad_poker.py --game kuhn --minutes 1 --set agent.batch_size=64
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile

import jax

from selfplay import anakin
import common  # benchmarks/common.py, beside this script
from selfplay import config as config_lib
from selfplay import logging as log_lib

_DEFAULTS = {"kuhn": (5.0, (0.05,)), "leduc": (15.0, (0.5, 0.2))}


def run(game: str, minutes: float, overrides: list[str], eval_every: int,
        seed: int) -> dict:
  config = config_lib.load(f"{game}_rnad", [
      f"evaluation.every={eval_every}", f"run.log_every={eval_every}",
      f"run.seed={seed}", "run.num_steps=100000000", *overrides])
  with tempfile.TemporaryDirectory() as run_dir:
    result = anakin.train(config, run_dir, time_limit_s=minutes * 60,
                          progress="off")
    records = [r for r in log_lib.read_metrics(run_dir) if "nash_conv" in r]
  targets = _DEFAULTS[game][1]
  reached = {}
  for target in targets:
    hit = next((r for r in records if r["nash_conv"] <= target), None)
    reached[str(target)] = (None if hit is None else
                            {"step": hit["step"],
                             "wall_s": round(hit.get("elapsed_s", 0.0), 1),
                             "cpu_s": round(hit.get("cpu_s", 0.0), 1)})
  rates = [r["steps_per_s"] for r in records if r.get("steps_per_s")]
  return {
      "game": f"{game}_poker",
      "device": common.device_name(),
      "host": platform.node(),
      "minutes": minutes,
      "learner_steps": result.step,
      "batch_size": config.agent.batch_size,
      "learner_steps_per_s": round(sorted(rates)[len(rates) // 2], 1) if rates else None,
      "final_nash_conv": records[-1]["nash_conv"] if records else None,
      "best_nash_conv": min(r["nash_conv"] for r in records) if records else None,
      "reached": reached,
      "curve": [{"step": r["step"], "wall_s": round(r.get("elapsed_s", 0.0), 1),
                 "cpu_s": round(r.get("cpu_s", 0.0), 1),
                 "nash_conv": round(r["nash_conv"], 4),
                 "nash_conv_raw": round(r.get("nash_conv_raw", r["nash_conv"]), 4)}
                for r in records],
  }


def _print_table(res: dict) -> None:
  print(f"\n{res['game']} on {res['device']}: {res['learner_steps']} learner "
        f"steps in {res['minutes']} min, median {res['learner_steps_per_s']} "
        f"steps/s at batch {res['batch_size']}")
  print(f"{'step':>9} {'wall_s':>8} {'cpu_s':>8} {'NashConv':>9} {'raw':>8}")
  curve = res["curve"]
  stride = max(1, len(curve) // 25)
  for r in curve[::stride] + ([curve[-1]] if (len(curve) - 1) % stride else []):
    print(f"{r['step']:>9} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
          f"{r['nash_conv']:>9.4f} {r['nash_conv_raw']:>8.4f}")
  for target, hit in res["reached"].items():
    where = ("not reached" if hit is None else
             f"step {hit['step']}, {hit['wall_s']} s wall, {hit['cpu_s']} CPU-s")
    print(f"NashConv <= {target}: {where}")
  # A single evaluation can dip below a target; the windows show whether the
  # policy stays there.
  print(f"{'minutes':>11} {'evals':>6} {'median':>8} {'best':>8} {'worst':>8}")
  for lo, hi, values in _windows(curve, res["minutes"]):
    if values:
      print(f"{lo:>5.1f}-{hi:<5.1f} {len(values):>6} "
            f"{statistics.median(values):>8.4f} {min(values):>8.4f} "
            f"{max(values):>8.4f}")


def _windows(curve: list[dict], minutes: float):
  """NashConv of the evaluations in each quarter of the wall-clock budget."""
  edges = [minutes * q / 4 for q in range(5)]
  for lo, hi in zip(edges[:-1], edges[1:]):
    yield lo, hi, [r["nash_conv"] for r in curve
                   if lo * 60 < r["wall_s"] <= hi * 60]


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--game", choices=("kuhn", "leduc", "all"), default="all")
  parser.add_argument("--minutes", type=float,
                      help="training budget per game (default: kuhn 5, leduc 15)")
  parser.add_argument("--eval-every", type=int, default=0,
                      help="learner steps between NashConv evaluations")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--set", action="append", default=[], dest="overrides")
  parser.add_argument("--json", help="also write the results to this file")
  args = parser.parse_args(argv)
  results = []
  for game in (("kuhn", "leduc") if args.game == "all" else (args.game,)):
    minutes = args.minutes or _DEFAULTS[game][0]
    eval_every = args.eval_every or (1000 if game == "kuhn" else 4000)
    res = run(game, minutes, args.overrides, eval_every, args.seed)
    _print_table(res)
    results.append(res)
  summary = [{k: v for k, v in r.items() if k != "curve"} for r in results]
  common.emit_json(summary, results, args.json)
  return 0


if __name__ == "__main__":
  sys.exit(main())
