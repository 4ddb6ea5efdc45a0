"""Go engine speed: random legal play, moves per second.

Our JAX engine (`games.go`) plays uniformly random legal moves under
`jit(vmap(step))` inside a `lax.scan` (a finished game restarts), at several
batch sizes; OpenSpiel's C++ `go` plays the same way from Python, one game
at a time (`legal_actions`, `apply_action`), as a host-side search would
drive it. Compilation and a warm-up call are excluded; the clock stops after
`block_until_ready`. The figures decide where search runs: mctx over the
JAX engine (many simulations batched) or a host-side tree over OpenSpiel.

Usage:
  python benchmarks/go_engine.py [--board-size 9] [--batch-sizes 1,16,256,1024]
      [--moves 100000] [--json out.json]

Prints JSON, then a markdown table.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # pylint: disable=g-import-not-at-top  # benchmarks/common.py
import games  # pylint: disable=g-import-not-at-top


@functools.partial(jax.jit, static_argnames=("game", "num_steps"))
def _play(game, key, states, num_steps: int):
  """Plays `num_steps` random moves in each game of the batch."""
  fresh = game.init(jax.random.key(0))

  def body(carry, key):
    states = carry
    masks = jax.vmap(game.legal_action_mask)(states)
    logits = jnp.where(masks, 0.0, -jnp.inf)
    actions = jax.random.categorical(key, logits)
    nxt = jax.vmap(game.step)(states, actions)
    restart = nxt.terminated
    nxt = jax.tree.map(
        lambda f, x: jnp.where(restart.reshape((-1,) + (1,) * (x.ndim - 1)),
                               f[None], x), fresh, nxt)
    return nxt, None

  states, _ = jax.lax.scan(body, states, jax.random.split(key, num_steps))
  return states


def jax_moves_per_s(game, batch: int, moves: int) -> float:
  steps = max(1, moves // batch)
  states = jax.vmap(game.init)(jax.random.split(jax.random.key(0), batch))
  jax.block_until_ready(_play(game, jax.random.key(1), states, steps))
  start = time.perf_counter()
  jax.block_until_ready(_play(game, jax.random.key(2), states, steps))
  return steps * batch / (time.perf_counter() - start)


def spiel_moves_per_s(game, moves: int) -> float:
  spiel_game = pyspiel.load_game(game.spiel_game_string)
  rng = np.random.default_rng(0)
  state, done = spiel_game.new_initial_state(), 0
  start = time.perf_counter()
  while done < moves:
    if state.is_terminal():
      state = spiel_game.new_initial_state()
    state.apply_action(int(rng.choice(state.legal_actions())))
    done += 1
  return moves / (time.perf_counter() - start)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--board-size", type=int, default=9)
  parser.add_argument("--batch-sizes", default="1,16,256,1024")
  parser.add_argument("--moves", type=int, default=100_000)
  parser.add_argument("--json", default=None)
  args = parser.parse_args(argv)
  game = games.make("go", board_size=args.board_size)
  rows = [dict(engine="openspiel go (C++, from Python)", batch=1,
               moves_per_s=round(spiel_moves_per_s(game, args.moves // 4)))]
  for batch in (int(b) for b in args.batch_sizes.split(",")):
    moves = args.moves if batch > 1 else args.moves // 50
    rows.append(dict(engine="games.go (JAX)", batch=batch,
                     moves_per_s=round(jax_moves_per_s(game, batch, moves))))
  out = dict(benchmark="go_engine", device=common.device_name(),
             board_size=args.board_size, rows=rows)
  common.emit_json(out, path=args.json)
  print(f"\n| engine | batch | moves/s |\n|---|---|---|")
  for r in rows:
    print(f"| {r['engine']} | {r['batch']} | {r['moves_per_s']:,} |")


if __name__ == "__main__":
  main()
