"""Stratego engine speed: random legal play, plies per second by batch size.

Each batch of games plays uniformly random legal moves with the full rules
(two-square and more-squares on) under `jit(vmap(step))` inside a
`lax.scan`; a finished game restarts from its own initial position, so every
counted ply is a real move. Compilation and a warm-up call are excluded, and
the clock stops after `block_until_ready`.

Usage:
  python benchmarks/stratego_speed.py [--variant classic]
      [--batch-sizes 1,8,64,512,2048,8192] [--plies 200000]
      [--samplers mask,bitboards] [--no-more-squares] [--no-two-square]

Prints one JSON line per batch size, then a markdown table.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time

# One XLA host device per core, so a batch can be split over the cores. Set
# before JAX starts; it does not affect accelerators.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           f" --xla_force_host_platform_device_count="
                           f"{os.cpu_count() or 1}")

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # pylint: disable=g-import-not-at-top  # benchmarks/common.py
import games  # pylint: disable=g-import-not-at-top,wrong-import-position
from games.stratego import bitboard  # pylint: disable=g-import-not-at-top


def sample_from_mask(game, key: jax.Array, state) -> jax.Array:
  """A uniformly random legal action from `game.legal_action_mask`.

  Two levels (plane, then square), each found by a binary search over
  counts (`bitboard.find_nth`).
  """
  s = game.variant.num_squares
  mask = game.legal_action_mask(state).reshape(-1, s)  # [planes, S]
  # Byte sums (S < 256): XLA would materialise an int32 copy of the mask.
  per_plane = jnp.sum(mask, axis=1, dtype=jnp.uint8).astype(jnp.int32)
  n = bitboard.uniform_below(key, jnp.sum(per_plane))
  plane, n = bitboard.find_nth(per_plane, n)
  square, _ = bitboard.find_nth(mask[plane].astype(jnp.int32), n)
  return plane * s + square


def sample_from_bitboards(game, key: jax.Array, state) -> jax.Array:
  """The same distribution, read straight from the state's bitboards."""
  return bitboard.sample(game.variant, key, state.legal)


_SAMPLERS = {"mask": sample_from_mask, "bitboards": sample_from_bitboards}


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _play(game, starts, keys, num_steps, sampler):
  """Plays `num_steps` plies in every game; returns (states, plies played)."""

  def one_game(start, key):
    def body(state, step_key):
      action = _SAMPLERS[sampler](game, step_key, state)
      nxt = game.step(state, action)
      nxt = jax.tree.map(lambda a, b: jnp.where(nxt.terminated, a, b),
                         start, nxt)  # Restart finished games.
      return nxt, ~state.terminated

    final, live = jax.lax.scan(body, start, jax.random.split(key, num_steps))
    return final, jnp.sum(live, dtype=jnp.int32)

  return jax.vmap(one_game)(starts, keys)


def measure(game, batch_size: int, plies: int, sampler: str,
            seed: int = 0) -> dict:
  """Plies per second of random play at one batch size.

  The batch is split over all local devices when it divides evenly (on a
  CPU, `--xla_force_host_platform_device_count` makes one device per core).
  """
  num_steps = max(8, min(1000, plies // batch_size))
  devices = jax.devices()
  if batch_size % len(devices):
    devices = devices[:1]
  mesh = jax.sharding.Mesh(np.asarray(devices), ("data",))
  shard = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
  key = jax.random.key(seed)
  starts = jax.jit(jax.vmap(game.init), out_shardings=shard)(
      jax.random.split(key, batch_size))
  keys = [jax.device_put(jax.random.split(k, batch_size), shard)
          for k in jax.random.split(key)]
  jax.block_until_ready(_play(game, starts, keys[0], num_steps, sampler))
  begin = time.perf_counter()
  _, live = _play(game, starts, keys[1], num_steps, sampler)
  live = int(jax.block_until_ready(live).sum())
  seconds = time.perf_counter() - begin
  return dict(batch_size=batch_size, devices=len(devices), steps=num_steps,
              plies=live, seconds=round(seconds, 4),
              plies_per_second=round(live / seconds))


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--variant", default="classic")
  parser.add_argument("--batch-sizes", default="1,8,64,512,2048,8192")
  parser.add_argument("--plies", type=int, default=200_000,
                      help="plies per measurement (before rounding)")
  parser.add_argument("--max-plies", type=int, default=None)
  parser.add_argument("--no-two-square", action="store_true",
                      help="switch the two-square rule off")
  parser.add_argument("--no-more-squares", action="store_true",
                      help="switch the more-squares rule off")
  parser.add_argument("--samplers", default="mask,bitboards",
                      help="mask: from legal_action_mask ([A] bool); "
                      "bitboards: from the state's packed legal moves")
  args = parser.parse_args(argv)
  game = games.make("stratego", variant=args.variant,
                    max_plies=args.max_plies,
                    two_square_rule=not args.no_two_square,
                    more_squares_rule=not args.no_more_squares)
  device = jax.devices()[0]
  rows = []
  for batch_size in (int(b) for b in args.batch_sizes.split(",")):
    for sampler in args.samplers.split(","):
      row = dict(device=common.device_name(), platform=device.platform,
                 variant=args.variant, sampler=sampler,
                 **measure(game, batch_size, args.plies, sampler))
      rows.append(row)
      print(json.dumps(row), flush=True)
  rules = ", ".join(
      name for name, on in (("two-square", game.two_square_rule),
                            ("more-squares", game.more_squares_rule)) if on)
  print(f"\nStratego {args.variant}, random legal play, rules: "
        f"{rules or 'no repetition rules'}; on "
        f"{common.device_name()}, load average "
        f"{os.getloadavg()[0]:.1f}:\n")
  samplers = args.samplers.split(",")
  print("| batch | " + " | ".join(f"plies/s ({s})" for s in samplers) + " |")
  print("|---:|" + "---:|" * len(samplers))
  by_batch = {}
  for row in rows:
    by_batch.setdefault(row["batch_size"], {})[row["sampler"]] = row
  for batch_size, cells in by_batch.items():
    print(f"| {batch_size} | " + " | ".join(
        f"{cells[s]['plies_per_second']:,}" for s in samplers) + " |")
  return 0


if __name__ == "__main__":
  sys.exit(main())
