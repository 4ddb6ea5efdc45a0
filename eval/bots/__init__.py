"""Bots: uniformly random and heuristic players (see `eval.players`).

- `stratego_heuristic`: `heuristic_action` and `random_action`, pure JAX
  policies of the observation (jit- and vmap-able).
- `match`: `play_games`, many games between two JAX policies at once.
- `spiel_bots`: `StrategoHeuristicBot`, the heuristic as a `pyspiel.Bot`.
"""

import pyspiel

from eval.bots.match import MatchResult, play_games, summarize
from eval.bots.spiel_bots import StrategoHeuristicBot
from eval.bots.stratego_heuristic import (heuristic_action, heuristic_policy,
                                          random_action, random_policy)

#: Games that have a heuristic bot.
HEURISTIC_GAMES = ("stratego",)


def heuristic_bot(game: pyspiel.Game, player_id: int, seed: int) -> pyspiel.Bot:
  """The heuristic bot for seat `player_id` of `game`.

  Raises:
    ValueError: `game` has no heuristic bot.
  """
  name = game.get_type().short_name
  if name == "stratego":
    return StrategoHeuristicBot(game, player_id, seed)
  raise ValueError(f"no heuristic bot for {name!r}; games with one: "
                   f"{', '.join(HEURISTIC_GAMES)}")


__all__ = ["HEURISTIC_GAMES", "MatchResult", "StrategoHeuristicBot",
           "heuristic_action", "heuristic_bot", "heuristic_policy",
           "play_games", "random_action", "random_policy", "summarize"]
