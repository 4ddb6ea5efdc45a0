"""Experiment configs: loading, overrides, JSON round trip."""

import math

import pytest

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
