"""Test-wide JAX settings: 8 simulated CPU devices, strict rank promotion.

XLA_FLAGS must be set before JAX initialises its backends, hence at import of
this conftest, which pytest loads before any test module.
"""

import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # pylint: disable=g-import-not-at-top

jax.config.update("jax_numpy_rank_promotion", "raise")


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
