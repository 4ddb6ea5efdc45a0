"""The game registry: build games by name, clear errors for bad input."""

import pytest

import games
from games import registry
from games.poker import KuhnPoker, LeducPoker


def test_available_games_lists_the_poker_games_sorted():
  names = games.available_games()
  assert isinstance(names, tuple)
  assert list(names) == sorted(names)
  assert {"kuhn_poker", "leduc_poker"} <= set(names)


@pytest.mark.parametrize("name, cls", [
    ("kuhn_poker", KuhnPoker),
    ("leduc_poker", LeducPoker),
])
def test_make_builds_equal_hashable_games(name, cls):
  game = games.make(name)
  assert type(game) is cls
  assert game.name == name
  assert game.spiel_game_string == name
  # Equal configurations are equal and hash the same: jit compiles once.
  assert game == games.make(name)
  assert hash(game) == hash(games.make(name))


def test_unknown_name_names_the_available_games():
  with pytest.raises(ValueError, match=r"Unknown game 'poker'; available: .*"
                     r"kuhn_poker, leduc_poker"):
    games.make("poker")


def test_bad_parameters_raise_value_error():
  with pytest.raises(ValueError, match="Bad parameters for game 'leduc_poker'"):
    games.make("leduc_poker", players=3)


def test_registering_a_name_twice_fails():
  with pytest.raises(ValueError, match="'kuhn_poker' is already registered"):
    registry.register("kuhn_poker", KuhnPoker)
  assert games.make("kuhn_poker") == KuhnPoker()
