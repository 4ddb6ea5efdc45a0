"""The OpenSpiel Stratego game: OpenSpiel's own checks, and agreement with JAX.

The OpenSpiel game runs `reference.Rules`, a plain-Python twin of the JAX
rules; random playthroughs of it are replayed in the JAX core (vmapped over
games, scanned over steps) and every step is compared.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
import pytest

import games  # noqa: F401  # Registers "stratego" with pyspiel.
from games.stratego import config
from games.stratego import spiel


@pytest.mark.parametrize("params,chance", [
    ({"variant": "small"}, False),
    ({"variant": "small", "deployment": "random"}, True),
    ({"variant": "small", "deployment": "fixed"}, False),
    ({"variant": "barrage", "max_plies": 100}, False),
    ({"variant": "barrage", "max_plies": 100, "deployment": "random"}, True),
    ({"variant": "classic", "max_plies": 60,
      "setup": config.default_setup(config.get_variant("classic"))}, False),
])
def test_random_sim_test(params, chance):
  game = pyspiel.load_game("stratego", params)
  mode = pyspiel.GameType.ChanceMode
  assert game.get_type().chance_mode == (
      mode.EXPLICIT_STOCHASTIC if chance else mode.DETERMINISTIC)
  assert game.max_chance_outcomes() == (
      game.jax_game.variant.num_squares if chance else 0)
  pyspiel.random_sim_test(game, num_sims=3, serialize=False, verbose=False)


def test_load_game_parameters_and_strings():
  setup = "F2M.../SB...F"
  game = pyspiel.load_game(
      "stratego", {"variant": "small", "setup": setup, "max_plies": 10,
                   "two_square_rule": False})
  assert game.num_distinct_actions() == 720
  assert game.max_game_length() == 10
  state = game.new_initial_state()
  moves = sorted(state.action_to_string(a) for a in state.legal_actions())
  assert moves == ["b1-b2", "c1-c2", "c1-d1"]  # b3 is a lake.
  assert "b?" in state.observation_string(0)
  assert "r?" in state.observation_string(1)
  assert "bS" in str(state) and "rM" in str(state)
  tensor = np.asarray(state.observation_tensor(0))
  assert tensor.shape == (int(np.prod(spiel.jax_game(
      {"variant": "small", "setup": setup}).observation_shape)),)
  deploy = pyspiel.load_game("stratego", {"variant": "small"})
  state = deploy.new_initial_state()
  assert state.action_to_string(0) == "F@a1"
  with pytest.raises(Exception, match="variant"):
    pyspiel.load_game("stratego", {"variant": "huge"})


def _spiel_playthroughs(params: dict, num_games: int, seed: int):
  """Random OpenSpiel games: actions [N, T] and per-step facts [N, T + 1]."""
  game = pyspiel.load_game("stratego", params)
  jgame = spiel.jax_game(params)
  steps = jgame.max_episode_length
  rng = np.random.default_rng(seed)
  actions = np.zeros((num_games, steps), np.int32)
  want = dict(
      mask=np.ones((num_games, steps + 1, jgame.num_actions), bool),
      terminated=np.ones((num_games, steps + 1), bool),
      returns=np.zeros((num_games, steps + 1, 2), np.float32),
      player=np.full((num_games, steps + 1), -1, np.int32),
      chaser=np.full((num_games, steps + 1), -1, np.int32),
  )
  for i in range(num_games):
    state = game.new_initial_state()
    for t in range(steps + 1):
      want["returns"][i, t:] = state.returns()
      if state.is_terminal():
        break
      want["terminated"][i, t] = False
      want["player"][i, t] = state.current_player()
      want["chaser"][i, t] = state.position.chaser
      legal = state.legal_actions()
      want["mask"][i, t] = False
      want["mask"][i, t, legal] = True
      actions[i, t] = legal[rng.integers(len(legal))]
      state.apply_action(int(actions[i, t]))
    assert state.is_terminal()
  return jgame, actions, want


@functools.partial(jax.jit, static_argnums=0)
def _jax_replay(jgame, rank, owner, actions):
  """Replays `actions` [N, T] from one board in the JAX core (vmapped)."""

  def one(actions):
    state = jgame.init_from_board(rank, owner)
    final, states = jax.lax.scan(
        lambda s, a: (jgame.step(s, a), s), state, actions)
    states = jax.tree.map(lambda xs, x: jnp.concatenate([xs, x[None]]),
                          states, final)
    return dict(mask=jax.vmap(jgame.legal_action_mask)(states),
                terminated=states.terminated,
                returns=states.returns, player=states.current_player,
                chaser=states.chaser)

  return jax.vmap(one)(actions)


@pytest.mark.parametrize("params,num_games", [
    # Deployment as part of the game, on the small board.
    ({"variant": "small", "max_plies": 40}, 1500),
    # A sparse board and long games: pieces meet often, the more-squares rule
    # bites now and then (a few times in these games; random play rarely
    # repeats a chase position).
    ({"variant": "small", "max_plies": 80,
      "setup": "F.B...9.2.../.F..B.2..4..."}, 500),
    # The full classic armies (barrage plays on the same board and rules).
    ({"variant": "classic", "max_plies": 40,
      "setup": config.default_setup(config.get_variant("classic"))}, 200),
])
def test_spiel_and_jax_agree_on_random_games(params, num_games):
  jgame, actions, want = _spiel_playthroughs(params, num_games, seed=0)
  if jgame.deployment == "fixed":
    rank, owner = config.parse_setup(jgame.variant, jgame.setup)
  else:
    rank = np.zeros(jgame.variant.num_squares, np.int8)
    owner = np.full(jgame.variant.num_squares, -1, np.int8)
  got = jax.device_get(_jax_replay(jgame, rank, owner, actions))
  got["player"] = np.where(want["terminated"], -1, got["player"])
  got["chaser"] = np.where(want["terminated"], -1, got["chaser"])
  for field, expected in want.items():
    differs = got[field] != expected
    differs = differs.reshape(*differs.shape[:2], -1).any(-1)
    if differs.any():
      i, t = (int(x) for x in np.argwhere(differs)[0])
      pytest.fail(f"{field} differs in game {i} at step {t} (actions "
                  f"{actions[i, :t].tolist()}):\n jax:   "
                  f"{np.flatnonzero(got[field][i, t]).tolist()}\n spiel: "
                  f"{np.flatnonzero(expected[i, t]).tolist()}")
  # The random games exercised chases and (small board) decisive endings.
  assert (want["chaser"] >= 0).any()
  if jgame.variant.name == "small":
    assert (want["returns"][:, -1, 0] != 0).mean() > 0.2
