"""Bots: uniformly random and heuristic players (see `eval.players`)."""

import pyspiel


def heuristic_bot(game: pyspiel.Game, player_id: int, seed: int) -> pyspiel.Bot:
  """The heuristic bot for `game`.

  Raises:
    ValueError: `game` has no heuristic bot.
  """
  raise ValueError(f"no heuristic bot for {game.get_type().short_name!r}")
