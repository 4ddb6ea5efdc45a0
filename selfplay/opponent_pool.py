"""Past parameters as self-play opponents (`RunConfig.past_opponents`).

Playing some games against earlier versions of the agent, not only its
current self, keeps it from forgetting how to beat them: the fictitious-play
idea behind the league of AlphaStar (Vinyals et al. 2019, Nature 575).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from agents.core import CheckpointError, Checkpointer
from agents.core.experiment import LeagueConfig


class OpponentPool:
  """Past parameters for self-play against earlier versions of the agent.

  Starts with the parameters training starts from and adds a copy every
  `league.past_opponent_every` learner steps, keeping the latest
  `league.past_opponents`. The pool is saved with each checkpoint (`save_args`)
  and a resumed run continues with it (`restore`), so resuming plays the same
  games as an uninterrupted run.
  """

  def __init__(self, league: LeagueConfig, params: Any, step: int,
               seed: int = 0):
    self._cfg, self._seed = league, seed
    self._pool = [jax.tree.map(jnp.copy, params)]
    self._period = step // league.past_opponent_every

  def save_args(self) -> tuple[dict[str, Any], Any]:
    """(meta entries, extra pytree) to save with a checkpoint."""
    return ({"opponent_pool": {"size": len(self._pool),
                               "period": self._period}},
            {"opponent_pool": list(self._pool)})

  def restore(self, checkpointer: Checkpointer, meta: dict[str, Any],
              step: int, like: Any) -> bool:
    """Replaces the pool by the one saved at `step`; False if none was saved.

    `like` is the parameters (structure and shardings) of one snapshot.
    """
    saved = meta.get("opponent_pool")
    if saved is None:
      return False
    if not (isinstance(saved, dict) and isinstance(saved.get("size"), int)
            and isinstance(saved.get("period"), int) and saved["size"] > 0):
      raise CheckpointError(
          f"checkpoint {step}: malformed opponent_pool metadata {saved!r}")
    extra = checkpointer.restore_extra(
        {"opponent_pool": [like] * saved["size"]}, step)
    if extra is None:
      return False
    self._pool = list(extra["opponent_pool"])[-self._cfg.past_opponents:]
    self._period = saved["period"]
    return True

  def __len__(self) -> int:
    return len(self._pool)

  def draw(self, step: int) -> Any:
    """One snapshot, uniformly, reproducibly for a given seed and step."""
    rng = np.random.default_rng([self._seed, step])
    return self._pool[int(rng.integers(len(self._pool)))]

  def maybe_add(self, step: int, params: Any) -> None:
    """Adds `params` when `step` enters a new period of `past_opponent_every`."""
    period = step // self._cfg.past_opponent_every
    if period > self._period:
      self._period = period
      # A copy: the next update donates (frees) the state's buffers.
      self._pool.append(jax.tree.map(jnp.copy, params))
      del self._pool[:-self._cfg.past_opponents]
