"""The contract every game in `games/` follows.

A game is a frozen (hence hashable) object whose methods are pure JAX functions
over a frozen state pytree, so they can be `jit`ted (the game object is static)
and `vmap`ped over a batch of states. Chance events are sampled in `init` from
the key (for poker: the whole deal), so `step` is deterministic.

Rules every game shares (checked by `games.conformance`):
- `state.current_player` is the player to act ([] int32, 0 or 1).
- `state.terminated` ([] bool) is set once the game is over.
- `state.returns` ([num_players] float32) holds each player's return so far;
  the games here are zero-sum and pay only at the end.
- A `step` on a terminated state returns it unchanged.
- At a terminated state every action is marked legal, so that batched sampling
  never sees an empty mask.
- An illegal action is never a silent no-op: each game documents what it does.
"""

from __future__ import annotations

import abc
from typing import Any, Protocol, runtime_checkable

import chex
import jax
import numpy as np


class State(Protocol):
  """The fields of a game state that code outside the game may read."""

  current_player: jax.Array  # [] int32
  terminated: jax.Array  # [] bool
  returns: jax.Array  # [num_players] float32


class Game(abc.ABC):
  """A two-player zero-sum game as pure JAX functions.

  Subclasses are frozen dataclasses so that two equal configurations hash the
  same and a jitted function over them compiles once.
  """

  #: Registry name, e.g. "leduc_poker".
  name: str
  num_players: int = 2

  @property
  @abc.abstractmethod
  def num_actions(self) -> int:
    """Size of the (flat) action space."""

  @property
  @abc.abstractmethod
  def observation_shape(self) -> tuple[int, ...]:
    """Shape of `observe(state, player)`."""

  @property
  @abc.abstractmethod
  def max_episode_length(self) -> int:
    """Upper bound on the number of `step` calls before termination."""

  @abc.abstractmethod
  def init(self, key: chex.PRNGKey) -> Any:
    """Returns a fresh state; samples every chance event from `key`."""

  @abc.abstractmethod
  def step(self, state: Any, action: jax.Array) -> Any:
    """Applies `action` ([] int32) for `state.current_player`."""

  @abc.abstractmethod
  def legal_action_mask(self, state: Any) -> jax.Array:
    """[num_actions] bool; all True once the game is terminated."""

  @abc.abstractmethod
  def observe(self, state: Any, player: jax.Array | int) -> jax.Array:
    """[*observation_shape] float32: what `player` knows, nothing more."""

  def potential(self, state: Any) -> jax.Array:
    """[num_players] float32: a heuristic estimate of each player's standing.

    Used only for potential-based reward shaping during training (Ng, Harada
    and Russell 1999, "Policy invariance under reward transformations",
    https://people.eecs.berkeley.edu/~russell/papers/icml99-shaping.pdf),
    which adds `potential(next) - potential(state)` to each reward: the
    shaping sums to zero over a game that starts at potential zero, so it
    leaves every policy's expected return unchanged and only gives the
    learner earlier credit. Zero-sum, zero at the start of a game.

    Raises:
      NotImplementedError: the game defines none (the default).
    """
    del state
    raise NotImplementedError(
        f"{self.name} defines no potential for reward shaping")

  # --- OpenSpiel correspondence (used by `load_policy` and reference tests).

  #: `pyspiel.load_game` string of the equivalent OpenSpiel game, or None.
  spiel_game_string: str | None = None
  #: Small enough that OpenSpiel can enumerate every information state
  #: (exact exploitability, tabular policies).
  tabulable: bool = False

  def spiel_observation(self, spiel_state: Any, player: int) -> np.ndarray:
    """`observe` computed from an OpenSpiel state of `spiel_game_string`.

    Lets an agent trained on this game act in OpenSpiel's game (for
    `exploitability.nash_conv`, OpenSpiel bots, tournaments).
    """
    raise NotImplementedError(f"{self.name} has no OpenSpiel counterpart")

  def spiel_action(self, spiel_state: Any, action: int) -> int:
    """Maps one of our actions to OpenSpiel's action id (identity by default)."""
    del spiel_state
    return action

  def our_action(self, spiel_state: Any, spiel_action: int) -> int:
    """Inverse of `spiel_action`."""
    del spiel_state
    return spiel_action


@runtime_checkable
class TaskEnvironment(Protocol):
  """A single-agent environment over a pool of tasks, played in episodes of
  `num_trials` trials of one task (`games.xland.env.XLandTrials`): what the
  Anakin driver's task mode trains on. Its methods are pure JAX functions of
  one environment (vmapped by the caller).

  - `num_tasks`, `num_actions`, `num_trials`: ints.
  - `task(index) -> task`: training task(s) by index into the pool.
  - `init(key, task) -> state`.
  - `step(state, action, next_task, next_key) -> (state, output)`: the
    output has `reward`, `success` (a trial ended with its goal reached),
    `trial_done`, `episode_done` and `trial` (the step's trial index); where
    the episode ends, the next state is `init(next_key, next_task)`.
  - `observation(state) -> obs`, with an `episode_start` flag.
  """

  num_tasks: int
  num_actions: int
  num_trials: int

  def task(self, index: jax.Array) -> Any: ...

  def init(self, key: chex.PRNGKey, task: Any) -> Any: ...

  def step(self, state: Any, action: jax.Array, next_task: Any,
           next_key: chex.PRNGKey) -> tuple[Any, Any]: ...

  def observation(self, state: Any) -> Any: ...
