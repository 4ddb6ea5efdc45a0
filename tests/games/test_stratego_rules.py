"""Stratego rule positions: a setup, a move sequence, exact legal moves/outcome.

Setups list each player's ranks from its own back rank forward, files a..f
(small board) or a..j (classic); the boards are drawn in the comments with
rank 6 (or 10) on top, red (first player) at the bottom. Boards in the
`small` variant have lakes on b3, b4, e3, e4.
"""

import numpy as np
import pytest

from games.stratego import config
from games.stratego import env
from games.stratego import rules

SMALL = env.Stratego(variant_name="small", deployment="fixed")
CLASSIC = env.Stratego(variant_name="classic", deployment="fixed")


def _setup(red: list[str], blue: list[str]) -> str:
  """Joins rank strings (each from the player's own back rank forward)."""
  return "".join(red) + "/" + "".join(blue)


def _action(game: env.Stratego, move: str) -> int:
  src, dst = (config.parse_square(game.variant, x) for x in move.split("-"))
  t = game.tables
  (ids,) = np.nonzero((t.action_from == src) & (t.action_to == dst))
  assert len(ids) == 1, move
  return int(ids[0])


def _play(game: env.Stratego, setup: str, moves: list[str]):
  _, init_from_board, step = env.jitted(game)
  st = init_from_board(*config.parse_setup(game.variant, setup))
  for move in moves:
    a = _action(game, move)
    assert bool(game.legal_action_mask(st)[a]) and not bool(st.terminated), (
        f"{move} is not legal in\n{game.render(st)}")
    st = step(st, a)
  return st


def _legal(game: env.Stratego, st) -> list[str]:
  assert not bool(st.terminated)
  ids = np.flatnonzero(np.asarray(game.legal_action_mask(st)))
  return sorted(game.action_to_string(st, int(a)) for a in ids)


def _at(game: env.Stratego, st, square: str) -> str:
  """'r9' / 'b?'-style content of a square in the full view, '..' empty."""
  sq = config.parse_square(game.variant, square)
  owner, rank = int(st.owner[sq]), int(st.rank[sq])
  return ".." if owner < 0 else "rb"[owner] + config.PIECE_CHARS[rank]


def test_one_square_moves_lakes_own_pieces_bombs_and_flag():
  # 6 .. .. .. .. .. bF
  # 3 rM ~~ .. .. ~~ ..      the Marshal cannot enter the lake b3
  # 2 rB .. .. .. .. ..
  # 1 rF r3 .. .. .. ..      the Miner may not go onto its own Flag
  st = _play(SMALL, _setup(["F3....", "B.....", "M....."], [".....F"]), [])
  assert _legal(SMALL, st) == ["a3-a4", "b1-b2", "b1-c1"]


def test_scout_moves_along_open_lines_and_attacks_at_the_end():
  # 7 .. .. .. .. b3 .. .. .. .. ..
  # 5 .. .. ~~ ~~ .. .. ~~ ~~ .. ..
  # 4 .. .. .. .. r2 .. .. .. .. ..
  # 1 rF .. .. .. .. .. .. .. .. ..
  setup = _setup(["F" + "." * 9, "." * 10, "." * 10, "....2....."],
                 ["F" + "." * 9, "." * 10, "." * 10, "....3....."])
  st = _play(CLASSIC, setup, [])
  assert _legal(CLASSIC, st) == sorted(
      ["e4-e5", "e4-e6", "e4-e7", "e4-e3", "e4-e2", "e4-e1", "e4-d4",
       "e4-c4", "e4-b4", "e4-a4", "e4-f4", "e4-g4", "e4-h4", "e4-i4",
       "e4-j4"])
  st = _play(CLASSIC, setup, ["e4-e7"])  # The Scout loses to the Miner.
  assert _at(CLASSIC, st, "e7") == "b3" and _at(CLASSIC, st, "e4") == ".."
  sq = config.parse_square(CLASSIC.variant, "e7")
  assert bool(st.revealed[sq])


def test_scout_cannot_cross_lakes_or_pieces():
  # 6 .. .. ~~ ~~ .. ...      the Scout on c4 is stopped by the lake c5
  # 4 .. .. r2 r4 .. ...
  setup = _setup(["F" + "." * 9, "." * 10, "." * 10, "..24......"],
                 ["F" + "." * 9])
  st = _play(CLASSIC, setup, [])
  assert [m for m in _legal(CLASSIC, st) if m.startswith("c4")] == sorted(
      ["c4-c3", "c4-c2", "c4-c1", "c4-b4", "c4-a4"])


@pytest.mark.parametrize("attacker,defender,result", [
    ("9", "6", "r9"),  # The higher rank wins.
    ("6", "9", "b9"),  # The lower rank loses.
    ("5", "5", ".."),  # Equal ranks: both removed.
    ("S", "M", "rS"),  # The Spy wins when it attacks the Marshal...
    ("M", "S", "rM"),  # ... but not when the Marshal attacks it,
    ("S", "2", "b2"),  # ... and loses any other attack.
    ("3", "B", "r3"),  # A Miner removes a Bomb,
    ("9", "B", "bB"),  # any other attacker of a Bomb is removed.
])
def test_attack_outcomes(attacker, defender, result):
  # 6 bF .. .. .. .. b2
  # 4 bD .. .. .. .. ..     D: the defender
  # 3 rA .. .. .. .. ..     A: the attacker
  # 1 rF .. .. .. .. r2
  setup = _setup(["F....2", "......", attacker + "....."],
                 ["F....2", "......", defender + "....."])
  st = _play(SMALL, setup, ["a3-a4"])
  assert _at(SMALL, st, "a4") == result and _at(SMALL, st, "a3") == ".."
  sq = config.parse_square(SMALL.variant, "a4")
  assert bool(st.revealed[sq]) == (result != "..")
  assert not bool(st.terminated) and int(st.current_player) == 1
  # `rules.battle` (used by analyses of play) gives the same result.
  codes = [config.PIECE_CHARS.index(c) for c in (attacker, defender)]
  expected = {"r": 1, ".": 0, "b": -1}[result[0]]
  assert int(rules.battle(*map(np.int8, codes))) == expected


def test_taking_the_flag_wins():
  setup = _setup(["F....2", "......", "3....."], ["B....2", "......", "F"])
  st = _play(SMALL, setup, ["a3-a4"])
  assert bool(st.terminated)
  np.testing.assert_array_equal(st.returns, [1.0, -1.0])


def test_player_without_legal_move_loses():
  # After rM takes bS on a4, blue has only its Flag: blue loses.
  setup = _setup(["F.....", "......", "M....."], ["F.....", "......", "S"])
  st = _play(SMALL, setup, ["a3-a4"])
  assert bool(st.terminated)
  np.testing.assert_array_equal(st.returns, [1.0, -1.0])


def test_both_players_without_moves_is_a_draw():
  # r4 dies on the Bomb a4; then neither side has a movable piece.
  setup = _setup(["F.....", "......", "4....."], [".....F", "......", "B"])
  st = _play(SMALL, setup, ["a3-a4"])
  assert bool(st.terminated)
  np.testing.assert_array_equal(st.returns, [0.0, 0.0])


def test_first_player_stuck_at_the_start_loses():
  # 2 rB .. ..
  # 1 r3 rB ..     the Miner is walled in by its own Bombs
  st = _play(SMALL, _setup(["3B....", "B....."], ["2....F"]), [])
  assert bool(st.terminated)
  np.testing.assert_array_equal(st.returns, [-1.0, 1.0])


def test_ply_limit_is_a_draw():
  game = env.Stratego(variant_name="small", deployment="fixed", max_plies=2)
  setup = _setup(["F....2"], ["F....2"])
  st = _play(game, setup, ["f1-f2"])
  assert not bool(st.terminated)
  st = _play(game, setup, ["f1-f2", "f6-f5"])
  assert bool(st.terminated)
  np.testing.assert_array_equal(st.returns, [0.0, 0.0])


# The two-square rule's classic trap: rM and b9 shuttle between two squares.
# 5 .. .. b9 .. .. ..
# 2 .. .. rM .. .. ..
_SHUTTLE = _setup(["F.....", "..M..."], [".....F", "..9..."])
_SHUTTLE_MOVES = ["c2-c3", "c5-c4", "c3-c2", "c4-c5", "c2-c3", "c5-c4"]


def test_two_square_rule_forbids_a_fourth_move_between_two_squares():
  st = _play(SMALL, _SHUTTLE, _SHUTTLE_MOVES)
  assert _legal(SMALL, st) == ["c3-c4", "c3-d3"]  # Not c3-c2.
  st = _play(SMALL, _SHUTTLE, _SHUTTLE_MOVES + ["c3-d3"])
  assert "c4-c5" not in _legal(SMALL, st)  # Blue is caught the same way.
  assert "c4-b4" not in _legal(SMALL, st)  # (a lake)


def test_two_square_rule_can_be_switched_off():
  game = env.Stratego(variant_name="small", deployment="fixed",
                      two_square_rule=False)
  st = _play(game, _SHUTTLE, _SHUTTLE_MOVES)
  assert _legal(game, st) == ["c3-c2", "c3-c4", "c3-d3"]


def test_two_square_rule_for_scouts_uses_the_first_move_s_stretch():
  # The red Scout goes a2-a6, a6-a3, a3-a5: it may not come back down into
  # a2..a6 on its fourth move (a1 is its own Flag), but may go on up.
  setup = _setup(["F" + "." * 9, "2" + "." * 9],
                 ["." * 9 + "F", "." * 9 + "2"])
  moves = ["a2-a6", "j9-j8", "a6-a3", "j8-j9", "a3-a5", "j9-j8"]
  st = _play(CLASSIC, setup, moves)
  assert _legal(CLASSIC, st) == sorted(
      ["a5-a6", "a5-a7", "a5-a8", "a5-a9", "a5-a10", "a5-b5"])


# The more-squares rule's classic trap: r9 chases b4 round the 2x2 block
# c3-d3-d4-c4 and would bring back the position after its first threat.
# 4 .. ~~ b4 .. ~~ ..
# 3 .. ~~ .. .. ~~ ..
# 2 .. .. r9 .. .. ..
_CHASE = _setup(["F.....", "..9..."], [".....F", "......", "..4..."])
_CHASE_MOVES = ["c2-c3", "c4-d4", "c3-c4", "d4-d3", "c4-d4", "d3-c3",
                "d4-d3", "c3-c4"]


def test_more_squares_rule_forbids_repeating_a_position_of_the_chase():
  st = _play(SMALL, _CHASE, _CHASE_MOVES)
  # d3-c3 would restore "r9 c3, b4 c4", reached by the first threat.
  assert _legal(SMALL, st) == ["d3-d2", "d3-d4"]


def test_more_squares_rule_can_be_switched_off():
  game = env.Stratego(variant_name="small", deployment="fixed",
                      more_squares_rule=False)
  st = _play(game, _CHASE, _CHASE_MOVES)
  assert _legal(game, st) == ["d3-c3", "d3-d2", "d3-d4"]


def test_chasing_piece_may_go_back_where_it_came_from():
  # r9 threatens from d3, b4 evades to c4, r9 follows to c3, b4 returns to
  # d4: r9 may go back to d3 although that repeats the first position.
  setup = _setup(["F.....", "...9.."], [".....F", "......", "...4.."])
  st = _play(SMALL, setup, ["d2-d3", "d4-c4", "d3-c3", "c4-d4"])
  assert "c3-d3" in _legal(SMALL, st)


def test_deployment_phase_places_pieces_in_order_on_home_squares():
  game = env.Stratego(variant_name="small", deployment="phase")
  init, _, step = env.jitted(game)
  st = init(None)
  n = game.variant.num_pieces
  assert game.max_episode_length == 2 * n + game.max_plies
  assert sorted(np.flatnonzero(game.legal_action_mask(st))) == list(range(12))
  assert game.action_to_string(st, 0) == "F@a1"
  for i in range(2 * n):
    player = int(st.current_player)
    assert player == i // n
    home = config.home_squares(game.variant, player)
    free = [int(q) for q in home if int(st.owner[q]) < 0]
    assert sorted(np.flatnonzero(game.legal_action_mask(st))) == sorted(free)
    st = step(st, free[-1])  # Fill from the front rank backwards.
  assert int(st.current_player) == 0 and int(st.ply) == 0
  assert not bool(st.terminated)
  # The first piece placed, the Flag, took the last home square in setup
  # order: f2 for red, f5 for blue.
  assert _at(game, st, "f2") == "rF" and _at(game, st, "f5") == "bF"
