"""Stratego's bots, declared to the registry by `games.stratego`.

- `heuristic`: `heuristic_action` and `random_action`, pure JAX policies of
  the observation (jit- and vmap-able); `heuristic_policy(game)` binds one to
  a game.
- `beliefs`: what a player knows, read back from its observation planes.
- `deploy`: the heuristic's square scores for the deployment phase.
- `spiel_bot`: `StrategoHeuristicBot`, the heuristic as a `pyspiel.Bot`.

Use them through the registry: `games.bot_policy(game, "heuristic")` and
`games.spiel_bot(spiel_game, "heuristic", player_id, seed)`.
"""

from games.stratego.bots.heuristic import (heuristic_action, heuristic_policy,
                                           random_action, random_policy)
from games.stratego.bots.spiel_bot import StrategoHeuristicBot

__all__ = ["StrategoHeuristicBot", "heuristic_action", "heuristic_policy",
           "random_action", "random_policy"]
