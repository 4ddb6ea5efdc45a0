"""Replay for Sebulba agents: buffers, an n-step adder and a rate limiter.

- `ReplayBuffer`: a fixed-capacity FIFO of transitions stored as numpy
  arrays, sampled uniformly or in proportion to priority^alpha with
  importance weights (prioritised replay, Schaul et al. 2016,
  arXiv:1511.05952), using a sum tree.
- `NStepAdder`: turns one actor's stream of environment steps into n-step
  transitions (Sutton 1988; as in D4PG, Barth-Maron et al. 2018,
  arXiv:1804.08617).
- `RateLimiter`: keeps samples per insert near a target, as Reverb's
  `SampleToInsertRatio` (Cassirer et al. 2021, arXiv:2102.04736): sampling
  waits for inserts and inserting waits for samples, within an error buffer.
"""

from __future__ import annotations

import collections
import os
import zipfile
from typing import Any, Callable, Mapping

import numpy as np

from agents.core.checkpoint import write_atomic
from agents.core.experiment import ReplayConfig


class RateLimiter:
  """Blocks inserts and samples so that samples/inserts stays near a target.

  With I items inserted and S sampled, and offset = spi * min_size: sampling
  n items is allowed once I >= min_size and I * spi - (S + n) >= offset - eb;
  inserting n is allowed while I + n <= min_size or
  (I + n) * spi - S <= offset + eb.
  """

  def __init__(self, samples_per_insert: float, min_size: int,
               error_buffer: float):
    self.samples_per_insert = float(samples_per_insert)
    self.min_size = int(min_size)
    self.error_buffer = float(error_buffer)
    offset = self.samples_per_insert * self.min_size
    self._min_diff = offset - self.error_buffer
    self._max_diff = offset + self.error_buffer
    self.inserts = 0
    self.samples = 0

  @staticmethod
  def required_error_buffer(samples_per_insert: float, insert_chunk: int,
                            sample_chunk: int) -> float:
    """The least error buffer with which neither side can wait forever, when
    inserts come in chunks of up to `insert_chunk` items and samples in
    chunks of `sample_chunk`."""
    return max(samples_per_insert * insert_chunk,
               (samples_per_insert * insert_chunk + sample_chunk) / 2)

  def can_insert(self, n: int = 1) -> bool:
    new = self.inserts + n
    return (new <= self.min_size or
            new * self.samples_per_insert - self.samples <= self._max_diff)

  def can_sample(self, n: int) -> bool:
    return (self.inserts >= self.min_size and
            self.inserts * self.samples_per_insert - self.samples - n
            >= self._min_diff)

  def inserted(self, n: int) -> None:
    self.inserts += n

  def sampled(self, n: int) -> None:
    self.samples += n

  def state(self) -> dict[str, int]:
    return {"inserts": self.inserts, "samples": self.samples}

  def restore(self, state: Mapping[str, int]) -> None:
    self.inserts, self.samples = int(state["inserts"]), int(state["samples"])


class _SumTree:
  """Priorities in a binary tree whose nodes hold the sums of their leaves."""

  def __init__(self, capacity: int):
    self._leaves = 1 << max(int(capacity - 1).bit_length(), 0)
    self._depth = self._leaves.bit_length() - 1
    self._tree = np.zeros(2 * self._leaves, np.float64)

  @property
  def total(self) -> float:
    return float(self._tree[1])

  def get(self, index: np.ndarray) -> np.ndarray:
    return self._tree[index + self._leaves]

  def set(self, index: np.ndarray, value: np.ndarray) -> None:
    node = np.asarray(index) + self._leaves
    self._tree[node] = value
    for _ in range(self._depth):
      node = np.unique(node // 2)
      self._tree[node] = self._tree[2 * node] + self._tree[2 * node + 1]

  def find(self, mass: np.ndarray) -> np.ndarray:
    """The leaf where the cumulative sum passes each `mass` ([n] -> [n])."""
    node = np.ones(mass.shape, np.int64)
    mass = mass.astype(np.float64)
    for _ in range(self._depth):
      left = self._tree[2 * node]
      right = mass >= left
      mass = np.where(right, mass - left, mass)
      node = 2 * node + right
    return node - self._leaves


class ReplayBuffer:
  """A FIFO of transitions with uniform or prioritised sampling.

  Args:
    capacity: the number of transitions kept; the oldest are overwritten.
    spec: field name -> (shape of one item, dtype).
    config: sampling settings (`prioritized` and the exponents).
  """

  def __init__(self, capacity: int, spec: Mapping[str, tuple[tuple[int, ...],
                                                             Any]],
               config: ReplayConfig | None = None):
    config = config or ReplayConfig(capacity=capacity,
                                    min_size=min(capacity, 1))
    self.capacity = int(capacity)
    self._data = {k: np.zeros((self.capacity, *shape), dtype)
                  for k, (shape, dtype) in spec.items()}
    self._next = 0
    self.size = 0
    self._prioritized = config.prioritized
    self._alpha = config.priority_exponent
    self._beta = config.importance_exponent
    self._tree = _SumTree(self.capacity) if self._prioritized else None
    self._max_priority = 1.0

  def insert(self, items: Mapping[str, np.ndarray]) -> np.ndarray:
    """Appends `items` (each [n, *shape]); returns their [n] slots."""
    n = len(next(iter(items.values())))
    if set(items) != set(self._data):
      raise ValueError(f"items have fields {sorted(items)}, expected "
                       f"{sorted(self._data)}")
    slots = (self._next + np.arange(n)) % self.capacity
    for k, v in items.items():
      self._data[k][slots] = v
    self._next = int((self._next + n) % self.capacity)
    self.size = min(self.size + n, self.capacity)
    if self._tree is not None:
      self._tree.set(slots, np.full(n, self._max_priority ** self._alpha))
    return slots

  def sample(self, n: int, rng: np.random.Generator
             ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Draws `n` transitions.

    Returns:
      `(items, slots [n], weights [n] float32)`; weights are the importance
      weights (N P(i))^-beta normalised by their maximum, all 1 for uniform
      sampling.

    Raises:
      ValueError: if the buffer is empty.
    """
    if self.size == 0:
      raise ValueError("cannot sample from an empty replay buffer")
    if self._tree is None:
      slots = rng.integers(0, self.size, n)
      weights = np.ones(n, np.float32)
    else:
      total = self._tree.total
      # Stratified: one draw from each of n equal slices of the mass.
      mass = (np.arange(n) + rng.random(n)) * (total / n)
      slots = np.minimum(self._tree.find(mass), self.size - 1)
      probs = self._tree.get(slots) / total
      weights = (self.size * np.maximum(probs, 1e-12)) ** -self._beta
      weights = (weights / weights.max()).astype(np.float32)
    return {k: v[slots] for k, v in self._data.items()}, slots, weights

  def update_priorities(self, slots: np.ndarray, priorities: np.ndarray
                        ) -> None:
    """Sets the priorities of sampled `slots` (prioritised buffers only)."""
    if self._tree is None:
      return
    priorities = np.maximum(np.abs(np.asarray(priorities, np.float64)), 1e-6)
    self._max_priority = max(self._max_priority, float(priorities.max()))
    self._tree.set(np.asarray(slots), priorities ** self._alpha)

  def state(self) -> dict[str, np.ndarray]:
    """The contents, oldest first, as arrays (for `save`): `data/<field>`,
    `priority` (priority^alpha of each, prioritised buffers only) and
    `max_priority`."""
    order = (self._next - self.size + np.arange(self.size)) % self.capacity
    out = {f"data/{k}": v[order] for k, v in self._data.items()}
    out["max_priority"] = np.float64(self._max_priority)
    if self._tree is not None:
      out["priority"] = self._tree.get(order)
    return out

  def restore(self, state: Mapping[str, np.ndarray]) -> None:
    """Replaces the contents with those of `state()` of a buffer with the same
    fields; the newest `capacity` transitions are kept. Priorities carry
    over between prioritised buffers; otherwise new items get the maximum.

    Raises:
      ValueError: for other fields, item shapes or dtypes.
    """
    fields = {k[len("data/"):]: v for k, v in state.items()
              if k.startswith("data/")}
    if set(fields) != set(self._data):
      raise ValueError(f"saved replay has fields {sorted(fields)}, expected "
                       f"{sorted(self._data)}")
    for k, v in fields.items():
      want = self._data[k]
      if v.shape[1:] != want.shape[1:] or v.dtype != want.dtype:
        raise ValueError(
            f"saved replay field {k!r} holds {v.dtype}{list(v.shape[1:])} "
            f"items, expected {want.dtype}{list(want.shape[1:])}")
    if len({len(v) for v in fields.values()}) != 1:
      raise ValueError("saved replay fields hold different numbers of items")
    n = len(next(iter(fields.values())))
    keep = slice(max(0, n - self.capacity), n)
    self._next, self.size = 0, 0
    if self._tree is not None:
      self._tree = _SumTree(self.capacity)
    self._max_priority = float(state.get("max_priority", 1.0))
    if n:
      slots = self.insert({k: v[keep] for k, v in fields.items()})
      if self._tree is not None and "priority" in state:
        self._tree.set(slots, np.asarray(state["priority"])[keep])


def save(path: str | os.PathLike[str], buffer: ReplayBuffer) -> None:
  """Writes `buffer.state()` to the .npz file `path` atomically (a temporary
  file, then a rename): a killed writer leaves the old file or none."""
  write_atomic(path, lambda f: np.savez(f, **buffer.state()))


def load(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
  """The arrays `save` wrote to `path`.

  Raises:
    ValueError: for a file that is not a saved replay (named in the message).
  """
  try:
    with np.load(path, allow_pickle=False) as f:
      state = {k: f[k] for k in f.files}
  except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
    raise ValueError(f"{path}: not a readable replay file ({e})") from e
  if not any(k.startswith("data/") for k in state):
    raise ValueError(f"{path}: not a replay file (no data/ arrays)")
  return state


# (obs, action, n-step return, n-step discount, next obs)
NStepTransition = tuple[np.ndarray, np.ndarray, float, float, np.ndarray]
NStepFn = Callable[[list[float], list[float], float], tuple[float, float]]


class NStepAdder:
  """One actor's environment steps in, n-step transitions out.

  Call `start(obs)` at each episode's first observation, then
  `step(action, reward, discount, next_obs, last)` after every environment
  step. Each call returns the transitions that became complete: the one that
  starts n steps back, and at the episode's last step every pending one,
  with shorter horizons, bootstrapped from the last observation (with
  discount 0 after a terminal step).

  Args:
    n: the number of steps per transition.
    gamma: the agent's discount.
    n_step_fn: `(rewards, discounts, gamma) -> (return, discount)`, the
      agent's n-step target (e.g. `agents.d4pg.losses.n_step_target`).
  """

  def __init__(self, n: int, gamma: float, n_step_fn: NStepFn):
    if n < 1:
      raise ValueError(f"n must be >= 1, got {n}")
    self._n, self._gamma, self._n_step_fn = n, gamma, n_step_fn
    self._pending: collections.deque = collections.deque()
    self._obs: np.ndarray | None = None

  def start(self, obs: np.ndarray) -> None:
    self._pending.clear()
    self._obs = obs

  def _emit(self, next_obs: np.ndarray) -> NStepTransition:
    obs, action = self._pending[0][:2]
    ret, disc = self._n_step_fn([p[2] for p in self._pending],
                                [p[3] for p in self._pending], self._gamma)
    self._pending.popleft()
    return obs, action, ret, disc, next_obs

  def step(self, action: np.ndarray, reward: float, discount: float,
           next_obs: np.ndarray, last: bool) -> list[NStepTransition]:
    if self._obs is None:
      raise ValueError("NStepAdder.step before start")
    self._pending.append((self._obs, action, reward, discount))
    self._obs = next_obs
    out = []
    if len(self._pending) == self._n:
      out.append(self._emit(next_obs))
    if last:
      while self._pending:
        out.append(self._emit(next_obs))
      self._obs = None
    return out
