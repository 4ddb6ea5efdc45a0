"""Stratego bots (`games.stratego.bots`): the heuristic's decisions, its
deployment, matches (`games.match`), pyspiel.

Positions use the `small` variant (6x6, lakes on b3, b4, e3, e4); boards are
drawn with rank 6 on top, red (first player) at the bottom, `?` for a piece
the player to move cannot identify.
"""

import functools

import jax
import numpy as np
import pyspiel
import pytest

import games  # Also registers "stratego" with pyspiel.
from games import match
from games.stratego import bots
from games.stratego import config
from games.stratego import env
from games.stratego import spiel
from games.stratego.bots import beliefs

SMALL = env.Stratego(variant_name="small", deployment="phase")
FIXED = env.Stratego(variant_name="small", deployment="fixed")
_SERGEANT = 4


@functools.lru_cache(maxsize=None)
def _jitted(game: env.Stratego):
  """(observe, legal, heuristic) of one state, jitted for `game`."""
  return (jax.jit(game.observe), jax.jit(game.legal_action_mask),
          jax.jit(functools.partial(bots.heuristic_action, game)))


def _position(red: list[str], blue: list[str], moves: list[str]):
  """The JAX state after `moves` from a setup (ranks from each back rank).

  The moves are played in the pyspiel game (plain-Python rules, nothing to
  compile) and the position converted; `observe` needs no more of it.
  """
  setup = "".join(red) + "/" + "".join(blue)
  state = pyspiel.load_game("stratego", {"variant": "small",
                                         "setup": setup}).new_initial_state()
  for move in moves:
    (action,) = [a for a in state.legal_actions()
                 if state.action_to_string(a) == move]
    state.apply_action(action)
  assert not state.is_terminal()
  legal = np.zeros(FIXED.num_actions, bool)
  legal[state.legal_actions()] = True
  return spiel.to_jax_state(FIXED, state.position), legal


def _heuristic_moves(position, num_keys: int = 8) -> set[str]:
  """The moves the heuristic plays in `position` over `num_keys` keys."""
  st, legal = position
  observe, _, act = _jitted(FIXED)
  obs = observe(st, int(st.current_player))
  return {FIXED.action_to_string(st, int(act(obs, legal, jax.random.key(k))))
          for k in range(num_keys)}


def test_takes_a_revealed_weaker_piece():
  # 6 bF .. .. .. .. ..
  # 3 .. ~~ r9 b2 ~~ ..     the blue Scout went d5-d3 (two squares: revealed)
  # 2 .. .. .. .. .. r4
  # 1 rF .. .. .. .. ..
  st = _position(["F....4", "......", "..9..."], ["F.....", "...2.."],
                 ["f1-f2", "d5-d3"])
  assert _heuristic_moves(st) == {"c3-d3"}


def test_does_not_attack_a_revealed_stronger_piece_and_retreats():
  # 6 bF .. .. .. .. ..
  # 3 .. ~~ r3 b9 ~~ ..     the blue General took the red Scout on d3
  # 2 .. .. .. .. .. r4
  # 1 rF .. .. .. .. ..
  st = _position(["F....4", "......", "..32.."], ["F.....", "......",
                                                   "...9.."],
                 ["f1-f2", "d4-d3"])
  moves = _heuristic_moves(st)
  assert "c3-d3" not in moves
  assert moves <= {"c3-c2", "c3-c4"}  # The threatened Miner steps away.


@pytest.mark.parametrize("red,blue,want", [
    ("M", "4", {"a3-a4"}),  # The Marshal takes what can only be a Sergeant.
    ("4", "9", {"a3-a2"}),  # A Sergeant backs away from a General.
])
def test_attacks_an_unknown_moved_piece_only_when_it_must_win(red, blue,
                                                              want):
  # 6 b? b? .. .. .. ..     blue: Flag and Bomb (unmoved), and one piece that
  # 4 b? ~~ .. .. ~~ ..     came from a5 (moved: neither Bomb nor Flag, so
  # 3 r* ~~ .. .. ~~ ..     the piece `blue` is the only one it can be)
  # 2 .. .. .. .. .. r3
  # 1 rF .. .. .. .. ..
  st = _position(["F....3", "......", red + "....."],
                 ["FB....", blue + "....."], ["f1-f2", "a5-a4"])
  assert _heuristic_moves(st) == want


def test_beliefs_exclude_bombs_and_flag_from_moved_pieces():
  st, _ = _position(["F....3", "......", "M....."],
                    ["FB....", "4....."], ["f1-f2", "a5-a4"])
  observe, _, _ = _jitted(FIXED)
  view = beliefs.read(FIXED.variant, observe(st, 0))
  belief = np.asarray(view.belief)
  a4, a6, b6 = (config.parse_square(FIXED.variant, s) for s in
                ("a4", "a6", "b6"))
  want = np.zeros(12)
  want[_SERGEANT - 1] = 1.0
  np.testing.assert_allclose(belief[a4], want)
  # Unmoved a6/b6: the Flag and the Bomb are unaccounted for, nothing else.
  want = np.zeros(12)
  want[[config.BOMB - 1, config.FLAG - 1]] = 0.5
  np.testing.assert_allclose(belief[[a6, b6]], [want, want], rtol=1e-6)
  assert np.asarray(view.enemy).sum() == 3 and not bool(view.second)


@functools.lru_cache(maxsize=None)
def _bot_game(seeds: tuple[int, int] = (11, 12)):
  """A pyspiel game of two heuristic bots.

  Returns the actions and, before each, the JAX state (what `observe`
  reads) and the legal mask.
  """
  game = _spiel_game("small")
  seats = [games.spiel_bot(game, "heuristic", p, seeds[p]) for p in (0, 1)]
  state = game.new_initial_state()
  actions, states, masks = [], [], []
  while not state.is_terminal():
    states.append(spiel.to_jax_state(SMALL, state.position))
    masks.append(np.zeros(SMALL.num_actions, bool))
    masks[-1][state.legal_actions()] = True
    actions.append(seats[state.current_player()].step(state))
    state.apply_action(actions[-1])
  return actions, states, masks


def test_spiel_bot_matches_the_jax_policy():
  seeds = (11, 12)
  actions, states, masks = _bot_game(seeds)
  assert len(actions) > 2 * SMALL.variant.num_pieces  # Deployed, then played.
  observe, _, act = _jitted(SMALL)
  for t, (st, legal, action) in enumerate(zip(states, masks, actions)):
    p = int(st.current_player)
    key = jax.random.fold_in(jax.random.key(seeds[p]), t)
    assert int(act(observe(st, p), legal, key)) == action, t


def test_decisions_ignore_the_opponents_hidden_ranks():
  _, states, masks = _bot_game()
  observe, _, act = _jitted(SMALL)
  rng = np.random.default_rng(0)
  checked = 0
  deployed = 2 * SMALL.variant.num_pieces
  for t, (st, legal) in enumerate(zip(states[deployed:], masks[deployed:])):
    p = int(st.current_player)
    rank = np.asarray(st.rank).copy()
    hidden = np.flatnonzero((np.asarray(st.owner) == 1 - p)
                            & ~np.asarray(st.revealed))
    rank[hidden] = rng.permutation(rank[hidden])
    if np.array_equal(rank, np.asarray(st.rank)):
      continue
    shuffled = st.replace(rank=rank)
    key = jax.random.key(t)
    assert int(act(observe(st, p), legal, key)) == int(
        act(observe(shuffled, p), legal, key))
    checked += 1
  assert checked >= 10


@pytest.mark.parametrize("variant", ["small", "barrage"])
def test_beats_random_in_vectorised_matches(variant):
  game = env.Stratego(variant_name=variant, deployment="phase")
  result = match.play_games(game, bots.heuristic_policy(game),
                            bots.random_policy(game), jax.random.key(0), 200)
  stats = match.summarize(result)
  assert stats["win"] >= 0.9, stats
  assert not np.asarray(result.illegal).any()
  assert np.asarray(result.a_first).sum() == 100
  # Every game ended before the step limit.
  assert np.asarray(result.num_steps).max() <= game.max_episode_length


def test_play_games_rejects_no_games():
  with pytest.raises(ValueError, match="num_games"):
    match.play_games(SMALL, bots.random_policy(SMALL),
                     bots.random_policy(SMALL), jax.random.key(0), 0)


def _spiel_game(variant: str, max_plies: int = 0) -> pyspiel.Game:
  return pyspiel.load_game("stratego", {"variant": variant,
                                        "max_plies": max_plies})


@pytest.mark.parametrize("variant,max_plies", [("small", 0), ("barrage", 0),
                                               ("classic", 150)])
def test_spiel_bot_deploys_sensibly_and_plays_legal_full_games(variant,
                                                               max_plies):
  game = _spiel_game(variant, max_plies)
  v = config.get_variant(variant)
  setups = []
  for seed in range(2):
    heuristic = games.spiel_bot(game, "heuristic", seed % 2, seed)
    randbot = games.spiel_bot(game, "random", 1 - seed % 2, seed)
    seats = [heuristic, randbot] if seed % 2 == 0 else [randbot, heuristic]
    state = game.new_initial_state()
    deployed = None
    while not state.is_terminal():
      player = state.current_player()
      action = seats[player].step(state)
      assert action in state.legal_actions()
      state.apply_action(action)
      if deployed is None and state.position.deploy_step == 2 * v.num_pieces:
        deployed = (np.asarray(state.position.rank).copy(),
                    np.asarray(state.position.owner).copy())
    rank, owner = deployed
    me = seed % 2
    mine = owner == me
    counts = np.bincount(rank[mine], minlength=13)
    np.testing.assert_array_equal(counts[1:], v.army[1:])
    assert np.all(np.isin(np.flatnonzero(mine),
                          config.home_squares(v, me)))
    (flag,) = np.flatnonzero(mine & (rank == config.FLAG))
    back_row = 0 if me == 0 else v.height - 1
    assert flag // v.width == back_row
    # A Bomb guards the Flag on an orthogonal neighbour.
    t = env.Stratego(variant_name=variant).tables
    assert any(rank[n] == config.BOMB and owner[n] == me
               for n in t.neighbours[flag] if n >= 0)
    setups.append(np.where(mine, rank, 0)[config.home_squares(v, me)])
  assert not np.array_equal(setups[0], setups[1])  # Setups vary.


def test_heuristic_bot_is_only_for_stratego():
  with pytest.raises(ValueError, match="no bot 'heuristic' for game "
                     "'kuhn_poker'; bots: random"):
    games.spiel_bot(pyspiel.load_game("kuhn_poker"), "heuristic", 0, 0)
  assert isinstance(games.spiel_bot(_spiel_game("small"), "heuristic", 1, 0),
                    bots.StrategoHeuristicBot)
  game = env.Stratego(variant_name="small")
  assert games.bot_policy(game, "heuristic") is bots.heuristic_policy(game)
