"""Experiment configs: loading, overrides, JSON round trip."""

import json
import math
import re

import pytest

from agents.core import configs
from selfplay import config as config_lib


def test_bundled_configs_load_and_round_trip():
  for name in ("kuhn_rnad", "leduc_rnad", "configs/kuhn_rnad.py"):
    cfg = config_lib.load(name)
    assert config_lib.from_json(config_lib.to_json(cfg)) == cfg


def test_overrides_are_typed_and_nested():
  cfg = config_lib.load("kuhn_rnad", [
      "agent.batch_size=32", "agent.learning_rate=3e-4",
      "agent.network.hidden_sizes=(8, 4)", "agent.finetune.at_test_time=false",
      "agent.rho_vtrace=inf", "run.seed=4", "game.name=leduc_poker"])
  assert cfg.agent.batch_size == 32 and cfg.agent.learning_rate == 3e-4
  assert cfg.agent.network.hidden_sizes == (8, 4)
  assert cfg.agent.finetune.at_test_time is False
  assert math.isinf(cfg.agent.rho_vtrace) and cfg.run.seed == 4
  assert cfg.game.name == "leduc_poker"
  assert config_lib.from_json(config_lib.to_json(cfg)) == cfg


@pytest.mark.parametrize("override,match", [
    ("agent.bogus=1", "unknown config key 'agent.bogus'.*agent.batch_size"),
    ("nope.x=1", "unknown config key 'nope.x'.*game, agent, run"),
    ("agent.batch_size=1.5", "expected an integer"),
    ("agent.batch_size=0", "batch_size must be > 0"),
    ("agent.learning_rate=fast", "expected a number"),
    ("agent.network=3", "is a section"),
    ("agent.batch_size", "key=value"),
    ("run.steps_per_call=-1", "steps_per_call must be > 0"),
])
def test_bad_overrides_name_the_problem(override, match):
  with pytest.raises(ValueError, match=match):
    config_lib.load("kuhn_rnad", [override])


def test_bad_config_files(tmp_path):
  with pytest.raises(ValueError, match="not found.*kuhn_rnad"):
    config_lib.load("no_such_config")
  bad = tmp_path / "bad.py"
  bad.write_text("x = 1\n")
  with pytest.raises(ValueError, match="get_config"):
    config_lib.load(str(bad))
  bad.write_text("def get_config(:\n")
  with pytest.raises(ValueError, match="cannot load config"):
    config_lib.load(str(bad))
  with pytest.raises(ValueError, match="not a valid saved"):
    config_lib.from_json({"type": "Nope", "config": {}})


def test_settings_that_must_agree_can_change_together():
  # Each alone would disagree with the other's current value; the checks run
  # once all overrides are in.
  cfg = config_lib.load("stratego_small_rnad", [
      "agent.entropy_schedule_sizes=(100,)",
      "agent.entropy_schedule_repeats=(1,)"])
  assert cfg.agent.entropy_schedule_sizes == (100,)
  assert cfg.agent.entropy_schedule_repeats == (1,)
  with pytest.raises(ValueError, match="equal length"):
    config_lib.load("stratego_small_rnad",
                    ["agent.entropy_schedule_sizes=(100,)"])
  with pytest.raises(ValueError, match="warm_start.epsilon must be"):
    config_lib.load("stratego_small_rnad", [
        "warm_start.epsilon=3", "agent.batch_size=4"])


def _old_rnad_layout(config):
  """`config`'s saved JSON in the layout of before the policy loss was
  grouped (`agent.policy`) and the Q head, the value torso option and the
  fine-tuning phase were retired."""
  data = json.loads(json.dumps(configs.to_json(config)))
  agent = data["config"]["agent"]
  policy = agent.pop("policy")
  agent["policy_loss"] = policy["loss"]
  agent["neurd"] = {"beta": policy["neurd_beta"], "clip": policy["clip"]}
  agent["network"].update(q_head=False, shared_torso=True)
  agent["finetune"]["from_learner_steps"] = -1
  agent["q_sampled_correction"] = True
  return data


def test_old_rnad_config_json_loads_in_the_new_layout():
  cfg = config_lib.load("kuhn_rnad", ["agent.policy.loss=softmax_pg",
                                      "agent.policy.neurd_beta=10"])
  data = _old_rnad_layout(cfg)
  assert data["config"]["agent"]["policy_loss"] == "softmax_pg"
  assert data["config"]["agent"]["neurd"] == {"beta": 10.0, "clip": 10000.0}
  loaded = configs.from_json(data)
  assert loaded.agent.policy.loss == "softmax_pg"
  assert loaded.agent.policy.neurd_beta == 10
  assert loaded == cfg


@pytest.mark.parametrize("key, value", [
    ("network.q_head", True), ("network.shared_torso", False),
    ("finetune.from_learner_steps", 100), ("q_sampled_correction", False)])
def test_old_rnad_config_json_using_a_retired_setting_is_refused(key, value):
  data = _old_rnad_layout(config_lib.load("kuhn_rnad"))
  *parents, last = key.split(".")
  node = data["config"]["agent"]
  for part in parents:
    node = node[part]
  node[last] = value
  with pytest.raises(ValueError, match=rf"agent\.{key}=.*retired"):
    configs.from_json(data)


def test_old_rnad_overrides_set_the_new_policy_fields():
  cfg = configs.apply_overrides(config_lib.load("kuhn_rnad"), [
      "agent.policy_loss=softmax_pg", "agent.neurd.beta=4",
      "agent.neurd.clip=50"])
  assert cfg.agent.policy.loss == "softmax_pg"
  assert cfg.agent.policy.neurd_beta == 4.0
  assert cfg.agent.policy.clip == 50.0
  with pytest.raises(ValueError, match="agent.policy.loss must be"):
    configs.apply_overrides(cfg, ["agent.policy_loss=pg"])


@pytest.mark.parametrize("override", [
    "agent.network.q_head=true", "agent.network.shared_torso=false",
    "agent.finetune.from_learner_steps=100",
    "agent.q_sampled_correction=false"])
def test_overriding_a_retired_rnad_setting_is_refused(override):
  key = override.partition("=")[0]
  with pytest.raises(ValueError, match=rf"{key}.*retired"):
    configs.apply_overrides(config_lib.load("kuhn_rnad"), [override])


def test_game_parameters_are_typed_by_the_game():
  from games.stratego import StrategoParams
  config = config_lib.load("stratego_small_rnad")
  assert isinstance(config.game.params, StrategoParams)
  assert config.game.kwargs == {"variant": "small", "max_plies": 200,
                                "deployment": "phase"}  # the non-defaults
  barrage = config_lib.apply_overrides(config, [
      "game.params.variant=barrage", "game.params.max_plies=300"])
  assert barrage.game.kwargs == {"variant": "barrage", "max_plies": 300,
                                 "deployment": "phase"}
  # The untyped form of older commands and config files still works.
  old = config_lib.apply_overrides(config, [
      "game.params=(('variant','small'),('deployment','phase'),"
      "('max_plies',100))"])
  assert old.game.params == StrategoParams(variant="small",
                                           deployment="phase", max_plies=100)
  for override, message in [
      ("game.params.variant=huge", "Unknown Stratego variant 'huge'"),
      ("game.params.flag_danger=0.1", "valid keys here: game.params.variant"),
      ("game.params=(('nope',1),)", "unknown parameter 'nope' of game "
       "'stratego'; valid: variant, max_plies"),
      ("game.params=(('flag_danger',0.1),)", "flag_danger was retired"),
      ("game.name=kuhn_poker", "do not belong to game 'kuhn_poker'"),
  ]:
    with pytest.raises(ValueError, match=re.escape(message)):
      config_lib.apply_overrides(config, [override])
  with pytest.raises(ValueError, match="takes no game.params"):
    config_lib.apply_overrides(config_lib.load("d4pg_smoke"),
                               ["game.params=(('x',1),)"])


def test_a_saved_config_with_untyped_game_parameters_loads_typed():
  config = config_lib.load("stratego_small_rnad")
  saved = config_lib.to_json(config)
  saved["config"]["game"]["params"] = [["variant", "small"],
                                       ["deployment", "phase"],
                                       ["max_plies", 200]]
  assert config_lib.from_json(saved) == config
  saved["config"]["game"]["params"].append(["flag_danger", 0.15])
  with pytest.raises(ValueError, match="flag_danger was retired"):
    config_lib.from_json(saved)
