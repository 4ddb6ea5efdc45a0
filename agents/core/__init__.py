"""The shared, sharded learner used by every agent."""

from agents.core.checkpoint import CheckpointError, Checkpointer, read_run_config, write_atomic, write_json_atomic
from agents.core.learner import TrainState, init_train_state, make_update, replicate
from agents.core.sharding import DATA_AXIS, batch_sharded, check_batch_size, make_mesh, replicated

__all__ = [
    "CheckpointError", "Checkpointer", "DATA_AXIS", "TrainState",
    "batch_sharded", "check_batch_size", "init_train_state", "make_mesh",
    "make_update", "read_run_config", "replicate", "replicated",
    "write_atomic", "write_json_atomic",
]
