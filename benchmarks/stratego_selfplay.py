"""DeepNash (R-NaD) self-play on Stratego: win rates against the bots over time.

Trains a bundled Stratego config (`configs/stratego_<variant>_rnad.py`) from
scratch for a wall-clock budget, or summarises a run that already exists, and
prints the training curve (win rate against the random and heuristic bots
against learner steps and wall time, from the evaluation games the run plays
during training), learner throughput (learner steps/s, games/s and
plies/s) and a JSON summary with the device name. Compile and evaluation time
are included in the wall time, as a user would see it.

The win rates here are the run's own evaluation games (`evaluation.games` per
bot, seats alternated). The issue's targets are measured independently with
`arena tournament` on the final checkpoint; see the README.

  python benchmarks/stratego_selfplay.py --variant small --minutes 120
  python benchmarks/stratego_selfplay.py --variant classic --minutes 30
  python benchmarks/stratego_selfplay.py --report runs/stratego_small
"""

from __future__ import annotations

import argparse
import pathlib
import platform
import sys
import tempfile

import common  # benchmarks/common.py, beside this script
from agents.core import CheckpointError
from selfplay import anakin
from selfplay import config as config_lib
from selfplay import logging as log_lib

_BOTS = ("random", "heuristic")
# Columns: the sampled policy's games, then the greedy ones (`evaluation.modes`).
_COLUMNS = _BOTS + tuple(f"{b}_greedy" for b in _BOTS)


def summarize(run_dir: str | pathlib.Path) -> dict:
  """The curve and throughput of the run in `run_dir` (its metrics.jsonl).

  `device` names the machine(s) the run trained on (its sessions.jsonl);
  runs from before that was recorded name the machine this runs on, marked
  as such.
  """
  config = config_lib.from_json(anakin.read_run_config(run_dir))
  records = log_lib.read_metrics(run_dir)
  if not records:
    raise ValueError(f"{str(run_dir)!r} has no metrics yet")
  evals = [r for r in records if any(f"vs_{b}/win" in r for b in _COLUMNS)]
  train = [r for r in records if r.get("steps_per_s")]
  rates = sorted(r["steps_per_s"] for r in train)
  median_rate = rates[len(rates) // 2] if rates else None
  batch = config.agent.batch_size
  lengths = [r["episode_length"] for r in train if "episode_length" in r]
  mean_len = sum(lengths) / len(lengths) if lengths else None
  last = records[-1]
  curve = []
  for r in evals:
    wall = r.get("elapsed_s", 0.0 if r["step"] == 0 else None)
    curve.append({"step": r["step"],
                  "wall_s": round(wall, 1) if wall is not None else None,
                  **{b: {k: r.get(f"vs_{b}/{k}") for k in ("win", "draw",
                                                            "loss")}
                     for b in _COLUMNS if f"vs_{b}/win" in r}})
  devices = list(dict.fromkeys(
      f"{r.get('device')} on {r.get('host')}"
      for r in log_lib.read_sessions(run_dir)))
  device = "; ".join(devices) if devices else (
      f"{common.device_name()} on {platform.node()} (the reporting machine; "
      "the run did not record its own)")
  return {
      "game": (f"{config.game.name}(" + ",".join(
          f"{k}={v}" for k, v in config.game.kwargs.items()) + ")"),
      "device": device,
      "run_dir": str(run_dir),
      "learner_steps": last["step"],
      "wall_s": round(last.get("elapsed_s", 0.0), 1),
      "batch_size": batch,
      "learner_steps_per_s": round(median_rate, 3) if median_rate else None,
      "games_per_s": round(median_rate * batch, 2) if median_rate else None,
      "plies_per_s": (round(median_rate * batch * mean_len, 1)
                      if median_rate and mean_len else None),
      "mean_game_length": round(mean_len, 1) if mean_len else None,
      "eval_games_per_bot": config.evaluation.games,
      "warm_start": _warm_start(config, records),
      "opponents": _opponents(config),
      "curve": curve,
  }


def _warm_start(config, records: list[dict]) -> dict | None:
  """What the run's warm start (`selfplay.warm_start`) did, if it had one."""
  first = next((r for r in records if "warm_start/steps" in r), None)
  if first is None:
    return None
  return {"bot": config.warm_start.bot,
          "steps": first["warm_start/steps"],
          "seconds": round(first["warm_start/seconds"], 1),
          "accuracy": round(first["warm_start/accuracy"], 3)}


def _opponents(config) -> str:
  """Who the run's games were against, besides itself."""
  league = config.league
  parts = []
  if league.bot_opponents:
    parts.append(f"{league.bot_opponent_fraction:.0%} of games against the "
                 + ", ".join(league.bot_opponents) + " bot(s)")
  if league.past_opponents:
    parts.append(f"{league.past_opponent_fraction:.0%} against past "
                 "checkpoints")
  return "; ".join(parts) if parts else "self-play only"


def print_table(res: dict) -> None:
  print(f"\n{res['game']} on {res['device']}: {res['learner_steps']} learner "
        f"steps in {res['wall_s']:.0f} s; median {res['learner_steps_per_s']} "
        f"learner steps/s at batch {res['batch_size']} = "
        f"{res['games_per_s']} training games/s, {res['plies_per_s']} plies/s "
        f"(mean game {res['mean_game_length']} plies)")
  print(f"training opponents: {res.get('opponents', 'self-play only')}")
  warm = res.get("warm_start")
  if warm:
    print(f"warm start: {warm['steps']} steps imitating the {warm['bot']} bot "
          f"({warm['seconds']:.0f} s, accuracy {warm['accuracy']}); step 0 "
          "below is the clone")
  print(f"win/draw/loss of the agent in {res['eval_games_per_bot']} "
        "evaluation games per bot:")
  curve = res["curve"]
  columns = [b for b in _COLUMNS if any(b in r for r in curve)] or _BOTS
  print(f"{'step':>7} {'wall_s':>8}  " + "  ".join(
      f"{'vs ' + b.replace('_greedy', ' (greedy)'):>24}" for b in columns))
  stride = max(1, len(curve) // 30)
  rows = curve[::stride] + ([curve[-1]] if (len(curve) - 1) % stride else [])
  for r in rows:
    cells = []
    for b in columns:
      w = r.get(b)
      cells.append(f"{w['win']:>6.2f}/{w['draw']:.2f}/{w['loss']:.2f}".rjust(24)
                   if w else f"{'-':>24}")
    wall = f"{r['wall_s']:>8.0f}" if r["wall_s"] is not None else f"{'-':>8}"
    print(f"{r['step']:>7} {wall}  " + "  ".join(cells))


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--variant", default="small",
                      choices=("small", "barrage", "classic"))
  parser.add_argument("--minutes", type=float, default=120.0,
                      help="training budget (wall clock, compile included)")
  parser.add_argument("--out", default=None,
                      help="run directory to keep (default: a temporary one)")
  parser.add_argument("--report", metavar="RUN_DIR", default=None,
                      help="summarise an existing run instead of training")
  parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="config override (repeatable)")
  parser.add_argument("--json", default=None, help="also write the JSON here")
  args = parser.parse_args(argv)
  try:
    if args.report:
      res = summarize(args.report)
    else:
      config = config_lib.load(f"stratego_{args.variant}_rnad",
                               ["run.num_steps=100000000", *args.set])
      with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.out or tmp
        anakin.train(config, run_dir, time_limit_s=args.minutes * 60,
                     progress="lines")
        res = summarize(run_dir)
  except (ValueError, OSError, CheckpointError) as e:
    print(f"stratego_selfplay: {e}", file=sys.stderr)
    return 2
  print_table(res)
  common.emit_json(res, path=args.json)
  return 0


if __name__ == "__main__":
  sys.exit(main())
