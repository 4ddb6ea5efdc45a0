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
