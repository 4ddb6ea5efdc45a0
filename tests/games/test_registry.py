"""The game registry: build games by name, each game's bots, free parameters
and human view, clear errors for bad input."""

import re

import jax
import jax.numpy as jnp
import pyspiel
import pytest
from open_spiel.python.bots import uniform_random

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


def test_every_game_declares_its_bots_spiel_name_and_free_params():
  assert games.bots("kuhn_poker") == ("random",)
  assert games.bots("stratego") == ("random", "heuristic")
  assert games.spec("leduc_poker").spiel_name == "leduc_poker"
  assert games.free_params("stratego") == ("max_plies", "setup", "deployment")
  assert games.free_params("kuhn_poker") == ()
  assert games.free_params("tic_tac_toe") == ()  # Not ours: nothing free.
  assert games.spec("stratego").human_view == "games.stratego.human_view"
  assert games.spec("kuhn_poker").human_view is None
  assert games.free_params("go") == ("max_moves",)
  with pytest.raises(ValueError, match="Unknown game 'chess'"):
    games.bots("chess")


def test_bot_policy_plays_legal_moves_and_names_the_bots_on_error():
  game = games.make("kuhn_poker")
  policy = games.bot_policy(game, "random")
  assert policy is games.bot_policy(games.make("kuhn_poker"), "random")
  legal = jnp.array([False, True])
  for k in range(8):
    assert int(policy(jnp.zeros(game.observation_shape), legal,
                      jax.random.key(k))) == 1
  with pytest.raises(ValueError, match=re.escape(
      "no bot 'heuristic' for game 'kuhn_poker'; bots: random")):
    games.bot_policy(game, "heuristic")


def test_spiel_bot_finds_the_game_by_its_openspiel_name():
  bot = games.spiel_bot(pyspiel.load_game("kuhn_poker"), "random", 1, 0)
  assert isinstance(bot, uniform_random.UniformRandomBot)
  # Any OpenSpiel game has the random bot; nothing else.
  ttt = pyspiel.load_game("tic_tac_toe")
  state = ttt.new_initial_state()
  assert games.spiel_bot(ttt, "random", 0, 3).step(state) in (
      state.legal_actions())
  with pytest.raises(ValueError, match=re.escape(
      "no bot 'heuristic' for game 'tic_tac_toe'; bots: random")):
    games.spiel_bot(ttt, "heuristic", 0, 0)


def test_register_rejects_a_random_bot_and_a_taken_openspiel_name():
  bot = games.Bot(policy=lambda game: None, spiel_bot=lambda g, p, s: None)
  with pytest.raises(ValueError, match="every game has the bot 'random'"):
    registry.register("kuhn_twin", KuhnPoker, bots={"random": bot})
  with pytest.raises(ValueError, match="'kuhn_poker' is already played by"):
    registry.register("kuhn_twin", KuhnPoker, spiel_name="kuhn_poker")
  assert "kuhn_twin" not in games.available_games()
