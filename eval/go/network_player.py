"""A trained Go network as a GTP player: search within the time given.

`NetworkPlayer(run)` loads a run directory or bundled agent of the Go agent
(`agents.go_retrieval`) and plays `eval.go.players.GoPlayer`'s protocol:
each move is a Gumbel MuZero search (`agents.go_retrieval.actor`) with as
many simulations as the time budget allows, or a fixed number. A network
with retrieval finds the K neighbours of every position its search expands
in its index (`retrieve_at="node"`, what it saw in training), or only the
root's, which then serve the whole search (`"root"`, one index search a
move, as Humphreys et al. 2022 did with a model trained for it); a bundled
one builds its index on first use (`eval.go.index_cache`). Search
programs are compiled for a ladder of simulation counts (powers of two); the
player times each search it runs and picks the largest count whose
predicted time fits 80% of the budget. `simulations=0` plays the network's
most likely move without search.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from agents.core import runs
from agents.go_retrieval import actor as actor_lib
from eval.go.players import Move
from games.go import Go, GoState

# Simulation counts a search may use (each compiled on first use).
LADDER = (8, 16, 32, 64, 128, 256, 512, 1024)
_BUDGET_SHARE = 0.8  # of the time budget, for the search itself
RETRIEVE_AT = ("node", "root")  # where a search with retrieval retrieves


class NetworkPlayer:
  """A trained Go network with tree search (see the module docstring)."""

  version = "0.1.0"

  def __init__(self, run: str, *, step: int | None = None,
               simulations: int | None = None, max_simulations: int = 1024,
               seed: int = 0, retrieve_at: str = "node"):
    """Loads `run` (a run directory or a bundled agent's name).

    Args:
      run: the agent.
      step: its checkpoint (default the latest).
      simulations: a fixed count per move (0: no search); None: as many as
        the time budget allows (128 when the game has no time limit).
      max_simulations: the most a timed search uses.
      seed: seeds the search's Gumbel noise (with the move number).
      retrieve_at: with retrieval, "node" (every node of the search gets
        its own neighbours) or "root" (the root's serve every node).

    Raises:
      CheckpointError, ValueError: `run` is no Go agent of this suite.
    """
    loaded = runs.read_run(run, step)
    if not hasattr(loaded.agent, "networks") or loaded.game is None or (
        loaded.game.name != "go"):
      raise ValueError(f"{run!r} is not a Go agent (its experiment is "
                       f"{type(loaded.config).__name__})")
    if retrieve_at not in RETRIEVE_AT:
      raise ValueError(f"retrieve_at must be one of {RETRIEVE_AT}, got "
                       f"{retrieve_at!r}")
    retrieval_cfg = loaded.config.agent.retrieval
    self._retriever = None
    self._retrieve = self._retrieve_params = None
    if retrieval_cfg.num_neighbours:
      from agents.go_retrieval import retrieval  # pylint: disable=g-import-not-at-top
      from eval.go import index_cache  # pylint: disable=g-import-not-at-top
      self._retriever = retrieval.Retriever(
          index_cache.index_for(run, retrieval_cfg.index))
      self._k, self._m = (retrieval_cfg.num_neighbours,
                          retrieval_cfg.next_moves)
      if retrieve_at == "node":
        self._retrieve_params, self._retrieve = retrieval.in_graph(
            self._retriever, self._k, self._m)
    if simulations is not None and simulations < 0:
      raise ValueError(f"simulations must be >= 0, got {simulations}")
    self.name = f"arena-{runs.resolve_run_dir(run).name}"
    self._nets = loaded.agent.networks
    self._params = loaded.agent.test_params(loaded.state)
    self._board_size = loaded.game.board_size
    self._simulations = simulations
    self._max = max_simulations
    self.seed = seed  # of the search's noise, with the move number
    self._searches: dict[tuple[Go, int], Any] = {}
    self._seconds_per_sim: float | None = None

  @property
  def retrieves(self) -> bool:
    """Whether the network reads retrieved neighbours."""
    return self._retriever is not None

  def supports(self, board_size: int) -> bool:
    return board_size == self._board_size

  def simulations_for(self, seconds: float | None) -> int:
    """The simulations a move with `seconds` of budget gets (see the module
    docstring)."""
    if self._simulations is not None:
      return self._simulations
    if seconds is None:
      return 128
    if self._seconds_per_sim is None:  # No timing yet: the smallest search.
      return LADDER[0]
    affordable = _BUDGET_SHARE * seconds / self._seconds_per_sim
    fitting = [n for n in LADDER if n <= min(affordable, self._max)]
    return fitting[-1] if fitting else LADDER[0]

  def _neighbours(self, state: GoState):
    """The root's neighbours ([1, K, ...]), or None without retrieval: one
    search of the index per move (Humphreys et al. 2022)."""
    if self._retriever is None:
      return None
    position = dict(
        board=np.asarray(state.board)[None],
        player=np.asarray(state.current_player, np.int8)[None],
        superko=np.asarray(state.analysis.superko)[None],
        last_move=np.asarray(state.last_move, np.int32)[None])
    found = self._retriever.neighbours(position, self._k, self._m)
    return jax.tree.map(jax.numpy.asarray, found)

  def genmove(self, game: Go, state: GoState, seconds: float | None,
              history: Sequence[Move]) -> int:
    start = time.perf_counter()
    batch = jax.tree.map(lambda x: x[None], state)
    neighbours = self._neighbours(state)
    if seconds is not None:
      seconds = max(seconds - (time.perf_counter() - start), 0.0)
    count = self.simulations_for(seconds)
    if count == 0:
      return int(actor_lib.greedy(game, self._nets, self._params, batch,
                                  neighbours)[0])
    key = (game, count)
    first = key not in self._searches
    if first:
      self._searches[key] = actor_lib.make_search(
          game, self._nets, count, retrieve=self._retrieve)
    rng = jax.random.fold_in(jax.random.key(self.seed), len(history))
    start = time.perf_counter()
    out = self._searches[key](self._params, batch, neighbours, rng,
                              self._retrieve_params)
    action = int(np.asarray(out.action)[0])
    if not first:  # A first call's time is mostly compilation.
      per_sim = (time.perf_counter() - start) / count
      self._seconds_per_sim = (per_sim if self._seconds_per_sim is None else
                               0.5 * (self._seconds_per_sim + per_sim))
    elif self._seconds_per_sim is None and seconds is not None:
      # Time a second search now, so the next move can size its own.
      start = time.perf_counter()
      self._searches[key](self._params, batch, neighbours, rng,
                          self._retrieve_params)
      self._seconds_per_sim = (time.perf_counter() - start) / count
    return action


def available(run: str) -> bool:
  """Whether `run` names a run directory or bundled agent (not checked to be
  a Go agent)."""
  try:
    runs.resolve_run_dir(run)
  except (ValueError, OSError):
    return False
  return True


