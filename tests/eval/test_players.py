"""`eval.players.make_player` for bots: any bot the table's game declares."""

import pyspiel
import pytest
from open_spiel.python.bots import uniform_random

import games
from eval import players
from games.stratego import bots as stratego_bots


def test_builtin_lists_every_declared_bot():
  assert players.BUILTIN[:2] == ("random", "heuristic")
  assert set(players.BUILTIN) == {
      bot for name in games.available_games() for bot in games.bots(name)}


def test_make_player_builds_the_games_bots_and_refuses_others():
  stratego = pyspiel.load_game("stratego", {"variant": "small"})
  bot = players.make_player("heuristic", stratego, 1, 7)
  assert isinstance(bot, stratego_bots.StrategoHeuristicBot)
  assert bot.player_id() == 1
  kuhn = pyspiel.load_game("kuhn_poker")
  assert isinstance(players.make_player("random", kuhn, 0, 1),
                    uniform_random.UniformRandomBot)
  with pytest.raises(ValueError, match="no bot 'heuristic' for game "
                     "'kuhn_poker'; bots: random"):
    players.make_player("heuristic", kuhn, 0, 1)
