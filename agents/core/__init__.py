"""The shared, sharded learner used by every agent, and what drivers share:
the agent registry, experiment settings, configs and reading run directories."""

from agents.core.checkpoint import CheckpointError, Checkpointer, read_run_config, write_atomic, write_json_atomic
from agents.core.learner import TrainState, init_train_state, make_update, replicate
from agents.core.registry import AgentType, register
from agents.core.runs import Run, bundled_agents, read_run, resolve_run_dir
from agents.core.sharding import DATA_AXIS, batch_sharded, check_batch_size, make_mesh, replicated
from agents.core.types import PolicyFn, Trajectory

from agents.core import configs, experiment, registry, runs, spiel_policy  # noqa: E402,I001

__all__ = [
    "AgentType", "CheckpointError", "Checkpointer", "DATA_AXIS", "PolicyFn",
    "Run", "TrainState", "Trajectory", "batch_sharded", "bundled_agents",
    "check_batch_size", "configs", "experiment", "init_train_state",
    "make_mesh", "make_update", "read_run", "read_run_config", "register",
    "registry", "replicate", "replicated", "resolve_run_dir", "runs",
    "spiel_policy", "write_atomic", "write_json_atomic",
]
