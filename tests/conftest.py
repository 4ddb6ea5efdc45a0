"""Test-wide JAX settings: 8 simulated CPU devices, strict rank promotion,
and a compilation cache kept for one pytest session.

XLA_FLAGS must be set before JAX initialises its backends, hence at import of
this conftest, which pytest loads before any test module.

The cache: many tests build the same program again (a run, then its resumed
run; each `anakin.train` call makes new closures, so `jit`'s in-memory cache
misses). JAX's persistent compilation cache keys an executable by the
program's text, so the second compilation is read from disk (the resumed-run
test of the task mode: 115 s -> 82 s). Each pytest process (each xdist
worker) gets a fresh directory of its own, removed at exit: nothing is
shared between processes or carried from one session to the next. A user's
own JAX_COMPILATION_CACHE_DIR is left alone.
"""

import atexit
import logging
import os
import shutil
import tempfile

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # pylint: disable=g-import-not-at-top

jax.config.update("jax_numpy_rank_promotion", "raise")
if not jax.config.jax_compilation_cache_dir:
  # Set here, not in the environment: the programs that tests start (CLI
  # runs, runs killed mid-write) keep no cache, and none shares this one.
  _CACHE_DIR = tempfile.mkdtemp(prefix="arena-test-jax-cache-")
  atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)
  jax.config.update("jax_compilation_cache_dir", _CACHE_DIR)


# Orbax saves a replicated array on CPU "replica-parallel": each of the 8
# simulated devices writes a slice, and every slice shape is an operation
# compiled on first use (the task mode's resumed-run test: 42 s -> 29 s
# without). It buys nothing on one host's memory; a user's CPU has one device
# (no replicas) and on GPUs orbax turns it off itself, so the tests save as
# users' runs do.
import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top,wrong-import-position

_ABSL = logging.getLogger("absl")
_level, _ABSL.level = _ABSL.level, logging.ERROR  # (its "overriding" notice)
ocp.type_handlers.register_type_handler(
    jax.Array, ocp.type_handlers.ArrayHandler(
        use_replica_parallel=False,
        array_metadata_store=ocp.type_handlers.get_type_handler(
            jax.Array)._array_metadata_store),  # pylint: disable=protected-access
    override=True)
_ABSL.level = _level

import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(scope="session")
def go_positions(tmp_path_factory):
  """Expert-position store of 40 random 9x9 games (no GNU Go needed)."""
  from eval.go import positions  # pylint: disable=g-import-not-at-top
  from tests.eval.go.random_games import write_random_games  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp("go_positions")
  write_random_games(root / "games", 40, seed=6, num_moves=30)
  positions.build_positions(root / "games", root / "positions",
                            progress=False)
  return root / "positions"


@pytest.fixture(scope="session")
def go_run(go_positions, tmp_path_factory):
  """A tiny Go network (`go9_smoke`) trained GO_RUN_STEPS steps on them."""
  from arena import cli  # pylint: disable=g-import-not-at-top
  run = tmp_path_factory.mktemp("go_run") / "run"
  assert cli.main(["train", "go9_smoke", "--out", str(run), "--steps",
                   str(GO_RUN_STEPS), "--no-progress", "--set",
                   f"data.positions={go_positions}"]) == 0
  return run


GO_RUN_STEPS = 4  # only the last checkpoint is kept (checkpoint_every 20)
