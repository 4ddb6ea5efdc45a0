"""The OpenSpiel Stratego game's deployments, and its link to the JAX game.

`deployment="random"` deploys with chance nodes; `Stratego.spiel_game_string`
and `Stratego.spiel_observation` let agents trained in JAX play the
OpenSpiel game (`agents.rnad.load_policy`).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
import pytest

import games
from games.stratego import config
from games.stratego import env


def test_chance_nodes_place_each_piece_uniformly_on_empty_home_squares():
  game = pyspiel.load_game("stratego(variant=small,deployment=random)")
  v = game.jax_game.variant
  order = game.jax_game.tables.deploy_order
  rng = np.random.default_rng(0)
  state = game.new_initial_state()
  for step in range(2 * v.num_pieces):
    player = step // v.num_pieces
    assert state.is_chance_node()
    empty = [int(q) for q in config.home_squares(v, player)
             if state.position.owner[q] < 0]
    outcomes = state.chance_outcomes()
    assert [a for a, _ in outcomes] == sorted(empty)
    assert len(empty) == v.home_rows * v.width - step % v.num_pieces
    np.testing.assert_allclose([p for _, p in outcomes], 1 / len(empty))
    assert state.legal_actions() == sorted(empty)
    square = int(rng.choice(empty))
    code = order[step % v.num_pieces]
    assert state.action_to_string(square) == (
        f"{config.PIECE_CHARS[code]}@{config.square_name(v, square)}")
    state.apply_action(square)
    assert state.position.rank[square] == code
    assert state.position.owner[square] == player
  # Deployed: the first player moves, each army is complete on its home.
  assert not state.is_chance_node() and state.current_player() == 0
  rank, owner = np.asarray(state.position.rank), np.asarray(
      state.position.owner)
  for player in (0, 1):
    mine = owner == player
    assert mine.sum() == v.num_pieces
    assert set(np.flatnonzero(mine)) <= set(config.home_squares(v, player))
    assert tuple(np.bincount(rank[mine], minlength=13)[1:]) == v.army[1:]


def test_random_deployment_draws_setups_like_the_jax_engine():
  """Flag squares over many setups: both uniform over the home squares."""
  jgame = games.make("stratego", variant="small", deployment="random")
  v = jgame.variant
  num = 1200
  home = config.home_squares(v, 0)
  ranks = jax.jit(jax.vmap(lambda k: jgame.init(k).rank))(
      jax.random.split(jax.random.key(0), num))
  jax_flags = np.argmax(np.asarray(ranks)[:, home] == config.FLAG, axis=1)
  game = pyspiel.load_game(jgame.spiel_game_string)
  rng = np.random.default_rng(1)
  spiel_flags = []
  for _ in range(num):
    state = game.new_initial_state()
    actions, probs = zip(*state.chance_outcomes())
    flag_square = rng.choice(actions, p=probs)  # The Flag is placed first.
    spiel_flags.append(int(np.flatnonzero(home == flag_square)[0]))
  for flags in (jax_flags, np.asarray(spiel_flags)):
    counts = np.bincount(flags, minlength=len(home))
    expected = num / len(home)
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 40, counts  # 11 degrees of freedom: p < 1e-4.


@pytest.mark.parametrize("kwargs", [
    dict(variant_name="small", deployment="random", max_plies=40),
    dict(variant_name="small", deployment="phase", max_plies=30,
         two_square_rule=False),
    dict(variant_name="small", deployment="fixed"),
    dict(variant_name="barrage", setup="F.M/.2B9", more_squares_rule=False),
])
def test_spiel_game_string_loads_the_same_game(kwargs):
  jgame = env.Stratego(**kwargs)
  game = pyspiel.load_game(jgame.spiel_game_string)
  assert game.jax_game == jgame
  assert game.num_distinct_actions() == jgame.num_actions
  state = game.new_initial_state()
  while state.is_chance_node():
    state.apply_action(state.chance_outcomes()[0][0])
  action = state.legal_actions()[0]
  assert jgame.spiel_action(state, action) == action
  assert jgame.our_action(state, action) == action


def test_bad_deployment_parameters_are_rejected():
  with pytest.raises(ValueError, match="deployment"):
    pyspiel.load_game("stratego(deployment=later)")
  with pytest.raises(ValueError, match="setup"):
    pyspiel.load_game("stratego", {"variant": "small", "setup": "F/F",
                                   "deployment": "random"})


@functools.partial(jax.jit, static_argnums=0)
def _jax_observations(jgame, rank, owner, actions):
  """Observations [T + 1, 2, H, W, C] along `actions` from a board."""

  def body(state, action):
    return jgame.step(state, action), state

  final, states = jax.lax.scan(body, jgame.init_from_board(rank, owner),
                               actions)
  states = jax.tree.map(lambda xs, x: jnp.concatenate([xs, x[None]]), states,
                        final)
  both = lambda s: jnp.stack([jgame.observe(s, 0), jgame.observe(s, 1)])
  return jax.vmap(both)(states), states.terminated


@pytest.mark.parametrize("kwargs,num_games", [
    (dict(variant_name="small", deployment="random", max_plies=60), 6),
    (dict(variant_name="small", deployment="phase", max_plies=40), 4),
    (dict(variant_name="small", deployment="fixed", max_plies=60), 4),
    (dict(variant_name="classic", deployment="random", max_plies=30), 2),
])
def test_spiel_observation_equals_jax_observation(kwargs, num_games):
  jgame = env.Stratego(**kwargs)
  game = pyspiel.load_game(jgame.spiel_game_string)
  v = jgame.variant
  rng = np.random.default_rng(0)
  for _ in range(num_games):
    state = game.new_initial_state()
    while state.is_chance_node():  # Random deployment: sample the setup.
      actions, probs = zip(*state.chance_outcomes())
      state.apply_action(int(rng.choice(actions, p=probs)))
    rank = np.asarray(state.position.rank, np.int8)
    owner = np.asarray(state.position.owner, np.int8)
    if jgame.deployment == "phase":
      assert (owner < 0).all()
    want, actions = [], []
    while True:
      want.append([jgame.spiel_observation(state, p) for p in (0, 1)])
      np.testing.assert_array_equal(
          np.asarray(state.observation_tensor(1)), want[-1][1].reshape(-1))
      if state.is_terminal():
        break
      actions.append(int(rng.choice(state.legal_actions())))
      state.apply_action(actions[-1])
    pad = jgame.max_episode_length - len(actions)
    got, terminated = _jax_observations(
        jgame, rank, owner, jnp.asarray(actions + [0] * pad, jnp.int32))
    got = np.asarray(got)[:len(want)]
    assert np.asarray(terminated)[len(actions)]
    assert not np.asarray(terminated)[len(actions) - 1]
    np.testing.assert_array_equal(got, np.asarray(want))
    assert got.shape[2:] == jgame.observation_shape == (v.height, v.width,
                                                        got.shape[-1])
