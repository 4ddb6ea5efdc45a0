"""Checkpoints: round trip, keep-last-N, clear errors on damaged runs."""

import json
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax
import pytest

from agents.core import (CheckpointError, Checkpointer, init_train_state,
                         read_run_config, write_json_atomic)


def _state(step=0):
  params = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
  state = init_train_state(params, optax.adam(1e-3), jax.random.key(7),
                           extras=(jnp.full(2, 3.0),))
  return state._replace(step=jnp.asarray(step, jnp.int32))


def test_round_trip_keeps_structure_values_and_key(tmp_path):
  ckpt = Checkpointer(tmp_path)
  state = _state(5)
  ckpt.save(state, {"note": "hi"})
  ckpt.wait()
  restored, meta = ckpt.restore(_state())
  chex.assert_trees_all_equal_structs(restored, state)
  chex.assert_trees_all_equal(jax.random.key_data(restored.key),
                              jax.random.key_data(state.key))
  chex.assert_trees_all_equal(restored._replace(key=None),
                              state._replace(key=None))
  assert meta == {"note": "hi"}
  ckpt.close()


def test_keeps_last_n(tmp_path):
  ckpt = Checkpointer(tmp_path, max_to_keep=2)
  for step in (1, 2, 3, 4):
    ckpt.save(_state(step))
  ckpt.wait()
  assert ckpt.all_steps() == [3, 4]
  assert int(ckpt.restore(_state())[0].step) == 4
  assert int(ckpt.restore(_state(), step=3)[0].step) == 3
  with pytest.raises(CheckpointError, match="available"):
    ckpt.restore(_state(), step=1)
  ckpt.close()


class _Extras(NamedTuple):
  target: jax.Array
  average: jax.Array


def test_saved_extras_fields_come_from_metadata(tmp_path):
  ckpt = Checkpointer(tmp_path)
  state = _state(2)
  ckpt.save(state._replace(extras=_Extras(jnp.zeros(2), jnp.ones(2))))
  ckpt.save(_state(3))  # Extras a plain tuple: no field names.
  ckpt.wait()
  assert ckpt.saved_extras_fields(2) == {"target", "average"}
  assert ckpt.saved_extras_fields(3) is None
  assert ckpt.saved_extras_fields() is None  # The latest is step 3.
  assert ckpt.saved_extras_fields(7) is None  # No such checkpoint.
  ckpt.close()


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
  ckpt = Checkpointer(tmp_path)
  ckpt.save(_state(1))
  ckpt.close()
  for f in (tmp_path / "checkpoints" / "1" / "state").rglob("*"):
    if f.is_file() and f.stat().st_size > 0:
      f.write_bytes(b"garbage")
  with pytest.raises(CheckpointError, match="cannot restore checkpoint 1"):
    Checkpointer(tmp_path, read_only=True).restore(_state())


def test_mismatched_structure_is_a_clear_error(tmp_path):
  ckpt = Checkpointer(tmp_path)
  ckpt.save(_state(1))
  ckpt.close()
  other = _state()._replace(params={"w": jnp.zeros((4, 4)), "b": jnp.ones(3)})
  with pytest.raises(CheckpointError):
    Checkpointer(tmp_path, read_only=True).restore(other)


def test_missing_run_and_config(tmp_path):
  with pytest.raises(CheckpointError, match="does not exist"):
    read_run_config(tmp_path / "nope")
  with pytest.raises(CheckpointError, match="not a run directory"):
    read_run_config(tmp_path)
  (tmp_path / "config.json").write_text("{oops")
  with pytest.raises(CheckpointError, match="corrupt"):
    read_run_config(tmp_path)
  with pytest.raises(CheckpointError, match="no checkpoints"):
    Checkpointer(tmp_path / "empty", read_only=True)


def test_atomic_json_write_leaves_no_temporaries(tmp_path):
  path = tmp_path / "sub" / "x.json"
  write_json_atomic(path, {"a": [1, 2]})
  write_json_atomic(path, {"a": 3})
  assert json.loads(path.read_text()) == {"a": 3}
  assert [p.name for p in path.parent.iterdir()] == ["x.json"]
