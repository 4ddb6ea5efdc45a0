"""Potential-based reward shaping: Stratego's material potential, the
rollout's shaped rewards, and the run option."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games
from games.stratego import config as stratego_config
from games.stratego import env
from selfplay import anakin
from selfplay import config as config_lib
from selfplay.rollout import rollout, uniform_policy

_SMALL = env.Stratego(variant_name="small", deployment="fixed")
# One army of the small variant: Spy 3, 2 Scouts 2, 2 Miners 5, Sergeant 1,
# General 6, Marshal 8, 3 Bombs 3, Flag 0.
_ARMY = 28.0


def _move(game, st, move):
  src, dst = (stratego_config.parse_square(game.variant, x)
              for x in move.split("-"))
  t = game.tables
  (ids,) = np.nonzero((t.action_from == src) & (t.action_to == dst))
  return env.jitted(game)[2](st, int(ids[0]))


def test_army_value_is_the_sum_of_the_table():
  army = _SMALL.variant.army
  assert float(np.dot(army, stratego_config.PIECE_VALUES)) == _ARMY


def test_stratego_potential_is_the_material_lead_share_of_an_army():
  # 6 bF .. .. .. .. ..
  # 4 b9 .. .. .. .. ..      the Marshal (8) takes the General (6)
  # 3 rM .. .. .. .. ..
  # 1 rF .. .. .. .. r2      red: 8 + 1, blue: 6
  setup = "F....2......M...../F...........9....."
  _, init_from_board, _ = env.jitted(_SMALL)
  st = init_from_board(*stratego_config.parse_setup(_SMALL.variant, setup))
  np.testing.assert_allclose(_SMALL.potential(st), [3 / _ARMY, -3 / _ARMY])
  st = _move(_SMALL, st, "a3-a4")
  assert stratego_config.PIECE_CHARS[int(st.rank[18])] == "M"
  np.testing.assert_allclose(_SMALL.potential(st), [9 / _ARMY, -9 / _ARMY])


def test_retired_flag_danger_is_a_one_line_error_saying_what_to_do():
  # As `games.make` gets it from a run's config (`game.params`), old or new.
  params = (("variant", "small"), ("flag_danger", 0.15))
  with pytest.raises(ValueError, match="flag_danger was retired") as e:
    games.make("stratego", **dict(params))
  assert "train without it" in str(e.value)
  assert len(str(e.value).splitlines()) == 1


def test_stratego_potential_is_zero_during_deployment_and_at_the_start():
  game = env.Stratego(variant_name="small", deployment="phase")
  st = game.init(jax.random.key(0))
  step = env.jitted(game)[2]
  first_legal = jax.jit(lambda st: jnp.argmax(game.legal_action_mask(st)))
  potential = jax.jit(game.potential)
  for _ in range(game.variant.num_pieces + 3):  # one army placed, not both
    np.testing.assert_array_equal(potential(st), [0.0, 0.0])
    st = step(st, first_legal(st))
  random_setup = env.Stratego(variant_name="small").init(jax.random.key(1))
  np.testing.assert_array_equal(_SMALL.potential(random_setup), [0.0, 0.0])


@pytest.fixture(scope="module")
def shaped_and_plain():
  game = env.Stratego(variant_name="small", max_plies=60)
  play = jax.jit(lambda s: rollout(game, uniform_policy, jax.random.key(3), 8,
                                   game.max_episode_length, shaping=s),
                 static_argnums=0)
  return game, play(0.5), play(0.0)


def test_shaping_leaves_each_games_total_reward_unchanged(shaped_and_plain):
  _, shaped, plain = shaped_and_plain
  np.testing.assert_allclose(shaped.rewards.sum(0), plain.rewards.sum(0),
                             atol=1e-5)
  np.testing.assert_allclose(shaped.rewards.sum(-1), 0.0, atol=1e-6)


def test_shaping_credits_each_capture_when_it_happens(shaped_and_plain):
  game, shaped, plain = shaped_and_plain
  extra = np.asarray(shaped.rewards - plain.rewards)[..., 0]  # red's [T, B]
  # Replay the games to see the material after each step, independently of
  # the rollout: a step's shaping is half the change of red's material lead,
  # except the last step of a game, which returns the lead accumulated.
  values = np.asarray(stratego_config.PIECE_VALUES)
  step = jax.jit(jax.vmap(game.step))
  states = jax.vmap(game.init)(jax.random.split(
      jax.random.split(jax.random.key(3))[0], 8))

  def lead(st):
    v = values[np.asarray(st.rank)]
    own = np.asarray(st.owner)
    return ((v * (own == 0)).sum(-1) - (v * (own == 1)).sum(-1)) / _ARMY

  captures = 0
  for t in range(extra.shape[0]):
    before, done = lead(states), np.asarray(states.terminated)
    states = step(states, shaped.action[t])
    after = np.where(np.asarray(states.terminated), 0.0, lead(states))
    want = np.where(done, 0.0, 0.5 * (after - before))
    np.testing.assert_allclose(extra[t], want, atol=1e-5)
    captures += int(np.sum(np.abs(want) > 0))
  assert captures > 8  # the check saw battles, not just quiet moves


def test_run_option_is_validated_and_needs_a_potential(tmp_path):
  with pytest.raises(ValueError, match="reward_shaping must be a finite"):
    config_lib.LeagueConfig(reward_shaping=-1.0)
  with pytest.raises(NotImplementedError, match="no potential"):
    games.make("kuhn_poker").potential(None)
  experiment = config_lib.load("kuhn_rnad", ["run.reward_shaping=1.0"])
  with pytest.raises(ValueError, match="needs a game with a potential"):
    anakin.train(experiment, tmp_path / "run", num_steps=1, progress="off")
