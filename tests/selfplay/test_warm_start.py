"""Warm start by imitation (`selfplay.warm_start`): the loss against hand
computation, the labelled bot, that the clone learns the bot, and that a run
checkpoints the clone as its step 0 and restarts a warm start cut short."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents.core import Checkpointer, make_mesh, runs
from agents.rnad.imitation import imitation_loss
from agents.rnad.networks import NetOutput
from games.stratego.bots import heuristic as stratego_heuristic
from selfplay import anakin
from selfplay import config as config_lib
from selfplay import logging as log_lib
from selfplay import warm_start
from selfplay.config import WarmStartConfig
from selfplay.rollout import Trajectory, rollout


def _smoke(**warm):
  config = config_lib.load("stratego_smoke")
  return dataclasses.replace(
      config, warm_start=WarmStartConfig(**{"batch_size": 4, **warm}))


def test_imitation_loss_matches_hand_computation():
  # T=2 steps, B=1 game, 3 actions; step 1 is after the game's end.
  logits = jnp.array([[[0.0, 1.0, 2.0]], [[5.0, 5.0, 5.0]]])
  value = jnp.array([[0.5], [0.0]])

  def apply(params, obs):
    del params, obs
    return NetOutput(logits=logits, value=value)

  traj = Trajectory(
      obs=jnp.zeros((2, 1, 1)),
      legal=jnp.array([[[True, True, False]], [[True, True, True]]]),
      acting=jnp.array([[1], [0]]), valid=jnp.array([[True], [False]]),
      action=jnp.zeros((2, 1), jnp.int32),
      policy=jnp.array([[[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]]]),
      rewards=jnp.array([[[1.0, -1.0]], [[0.0, 0.0]]]))
  loss, metrics = imitation_loss(apply, None, traj,
                                            value_weight=0.5)
  # Legal softmax over logits 0 and 1: p(1) = e / (1 + e).
  ce = -math.log(math.e / (1 + math.e))
  mse = (0.5 - (-1.0)) ** 2  # player 1 acted and lost
  assert float(metrics["loss_policy"]) == pytest.approx(ce, rel=1e-5)
  assert float(metrics["loss_value"]) == pytest.approx(mse, rel=1e-5)
  assert float(loss) == pytest.approx(ce + 0.5 * mse, rel=1e-5)
  assert float(metrics["accuracy"]) == 1.0  # argmax over legal is action 1


@pytest.fixture(scope="module")
def labelled_games():
  """`play(key, epsilon)`: 8 smoke-config games of the labelled heuristic."""
  config = _smoke()
  game, _ = anakin.build(config)
  play = jax.jit(lambda k, e: rollout(
      game, warm_start.labelled_bot(game, "heuristic", e), k, 8,
      game.max_episode_length))
  return game, play


def test_labelled_bot_labels_the_bots_choice_and_explores(labelled_games):
  game, play = labelled_games
  bot = stratego_heuristic.heuristic_policy(game)
  for epsilon in (0.0, 1.0):
    traj = play(jax.random.key(0), epsilon)
    valid = np.asarray(traj.valid)
    labels = np.asarray(jnp.argmax(traj.policy, -1))
    actions = np.asarray(traj.action)
    assert np.asarray(traj.legal)[valid, actions[valid]].all()
    assert np.asarray(traj.legal)[valid, labels[valid]].all()
    same = (labels == actions)[valid]
    if epsilon == 0.0:
      assert same.all()  # the bot plays its own label
    else:
      assert same.mean() < 0.5  # uniformly random moves
  # Labels are the bot's choice in the recorded position (tie-breaking
  # noise aside, which only picks among equal scores).
  t = game.deploy_total + 4  # a play-phase position
  keys = jax.random.split(jax.random.key(1), 8)
  again = np.asarray(jax.vmap(bot)(traj.obs[t], traj.legal[t], keys))
  live = valid[t]
  assert live.any()
  assert np.mean(again[live] == labels[t][live]) >= 0.5


def test_warm_start_learns_the_bot_and_seeds_every_policy(labelled_games):
  _, play = labelled_games
  config = _smoke(steps=1000, learning_rate=3e-3, log_every=1)
  game, agent = anakin.build(config)
  fresh = runs.fresh_state(agent, 0)
  held_out = jax.tree.map(  # 16 games
      lambda a, b: jnp.concatenate([a, b], 1),
      play(jax.random.key(98), 0.3), play(jax.random.key(99), 0.3))

  def cross_entropy(params):
    return float(imitation_loss(
        agent.networks.apply, params, held_out, 0.0)[1]["loss_policy"])

  seen = []
  state, metrics = warm_start.warm_start(
      game, agent, fresh, config.warm_start, mesh=make_mesh(1),
      should_stop=lambda: len(seen) >= 40,
      report=lambda done, m: seen.append(done))
  assert metrics["steps"] == 40 and metrics["seconds"] > 0  # stopped
  assert seen == list(range(1, 41))
  before, after = cross_entropy(fresh.params), cross_entropy(state.params)
  assert after < before - 0.15, (before, after)
  for p in state.extras:  # target and regularisation policies: the clone
    jax.tree.map(np.testing.assert_array_equal, p, state.params)
  assert int(state.step) == 0
  jax.tree.map(np.testing.assert_array_equal,
               agent.optimizer.init(state.params), state.opt_state)


def test_warm_start_sharded_over_devices_equals_one_device(tmp_path):
  config = _smoke(steps=3)
  game, agent = anakin.build(config)
  fresh = runs.fresh_state(agent, 0)
  clones = [warm_start.warm_start(game, agent, fresh, config.warm_start,
                                  mesh=make_mesh(n))
            for n in (1, 4)]
  (one, m1), (four, m4) = clones
  assert m1["steps"] == m4["steps"] == 3
  assert m1["accuracy"] == pytest.approx(m4["accuracy"], abs=1e-6)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4,
                                                       atol=1e-5),
               one.params, four.params)
  with pytest.raises(ValueError, match="batch size 4 is not divisible"):
    warm_start.warm_start(game, agent, fresh, config.warm_start,
                          mesh=make_mesh(8))
  config = dataclasses.replace(config, run=dataclasses.replace(
      config.run, num_devices=8))
  with pytest.raises(ValueError, match="warm_start.batch_size"):
    anakin.train(config, tmp_path / "run")
  assert not (tmp_path / "run").exists()


def test_run_checkpoints_the_clone_and_redoes_a_cut_warm_start(
    tmp_path, monkeypatch):
  config = _smoke(steps=3)
  config = dataclasses.replace(
      config, run=dataclasses.replace(config.run, num_steps=2))
  run_dir = tmp_path / "run"
  real = warm_start.warm_start

  def interrupted(game, agent, state, cfg, **kwargs):
    del game, agent, cfg, kwargs
    return state, {"steps": 1, "seconds": 0.0}

  # A warm start cut short (by a signal) saves nothing ...
  monkeypatch.setattr(warm_start, "warm_start", interrupted)
  result = anakin.train(config, run_dir, progress="off")
  assert (result.step, result.stop_reason) == (0, "signal")
  checkpoints = run_dir / "checkpoints"
  assert not checkpoints.exists() or not list(checkpoints.iterdir())
  # ... and --resume starts the run again, warm start first.
  monkeypatch.setattr(warm_start, "warm_start", real)
  result = anakin.train(config, run_dir, resume=True, progress="off")
  assert result.step == 2
  first = [r for r in log_lib.read_metrics(run_dir) if r["step"] == 0]
  assert len(first) == 1
  assert first[0]["warm_start/steps"] == 3
  assert 0.0 <= first[0]["warm_start/accuracy"] <= 1.0
  assert "vs_heuristic/win" in first[0]  # the clone's own evaluation
  assert first[0]["elapsed_s"] >= first[0]["warm_start/seconds"]
  game, agent = anakin.build(config)
  checkpointer = Checkpointer(run_dir, read_only=True)
  try:
    assert 0 in checkpointer.all_steps()
    state, _ = checkpointer.restore(runs.fresh_state(agent, 0), step=0)
  finally:
    checkpointer.close()
  fresh = runs.fresh_state(agent, config.run.seed)
  moved = jax.tree.leaves(jax.tree.map(
      lambda a, b: np.abs(np.asarray(a) - np.asarray(b)).max(),
      state.params, fresh.params))
  assert max(moved) > 0  # the checkpoint holds the clone, not the init
  for p in state.extras:
    jax.tree.map(np.testing.assert_array_equal, p, state.params)


def test_bad_warm_start_settings_are_named():
  with pytest.raises(ValueError, match="warm_start.epsilon"):
    WarmStartConfig(epsilon=1.5)
  with pytest.raises(ValueError, match="warm_start.steps"):
    WarmStartConfig(steps=-1)
  with pytest.raises(ValueError, match="warm_start.batch_size"):
    WarmStartConfig(batch_size=0)
  with pytest.raises(ValueError, match="no bot 'nobody'"):
    anakin.train(_smoke(steps=1, bot="nobody"), "/nonexistent/run",
                 progress="off")
  with pytest.raises(ValueError, match="warm_start.epsilon"):
    config_lib.load("stratego_smoke", ["warm_start.epsilon=2"])
  # Both a warm start and a network from another run: refused before any
  # work, naming both settings.
  both = _smoke(steps=1)
  both = dataclasses.replace(both, run=dataclasses.replace(
      both.run, init_from="/some/run"))
  with pytest.raises(ValueError, match="run.init_from and warm_start.steps"):
    anakin.train(both, "/nonexistent/run", progress="off")
