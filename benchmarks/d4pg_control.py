"""D4PG on the Control Suite: evaluation return against env steps and time.

Trains from scratch with the bundled config (`configs/d4pg_<task>.py`) until
an env-step or wall-clock budget, evaluating the noiseless policy along the
way, and prints a table (env steps, learner steps, wall time, evaluation
return) and a JSON summary with the device name, env steps/s, learner
updates/s, the achieved samples per insert and the learner's idle fraction
(time waiting for actors: near 0 means the actors wait for the learner).
Compile and actor start-up time are included in the wall time.

  python benchmarks/d4pg_control.py --task cartpole_swingup --env-steps 500000
  python benchmarks/d4pg_control.py --task walker_walk --minutes 120
  python benchmarks/d4pg_control.py --minutes 2 --set runtime.num_actors=1
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile

import jax
import numpy as np

import common  # benchmarks/common.py, beside this script
from selfplay import config as config_lib
from selfplay import logging as log_lib
from selfplay import sebulba

_TARGETS = {"cartpole_swingup": 800.0, "walker_walk": 900.0}


def _median(values: list[float]) -> float | None:
  return round(float(np.median(values)), 1) if values else None


def run(task: str, env_steps: int, minutes: float, overrides: list[str],
        eval_every: int, seed: int, run_dir: str) -> dict:
  config = config_lib.load(f"d4pg_{task}", [
      f"runtime.max_env_steps={env_steps}", f"evaluation.every={eval_every}",
      f"run.seed={seed}", "run.num_steps=100000000", *overrides])
  result = sebulba.train(config, run_dir, time_limit_s=minutes * 60,
                         progress="off")
  records = log_lib.read_metrics(run_dir)
  evals = [r for r in records if "eval_return" in r and "env_steps" in r]
  target = _TARGETS.get(task)
  hit = next((r for r in evals if target is not None and
              r["eval_return"] >= target), None)
  rated = [r for r in records if r.get("updates_per_s")]
  last = records[-1] if records else {}
  return {
      "task": task,
      "device": common.device_name(),
      "host": platform.node(),
      "stop_reason": result.stop_reason,
      "env_steps": last.get("env_steps"),
      "learner_steps": result.step,
      "wall_s": round(last.get("elapsed_s", 0.0), 1),
      "num_actors": config.runtime.num_actors or os.cpu_count(),
      "batch_size": config.agent.batch_size,
      "samples_per_insert_target": config.runtime.replay.samples_per_insert,
      "samples_per_insert": round(last.get("samples_per_insert", 0.0), 2),
      "env_steps_per_s": _median([r["env_steps_per_s"] for r in rated]),
      "updates_per_s": _median([r["updates_per_s"] for r in rated]),
      "learner_wait_frac": _median([r["learner_wait_frac"] for r in rated]),
      "final_eval_return": evals[-1]["eval_return"] if evals else None,
      "best_eval_return": max(r["eval_return"] for r in evals) if evals else None,
      "target": target,
      "target_reached_at": None if hit is None else {
          "env_steps": hit["env_steps"], "wall_s": round(hit["elapsed_s"], 1)},
      "curve": [{"env_steps": r["env_steps"], "learner_steps": r["step"],
                 "wall_s": round(r.get("elapsed_s", 0.0), 1),
                 "eval_return": round(r["eval_return"], 1)} for r in evals],
      "run_dir": run_dir,
  }


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--task", default="cartpole_swingup",
                      choices=sorted(_TARGETS))
  parser.add_argument("--env-steps", type=int, default=500_000)
  parser.add_argument("--minutes", type=float, default=100.0)
  parser.add_argument("--eval-every", type=int, default=2_500,
                      help="learner steps between evaluations")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--out", help="run directory (default: a new temp dir)")
  parser.add_argument("--set", action="append", default=[], dest="overrides",
                      metavar="KEY=VALUE")
  args = parser.parse_args()
  run_dir = args.out or tempfile.mkdtemp(prefix=f"d4pg_{args.task}_")
  if pathlib.Path(run_dir, "config.json").exists():
    parser.error(f"{run_dir} already holds a run")
  try:
    out = run(args.task, args.env_steps, args.minutes, args.overrides,
              args.eval_every, args.seed, run_dir)
  except ValueError as e:
    print(f"d4pg_control: error: {e}", file=sys.stderr)
    return 2
  print(f"{'env steps':>10} {'learner':>9} {'wall s':>8} {'eval return':>12}")
  for p in out["curve"]:
    print(f"{p['env_steps']:>10} {p['learner_steps']:>9} {p['wall_s']:>8} "
          f"{p['eval_return']:>12}")
  print(json.dumps(out, indent=2))
  return 0


if __name__ == "__main__":
  sys.exit(main())
