"""Stratego as a `games.api.Game`: conformance, observation, registry, text."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games
from games import conformance
from games.stratego import config
from games.stratego import env
from games.stratego import observe
from games.stratego import rules
from games.stratego import ruleset


@pytest.mark.parametrize("kwargs,num_games", [
    (dict(variant="small", deployment="phase", max_plies=60), 16),
    (dict(variant="barrage", max_plies=40), 4),
    (dict(variant="classic", max_plies=30), 4),
])
def test_conformance(kwargs, num_games):
  conformance.check_game(games.make("stratego", **kwargs),
                         num_games=num_games)


def test_registry_builds_each_variant_and_rejects_bad_parameters():
  game = games.make("stratego", variant="barrage")
  assert isinstance(game, env.Stratego) and game.num_actions == 3600
  assert games.make("stratego", variant="small").num_actions == 4 * 5 * 36
  assert game == games.make("stratego", variant="barrage")
  assert hash(game) == hash(games.make("stratego", variant="barrage"))
  with pytest.raises(ValueError, match="variant"):
    games.make("stratego", variant="huge")
  with pytest.raises(ValueError, match="Setup"):
    games.make("stratego", variant="small", setup="F.....")
  with pytest.raises(ValueError, match="setup character"):
    games.make("stratego", variant="small", setup="X/F")
  with pytest.raises(ValueError, match="lake"):
    games.make("stratego", variant="small", setup="." * 12 + ".M/F")
  with pytest.raises(ValueError, match="deployment"):
    games.make("stratego", deployment="later")
  with pytest.raises(ValueError, match="max_plies"):
    games.make("stratego", max_plies=0)


def test_rules_are_a_frozen_hashable_value_with_defaults_resolved():
  game = games.make("stratego", variant="small", setup="F/F")
  assert game.rules == ruleset.Rules(
      variant_name="small", max_plies=game.variant.default_max_plies,
      two_square_rule=True, more_squares_rule=True, setup="F/F",
      deployment="fixed")
  assert game.rules is game.rules  # Built once.
  same = games.make("stratego", variant="small", setup="F/F")
  assert hash(same.rules) == hash(game.rules)
  assert (game.num_actions, game.num_planes, game.deploy_total) == (
      game.rules.num_actions, game.rules.num_planes, game.rules.deploy_total)
  with pytest.raises(dataclasses.FrozenInstanceError):
    game.rules.max_plies = 3  # pytype: disable=not-writable
  with pytest.raises(ValueError, match="deployment"):
    ruleset.Rules("small", 10, True, True, None, "later")
  # A static argument: equal rules compile once.
  init = jax.jit(rules.init, static_argnums=0)
  init(game.rules, jax.random.key(0))
  init(same.rules, jax.random.key(1))
  assert init._cache_size() == 1  # pylint: disable=protected-access


@pytest.mark.parametrize("variant", ["classic", "barrage", "small"])
def test_random_setups_deploy_the_army_on_home_squares(variant):
  game = games.make("stratego", variant=variant)
  rank, owner = rules.initial_board(game.rules, jax.random.key(3))
  v = game.variant
  for player in (0, 1):
    home = np.zeros(v.num_squares, bool)
    home[config.home_squares(v, player)] = True
    mine = np.asarray(owner) == player
    assert not (mine & ~home).any()
    counts = np.bincount(np.asarray(rank)[mine], minlength=13)
    assert tuple(counts[1:]) == v.army[1:]


def _random_position(game, key, plies):
  init, _, step = env.jitted(game)
  st = init(key)
  for k in jax.random.split(key, plies):
    st = step(st, jax.random.categorical(
        k, jnp.where(game.legal_action_mask(st), 0.0, -jnp.inf)))
  return st


def _permute_unrevealed(st, player, key):
  """Shuffles the ranks of `player`'s unrevealed pieces among their squares."""
  rank = np.asarray(st.rank).copy()
  hidden = np.flatnonzero((np.asarray(st.owner) == player)
                          & ~np.asarray(st.revealed))
  rank[hidden] = np.asarray(jax.random.permutation(key, rank[hidden]))
  return st.replace(rank=jnp.asarray(rank))


def test_observation_hides_unrevealed_opponent_ranks():
  game = games.make("stratego", variant="classic", max_plies=100)
  obs = jax.jit(game.observe)
  for seed in range(2):
    st = _random_position(game, jax.random.key(seed), 50)
    assert bool(np.asarray(st.revealed).any())  # Some fights happened.
    for player in (0, 1):
      shuffled = _permute_unrevealed(st, 1 - player, jax.random.key(7))
      assert not np.array_equal(shuffled.rank, st.rank)
      np.testing.assert_array_equal(obs(st, player), obs(shuffled, player))
      # The owner's own view does change.
      assert not np.array_equal(obs(st, 1 - player),
                                obs(shuffled, 1 - player))


def test_observation_planes_count_pieces_and_history():
  game = games.make("stratego", variant="classic", max_plies=100)
  st = _random_position(game, jax.random.key(5), 30)
  o = np.asarray(jax.jit(game.observe)(st, 0))
  assert o.shape == game.observation_shape
  owner, rank = np.asarray(st.owner), np.asarray(st.rank)
  assert o[..., 0:12].sum() == (owner == 0).sum()
  hidden = (owner == 1) & ~np.asarray(st.revealed)
  assert o[..., 24:26].sum() == hidden.sum()
  # Counts of unaccounted pieces: e.g. hidden blue Scouts over 8.
  np.testing.assert_allclose(o[0, 0, 28 + config.SCOUT - 1],
                             (hidden & (rank == config.SCOUT)).sum() / 8)
  assert o[..., 40].sum() == 8  # Lakes.
  last = o[..., 41].reshape(-1)  # The newest move: -1 at from, +1 at to.
  assert last[int(st.recent_from[-1])] == -1
  assert last[int(st.recent_to[-1])] == 1
  assert observe.NUM_CHANNELS == o.shape[-1]


def test_render_shows_hidden_enemy_pieces_as_question_marks():
  game = games.make("stratego", variant="small",
                    setup="F2M.../SB...F")
  st = env.jitted(game)[0](None)
  full, red, blue = (game.render(st, p) for p in (None, 0, 1))
  assert full.splitlines()[0] == " 6 bS bB .. .. .. bF"
  assert red.splitlines()[0] == " 6 b? b? .. .. .. b?"
  assert red.splitlines()[5] == " 1 rF r2 rM .. .. .."
  assert blue.splitlines()[5] == " 1 r? r? r? .. .. .."
  assert full.splitlines()[-1] == "   a  b  c  d  e  f"
  assert game.action_to_string(st, 1) == "b1-b2"  # Up, distance 1.
  assert game.action_to_string(st, 1 + 1 * 36) == "b1-b3"  # Up, 2.
  assert game.action_to_string(st, 2 + 15 * 36) == "c1-d1"  # Right, 1.
