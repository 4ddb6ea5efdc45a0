"""Type aliases shared by every agent and by the learner."""

from typing import Any, Callable, Mapping

import chex
import jax

Params = chex.ArrayTree
Batch = chex.ArrayTree
Metrics = Mapping[str, jax.Array]
PRNGKey = chex.PRNGKey
# A loss: (params, train_state, batch, key) -> (scalar loss, metrics).
LossFn = Callable[[Params, Any, Batch, PRNGKey], tuple[jax.Array, Metrics]]
