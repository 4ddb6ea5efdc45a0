"""Go search speed: seconds per move of the bundled agents' tree search.

Each player (`eval.go.network_player.NetworkPlayer`, a fixed simulation
count) chooses a move in the same positions: those of a few games of
uniformly random moves, every `--every`-th position up to move 60. The first
search (compilation) and the first index build or update are excluded. For
`go9-retrieval` both places a search can retrieve are timed: at every node
it expands (the default) and once, at the root. The figures size play by
the clock (a move's seconds / seconds per simulation).

Usage:
  python benchmarks/go_search_speed.py [--agents go9-plain,go9-retrieval]
      [--simulations 64,256] [--games 2] [--every 6] [--json out.json]

Prints JSON, then a markdown table, with the device name.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import common  # noqa: E402  pylint: disable=g-import-not-at-top
from eval.go import network_player  # noqa: E402  pylint: disable=g-import-not-at-top
from games.go import env as go_env  # noqa: E402  pylint: disable=g-import-not-at-top


def positions(game: go_env.Go, games: int, every: int, seed: int = 0):
  """States of `games` random games, every `every`-th move up to move 60."""
  rng = np.random.default_rng(seed)
  found = []
  for _ in range(games):
    state = game.init(jax.random.key(0))
    for move in range(60):
      if bool(state.terminated):
        break
      if move % every == 0:
        found.append((state, move))
      legal = np.flatnonzero(np.asarray(go_env.jit_legal(game, state))[:-1])
      action = rng.choice(legal) if len(legal) else game.pass_action
      state = go_env.jit_step(game, state, int(action))
  return found


def time_player(player, game, states) -> float:
  """Mean seconds per move over `states` (after one untimed move)."""
  player.genmove(game, states[0][0], None, [0] * states[0][1])
  start = time.perf_counter()
  for state, move in states:
    player.genmove(game, state, None, [0] * move)
  return (time.perf_counter() - start) / len(states)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--agents", default="go9-plain,go9-retrieval")
  parser.add_argument("--simulations", default="64,256")
  parser.add_argument("--games", type=int, default=2)
  parser.add_argument("--every", type=int, default=6)
  parser.add_argument("--json", default=None)
  args = parser.parse_args(argv)
  game = go_env.make_go(9)
  states = positions(game, args.games, args.every)
  rows = []
  for agent in args.agents.split(","):
    for sims in (int(s) for s in args.simulations.split(",")):
      for where in ("node", "root"):
        player = network_player.NetworkPlayer(agent, simulations=sims,
                                              retrieve_at=where)
        if where == "root" and not player.retrieves:
          continue  # No retrieval: the same search as "node".
        seconds = time_player(player, game, states)
        rows.append(dict(agent=agent, simulations=sims,
                         retrieve_at=where if player.retrieves else "-",
                         seconds_per_move=seconds,
                         simulations_per_s=sims / seconds))
        print(rows[-1], file=sys.stderr, flush=True)
  common.emit_json(dict(benchmark="go_search_speed",
                        device=common.device_name(), moves=len(states),
                        rows=rows), path=args.json)
  print(f"\n{common.device_name()}, {len(states)} positions\n")
  print("| agent | simulations | retrieves at | s/move | simulations/s |")
  print("|---|---:|---|---:|---:|")
  for r in rows:
    print(f"| {r['agent']} | {r['simulations']} | {r['retrieve_at']} | "
          f"{r['seconds_per_move']:.3f} | {r['simulations_per_s']:,.0f} |")


if __name__ == "__main__":
  main()
