"""Has a Stratego agent learnt the obvious tactics? Its moves, by kind.

Plays a run's test-time policy against the random bot (or the heuristic bot,
or itself) and, for each kind of move (a move to an empty square; an attack
on a revealed piece that it beats, ties with or loses to; an attack on an
unrevealed piece that has or has not moved: `eval/stratego/tactics.py`),
prints the share of legal
moves, the agent's probability (`ratio` > 1: it prefers that kind to a
uniform choice), how often it chose it and the mover's mean final return
after choosing it. An agent that has learnt anything prefers known wins to
known losses. Then how the games ended: by taking the Flag, by the loser
having no legal move, or drawn, with the plies played and the movable pieces
each side had left.
Prints tables and JSON with the device.

  python benchmarks/stratego_tactics.py runs/stratego_small
  python benchmarks/stratego_tactics.py runs/stratego_small --opponent self
  python benchmarks/stratego_tactics.py runs/stratego_small --greedy \
      --opponent heuristic
"""

from __future__ import annotations

import argparse
import sys

import jax

import common  # benchmarks/common.py, beside this script
from agents.core import CheckpointError
from eval.stratego import tactics as stratego_tactics
from selfplay import anakin


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("run_dir")
  parser.add_argument("--step", type=int, default=None,
                      help="checkpoint step (default: the latest)")
  parser.add_argument("--games", type=int, default=256)
  parser.add_argument("--opponent", choices=stratego_tactics.OPPONENTS,
                      default="random")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--greedy", action="store_true",
                      help="the agent plays its most likely move (as a "
                      "RUN_DIR:greedy player) instead of sampling")
  parser.add_argument("--json", default=None, help="also write the JSON here")
  args = parser.parse_args(argv)
  if args.games < 2:
    parser.error("--games must be >= 2")
  try:
    run = anakin.restore_run(args.run_dir, step=args.step)
  except CheckpointError as e:
    print(f"stratego_tactics: {e}", file=sys.stderr)
    return 2
  if run.config.game.name != "stratego":
    print(f"stratego_tactics: {args.run_dir} trained {run.config.game.name}, "
          "not Stratego", file=sys.stderr)
    return 2
  sums = stratego_tactics.play(run, args.games, args.opponent, args.seed,
                               greedy=args.greedy)
  rows = stratego_tactics.report(sums)
  step = int(jax.device_get(run.state.step))
  print(f"{args.run_dir} at step {step}"
        f"{' (greedy)' if args.greedy else ''} against {args.opponent}, "
        f"{args.games} games, {sums['decisions']} agent decisions "
        f"(agent won {sums['agent_win']:.2f}, lost {sums['agent_loss']:.2f}); "
        f"{common.device_name()}")
  print(f"{'kind':16s} {'legal share':>11s} {'policy':>7s} {'ratio':>6s} "
        f"{'chosen':>7s}  mover's final return")
  for r in rows:
    print(f"{r['kind']:16s} {r['legal_share']:11.3f} {r['policy']:7.3f} "
          f"{r['ratio']:6.2f} {r['chosen']:7d}  {r['mover_return']:+.3f} "
          f"(se {r['mover_return_se']:.3f})")
  print(f"\n{'how the games ended':28s} {'games':>5s} {'plies':>6s} "
        f"{'movable left: agent':>20s} {'opponent':>8s}")
  for e in sums["endings"]:
    print(f"{e['ending']:28s} {e['games']:5d} {e['plies']:6.1f} "
          f"{e['agent_movable']:20.1f} {e['opponent_movable']:8.1f}")
  common.emit_json(dict(device=common.device_name(), run_dir=args.run_dir,
                        step=step, greedy=args.greedy,
                        opponent=args.opponent, games=args.games,
                        agent_win=sums["agent_win"],
                        agent_loss=sums["agent_loss"], kinds=rows,
                        endings=sums["endings"]),
                   path=args.json)
  return 0


if __name__ == "__main__":
  sys.exit(main())
