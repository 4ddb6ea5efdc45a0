"""A third agent plugs in through the agent registry, from this file alone.

A linear softmax policy on Kuhn poker, trained by self-play REINFORCE, is
defined and registered here; the `arena` command then trains, checkpoints,
resumes, evaluates and plays it in a tournament without any edit of the
library (drivers, evaluation, players or the CLI).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import games
from agents.core import configs, init_train_state, registry, runs
from agents.core.experiment import EvalConfig, GameConfig, RunConfig
from arena import cli


@dataclasses.dataclass(frozen=True)
class LinearConfig:
  batch_size: int = 16
  learning_rate: float = 0.1

  def __post_init__(self):
    if self.batch_size <= 0:
      raise ValueError(f"agent.batch_size must be > 0, got {self.batch_size}")


@dataclasses.dataclass(frozen=True)
class LinearExperiment:
  game: GameConfig = dataclasses.field(
      default_factory=lambda: GameConfig(name="kuhn_poker"))
  agent: LinearConfig = dataclasses.field(default_factory=LinearConfig)
  run: RunConfig = dataclasses.field(default_factory=lambda: RunConfig(
      num_steps=400, steps_per_call=50, log_every=100, checkpoint_every=100))
  evaluation: EvalConfig = dataclasses.field(
      default_factory=lambda: EvalConfig(every=200))


class LinearAgent(NamedTuple):
  """What the Anakin driver and the evaluators ask of an agent."""

  optimizer: optax.GradientTransformation
  init: callable
  loss_fn: callable
  after_update: callable
  make_policy_fn: callable
  test_params: callable
  policy_probs: callable


def _make_linear(game: games.Game, config: LinearConfig) -> LinearAgent:
  optimizer = optax.sgd(config.learning_rate)
  (obs_size,) = game.observation_shape

  def probs(params, obs, legal, raw=False):
    del raw
    logits = obs @ params["w"]
    logits = logits + params["b"].reshape((1,) * (logits.ndim - 1) + (-1,))
    return jax.nn.softmax(jnp.where(legal, logits, -1e9), -1)

  def init(key):
    params = {"w": jnp.zeros((obs_size, game.num_actions)),
              "b": jnp.zeros((game.num_actions,))}
    return init_train_state(params, optimizer, key)

  def loss_fn(params, state, traj, key):  # REINFORCE on the mover's return
    del state, key
    to_go = jnp.cumsum(traj.rewards[::-1], 0)[::-1]  # [T, B, P]
    ret = jnp.take_along_axis(to_go, traj.acting[..., None], -1)[..., 0]
    pi = probs(params, traj.obs, traj.legal)
    logp = jnp.log(jnp.take_along_axis(pi, traj.action[..., None],
                                       -1)[..., 0] + 1e-9)
    count = jnp.maximum(jnp.sum(traj.valid), 1)
    loss = -jnp.sum(jnp.where(traj.valid, logp * ret, 0.0)) / count
    return loss, {"mean_return": jnp.mean(jnp.sum(traj.rewards[..., 0], 0))}

  def make_policy_fn(state):
    def policy_fn(obs, legal, key):
      p = probs(state.params, obs, legal)
      action = jax.random.categorical(key, jnp.log(p + 1e-12), -1)
      return action.astype(jnp.int32), p
    return policy_fn

  return LinearAgent(optimizer=optimizer, init=init, loss_fn=loss_fn,
                     after_update=lambda s: s, make_policy_fn=make_policy_fn,
                     test_params=lambda s: s.params, policy_probs=probs)


def _build(config: LinearExperiment):
  game = games.make(config.game.name, **config.game.kwargs)
  return game, _make_linear(game, config.agent)


# Registered at import, as a plugin module would: a fresh process (e.g. a
# tournament worker) that reads a run directory imports this module by the
# name its config.json records, and finds the agent again.
registry.register(registry.AgentType(name="linear", experiment=LinearExperiment,
                                     driver="anakin", build=_build))

UNIFORM_KUHN_NASHCONV = 0.9167  # NashConv of the uniform policy in Kuhn


def _config_file(tmp_path: pathlib.Path) -> pathlib.Path:
  path = tmp_path / "linear_kuhn.py"
  path.write_text(f"from {__name__} import LinearExperiment\n\n\n"
                  "def get_config():\n  return LinearExperiment()\n")
  return path


def _arena(capsys, *argv: str) -> tuple[int, str, str]:
  code = cli.main([str(a) for a in argv])
  out = capsys.readouterr()
  return code, out.out, out.err


def test_a_registered_agent_trains_resumes_evaluates_and_plays(tmp_path,
                                                              capsys):
  cfg = _config_file(tmp_path)
  run, whole = tmp_path / "run", tmp_path / "whole"
  # Train half, then resume to the end; the same run in one go agrees.
  code, out, err = _arena(capsys, "train", cfg, "--out", run, "--steps", "200",
                          "--no-progress")
  assert code == 0, err
  assert "stopped at step 200" in out and "NashConv" in out  # evaluations
  saved = json.loads((run / "config.json").read_text())
  assert saved["type"] == "LinearExperiment" and saved["module"] == __name__
  assert runs.read_run(run).state.step == 200
  code, out, err = _arena(capsys, "train", "--resume", run, "--steps", "400",
                          "--no-progress")
  assert code == 0 and "stopped at step 400" in out, err
  code, _, err = _arena(capsys, "train", cfg, "--out", whole, "--steps", "400",
                        "--no-progress")
  assert code == 0, err
  resumed, straight = runs.read_run(run), runs.read_run(whole)
  chex.assert_trees_all_close(resumed.state.params, straight.state.params,
                              rtol=1e-5, atol=1e-6)
  # It learnt something: exact NashConv well below the uniform policy's.
  code, out, err = _arena(capsys, "eval", "nashconv", run)
  assert code == 0, err
  nash_conv = float(out.split("nash_conv:")[1].split()[0])
  assert nash_conv < UNIFORM_KUHN_NASHCONV - 0.2, out
  assert "nash_conv_raw" not in out  # the agent has no post-processing
  # A tournament plays it (in a worker process) against the random bot.
  spec = tmp_path / "t.toml"
  spec.write_text(
      'game = "kuhn_poker"\ngames_per_pair = 40\nseed = 3\nworkers = 2\n'
      f'store = "{tmp_path / "t.sqlite"}"\nplot = "{tmp_path / "t.png"}"\n'
      f'[[players]]\nname = "linear"\nspec = "{run}"\n'
      '[[players]]\nname = "random"\nspec = "random"\n')
  code, out, err = _arena(capsys, "tournament", spec, "--no-progress")
  assert code == 0, err
  assert "played 40 games" in out and "linear" in out
  assert (tmp_path / "t.png").stat().st_size > 0


def test_an_unregistered_experiment_type_is_a_clear_error(tmp_path, capsys):
  run = tmp_path / "run"
  run.mkdir()
  (run / "config.json").write_text(json.dumps(
      {"type": "NoSuchExperiment", "module": "no.such.module", "config": {}}))
  code, _, err = _arena(capsys, "eval", "nashconv", run)
  assert code == 2
  assert "unknown experiment type 'NoSuchExperiment'" in err
  assert err.count("\n") == 1  # one line, no traceback


def test_registering_another_class_under_a_taken_name_is_refused():
  @dataclasses.dataclass(frozen=True)
  class LinearExperiment:  # pylint: disable=redefined-outer-name
    game: GameConfig = GameConfig()

  with pytest.raises(ValueError, match="already registered"):
    registry.register(registry.AgentType(
        name="other", experiment=LinearExperiment, driver="anakin",
        build=_build))
  with pytest.raises(ValueError, match="unknown driver 'podracer'"):
    registry.AgentType(name="x", experiment=LinearExperiment,
                       driver="podracer", build=_build)
  assert registry.get("LinearExperiment").name == "linear"
  assert configs.from_json(configs.to_json(
      globals()["LinearExperiment"]())) == globals()["LinearExperiment"]()
  np.testing.assert_equal(registry.for_config(
      globals()["LinearExperiment"]()).driver, "anakin")
