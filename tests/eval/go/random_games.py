"""Random legal 9x9 games written as game records (no GNU Go needed)."""

from __future__ import annotations

import lzma
import pathlib

import jax
import numpy as np
from sgfmill import sgf

import games
from games import conformance
from games.go import coords


def write_random_games(directory: pathlib.Path, num_games: int, *,
                       seed: int = 0, num_moves: int = 60,
                       opening: int = 2) -> list[np.ndarray]:
  """Writes `num_games` random games (ids "random-<seed>-<i>", no result,
  the first `opening` moves said to be random) to one shard; returns the
  action sequences."""
  game = games.make("go")
  rollout = jax.tree.map(np.asarray, conformance.random_rollout(
      game, jax.random.key(seed), num_games, num_steps=num_moves))
  lines, played = [], []
  for i in range(num_games):
    record = sgf.Sgf_game(size=9)
    root = record.get_root()
    root.set("KM", 7.5)
    root.set("GN", f"random-{seed}-{i}")
    root.set("GC", f"opening: {opening} random moves; ended: max_moves; "
             "gnugo seed: 0")
    actions = [int(a) for t, a in enumerate(rollout.actions[i])
               if not rollout.states.terminated[i, t]]
    for t, a in enumerate(actions):
      node = record.extend_main_sequence()
      node.set_move("bw"[t % 2], coords.to_sgfmill(a, 9))
    lines.append(record.serialise(wrap=None).decode().strip())
    played.append(np.array(actions, np.int32))
  directory.mkdir(parents=True, exist_ok=True)
  (directory / f"games-{seed}.sgf.xz").write_bytes(
      lzma.compress(("\n".join(lines) + "\n").encode()))
  return played
