"""Device mesh and shardings for the shared learner.

One mesh axis, `data`: the batch is split over it, parameters and optimizer
state are replicated. The same code runs on one CPU, on eight GPUs, or (after
`jax.distributed.initialize`) on several hosts, because placement is expressed
with `NamedSharding` and XLA's partitioner inserts the gradient all-reduce.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def make_mesh(num_devices: int | None = None) -> Mesh:
  """A 1-D mesh over the first `num_devices` devices (all when None).

  Raises:
    ValueError: if more devices are asked for than exist.
  """
  devices = jax.devices()
  if num_devices is None:
    num_devices = len(devices)
  if not 1 <= num_devices <= len(devices):
    raise ValueError(
        f"num_devices must be in [1, {len(devices)}] on this host, "
        f"got {num_devices}")
  return Mesh(np.asarray(devices[:num_devices]), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  """Sharding for parameters and optimizer state: a full copy per device."""
  return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh, batch_axis: int = 0) -> NamedSharding:
  """Sharding that splits axis `batch_axis` over the `data` mesh axis."""
  return NamedSharding(mesh, P(*([None] * batch_axis), DATA_AXIS))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
  """Raises ValueError unless the batch divides evenly over the mesh."""
  n = mesh.shape[DATA_AXIS]
  if batch_size % n:
    raise ValueError(
        f"batch size {batch_size} is not divisible by the {n} devices of the "
        f"mesh; use a multiple of {n}")
