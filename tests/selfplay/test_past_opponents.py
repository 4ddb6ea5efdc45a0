"""Self-play against past versions: the rollout's opponent seat, the pool,
and a run that uses them."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games
from selfplay import anakin
from selfplay import config as config_lib
from selfplay import opponent_pool
from selfplay.rollout import rollout, uniform_policy

_KUHN = games.make("kuhn_poker")


def _first_legal(obs, legal, key):
  del obs, key
  a = jnp.argmax(legal, -1).astype(jnp.int32)
  return a, jax.nn.one_hot(a, legal.shape[-1])


def test_opponent_takes_exactly_its_seat():
  seats = jnp.array([-1, 0, 1, 0, 1, -1, -1, 1], jnp.int32)
  traj = rollout(_KUHN, uniform_policy, jax.random.key(0), 8,
                 _KUHN.max_episode_length, opponent_fn=_first_legal,
                 opponent_seat=seats)
  valid = np.asarray(traj.valid)
  theirs = (np.asarray(traj.acting) == np.asarray(seats)[None]) & valid
  mine = ~theirs & valid
  assert theirs.any() and mine.any()
  first = np.argmax(np.asarray(traj.legal), -1)
  action = np.asarray(traj.action)
  policy = np.asarray(traj.policy)
  np.testing.assert_array_equal(action[theirs], first[theirs])
  np.testing.assert_array_equal(policy[theirs].max(-1), 1.0)
  # The recorded behaviour policy elsewhere is the uniform self-play one.
  legal = np.asarray(traj.legal)
  np.testing.assert_allclose(policy[mine],
                             legal[mine] / legal[mine].sum(-1, keepdims=True))


def test_opponent_needs_its_seats():
  with pytest.raises(ValueError, match="go together"):
    rollout(_KUHN, uniform_policy, jax.random.key(0), 2, 3,
            opponent_fn=_first_legal)


def test_pool_keeps_latest_snapshots_and_draws_reproducibly():
  cfg = config_lib.LeagueConfig(past_opponents=2, past_opponent_every=10)
  pool = opponent_pool.OpponentPool(cfg, {"w": jnp.zeros(())}, step=0,
                                    seed=3)
  for step in range(1, 36):
    pool.maybe_add(step, {"w": jnp.float32(step)})
  # Step 10, 20, 30 entered new periods; the initial snapshot and step 10's
  # were dropped for the latest two.
  assert len(pool) == 2
  drawn = {float(pool.draw(s)["w"]) for s in range(50)}
  assert drawn == {20.0, 30.0}
  assert [float(pool.draw(s)["w"]) for s in range(10)] == [
      float(pool.draw(s)["w"]) for s in range(10)]


def test_bad_pool_settings_are_rejected():
  with pytest.raises(ValueError, match="past_opponent_fraction"):
    config_lib.LeagueConfig(past_opponent_fraction=1.5)
  with pytest.raises(ValueError, match="past_opponent_every"):
    config_lib.LeagueConfig(past_opponent_every=0)


def test_run_with_past_opponents_trains_on_different_games(tmp_path):
  small = ["run.steps_per_call=2", "run.log_every=4", "run.eval_every=0",
           "agent.batch_size=16", "agent.network.hidden_sizes=(8,)"]
  past = ["run.past_opponents=2", "run.past_opponent_every=2",
          "run.past_opponent_fraction=1.0"]
  runs = {}
  for name, extra in (("self", []), ("past", past), ("past_again", past)):
    cfg = config_lib.load("kuhn_rnad", small + extra)
    anakin.train(cfg, tmp_path / name, num_steps=8, progress="off")
    runs[name] = anakin.restore_run(tmp_path / name).state.params
  chex.assert_trees_all_equal(runs["past"], runs["past_again"])
  # Reproducible, and the games (so the parameters) differ from self-play's.
  assert not all(np.allclose(a, b) for a, b in zip(
      jax.tree.leaves(runs["self"]), jax.tree.leaves(runs["past"])))


_SMALL = ["run.steps_per_call=2", "run.log_every=4", "run.eval_every=0",
          "agent.batch_size=16", "agent.network.hidden_sizes=(8,)"]
_PAST = ["run.past_opponents=2", "run.past_opponent_every=2",
         "run.past_opponent_fraction=1.0"]


def test_resumed_run_keeps_its_pool_and_equals_uninterrupted_run(tmp_path):
  cfg = config_lib.load("kuhn_rnad", _SMALL + _PAST)
  anakin.train(cfg, tmp_path / "a", num_steps=12, progress="off")
  anakin.train(cfg, tmp_path / "b", num_steps=6, progress="off")
  anakin.train(cfg, tmp_path / "b", num_steps=12, resume=True, progress="off")
  a, b = anakin.restore_run(tmp_path / "a"), anakin.restore_run(tmp_path / "b")
  # With a pool restarted from the step-6 parameters the games after the
  # resumption, so the parameters, would differ.
  chex.assert_trees_all_equal(a.state.params, b.state.params)


def test_resume_without_a_saved_pool_starts_a_new_one(tmp_path, caplog):
  anakin.train(config_lib.load("kuhn_rnad", _SMALL), tmp_path, num_steps=4,
               progress="off")
  cfg = config_lib.load("kuhn_rnad", _SMALL + _PAST)
  result = anakin.train(cfg, tmp_path, num_steps=8, resume=True,
                        progress="off")
  assert result.step == 8
  assert "no pool of past opponents" in caplog.text
