"""What a human types and sees at Stratego: `games.stratego.human_input`
(commands, why a move is illegal) and `games.stratego.human_view` (boards,
with and without colour). Whole games are in `tests/eval/stratego/`."""

import io
import re

import pyspiel
import pytest

import games  # noqa: F401  # Registers "stratego" with pyspiel.
from games.stratego import config
from games.stratego import human_input
from games.stratego import human_view

SMALL = config.get_variant("small")


@pytest.mark.parametrize("text,kind,squares", [
    ("e4-e5", "move", ("e4", "e5")), (" E4E5 ", "move", ("e4", "e5")),
    ("e4 e5", "move", ("e4", "e5")), ("MOVES", "moves", ()),
    ("moves b2", "moves", ("b2",)), ("", "empty", ()), ("b2", "square",
                                                        ("b2",)),
    ("help", "help", ()), ("quit", "quit", ()), ("resign", "resign", ()),
])
def test_parse_command(text, kind, squares):
  cmd = human_input.parse_command(SMALL, text)
  assert cmd.kind == kind
  assert cmd.squares == tuple(config.parse_square(SMALL, s) for s in squares)


@pytest.mark.parametrize("text,message", [
    ("xyz", "can't read 'xyz': type a move like e4-e5, or help"),
    ("e4--e5", "can't read 'e4--e5'"),
    ("g1-g2", "g1 is not on the 6x6 board (a1..f6)"),
    ("moves e9", "e9 is not on the 6x6 board"),
])
def test_parse_command_errors(text, message):
  with pytest.raises(human_input.CommandError, match=re.escape(message)):
    human_input.parse_command(SMALL, text)


def test_two_square_rule_is_named():
  game = pyspiel.load_game("stratego", {
      "variant": "small", "setup": "M/M"})  # Marshals on a1 and a6.
  state = game.new_initial_state()
  for text in ("a1-a2", "a6-a5", "a2-a1", "a5-a6", "a1-a2", "a6-a5"):
    src, dst = (config.parse_square(SMALL, s) for s in text.split("-"))
    state.apply_action(human_input.action_of(SMALL, src, dst))
  why = human_input.explain_illegal(
      SMALL, state.position, (True, True), False,
      config.parse_square(SMALL, "a2"), config.parse_square(SMALL, "a1"),
      state.legal_actions())
  assert why.startswith("two-square rule")


def test_colour_output_has_the_same_text():
  lines = human_view.board_view(SMALL, [0] * 36, [-1] * 36, [False] * 36, 0)
  plain, colour = io.StringIO(), io.StringIO()
  for screen in (human_view.Screen(plain, False),
                 human_view.Screen(colour, True)):
    for line in lines:
      screen.line(line)
  assert "\x1b[" in colour.getvalue()
  stripped = re.sub(r"\x1b\[[0-9;]*m", "", colour.getvalue())
  assert [l.rstrip() for l in stripped.splitlines()] == [
      l.rstrip() for l in plain.getvalue().splitlines()]
