"""The arena command: help, exit codes and one-line errors."""

import jax
import numpy as np
import pytest

from agents.core import runs
from arena import cli

ARGS = ["--set", "run.steps_per_call=10", "--set", "agent.batch_size=16",
        "--set", "agent.network.hidden_sizes=(8,)", "--set", "run.eval_every=0"]


def _run(capsys, *argv):
  code = cli.main(list(argv))
  out = capsys.readouterr()
  return code, out.out, out.err


def test_help(capsys):
  with pytest.raises(SystemExit) as e:
    cli.main(["--help"])
  assert e.value.code == 0
  assert "train" in capsys.readouterr().out
  for sub in (["train", "--help"], ["eval", "nashconv", "--help"]):
    with pytest.raises(SystemExit) as e:
      cli.main(sub)
    assert e.value.code == 0


@pytest.mark.parametrize("argv,message", [
    (["train", "kuhn_rnad", "--set", "agent.nope=1"], "unknown config key"),
    (["train", "no_config"], "not found"),
    (["train"], "a CONFIG is needed"),
    (["train", "--resume", "/nonexistent/run"], "does not exist"),
    (["eval", "nashconv", "/nonexistent/run"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
  code, _, err = _run(capsys, *argv)
  assert code == 2
  assert message in err and "Traceback" not in err
  assert len(err.strip().splitlines()) == 1


def test_bad_argument_types_exit_2(capsys):
  with pytest.raises(SystemExit) as e:
    cli.main(["train", "kuhn_rnad", "--steps", "-3"])
  assert e.value.code == 2
  assert "must be > 0" in capsys.readouterr().err


def test_train_resume_and_eval(tmp_path, capsys):
  run = str(tmp_path / "run")
  code, out, _ = _run(capsys, "train", "kuhn_rnad", "--out", run, "--steps",
                      "20", *ARGS)
  assert code == 0 and "stopped at step 20 (steps)" in out
  code, _, err = _run(capsys, "train", "kuhn_rnad", "--out", run, *ARGS)
  assert code == 2 and "already holds a run" in err
  code, out, _ = _run(capsys, "train", "--resume", run, "--steps", "30")
  assert code == 0 and "stopped at step 30" in out
  code, _, err = _run(capsys, "train", "leduc_rnad", "--resume", run)
  assert code == 2 and "differs from the config saved" in err
  code, out, _ = _run(capsys, "eval", "nashconv", run)
  assert code == 0
  values = dict(line.split(": ") for line in out.strip().splitlines())
  assert 0.0 <= float(values["nash_conv"]) <= 3.0
  (tmp_path / "run" / "config.json").write_text("garbage")
  code, _, err = _run(capsys, "eval", "nashconv", run)
  assert code == 2 and "corrupt" in err


def test_init_from_starts_a_new_run_from_another_runs_network(tmp_path,
                                                                capsys):
  base, tuned, scratch = (str(tmp_path / n) for n in ("base", "tuned",
                                                       "scratch"))
  assert _run(capsys, "train", "kuhn_rnad", "--out", base, "--steps", "10",
              *ARGS)[0] == 0
  # A learning rate of 1e-12 (Adam's steps are about that size): the new
  # run's network stays its source's.
  frozen = ["--set", "agent.learning_rate=1e-12"]
  code, out, _ = _run(capsys, "train", "kuhn_rnad", "--out", tuned,
                      "--steps", "10", "--init-from", base, *ARGS, *frozen)
  assert code == 0 and "stopped at step 10 (steps)" in out
  assert _run(capsys, "train", "kuhn_rnad", "--out", scratch, "--steps",
              "10", *ARGS, *frozen)[0] == 0
  source, new, fresh = (runs.read_run(d) for d in (base, tuned, scratch))
  assert int(new.state.step) == 10  # its own count, from 0
  assert new.config.run.init_from == base
  for a, b in zip(jax.tree.leaves(source.state.params),
                  jax.tree.leaves(new.state.params)):
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
  assert not all(np.allclose(a, b, rtol=0, atol=1e-3) for a, b in zip(
      jax.tree.leaves(source.state.params),
      jax.tree.leaves(fresh.state.params)))
  code, _, err = _run(capsys, "train", "--resume", tuned, "--init-from",
                      base)
  assert code == 2 and "--init-from starts a new run" in err
  # A network of another shape, and a missing source: one line, exit 2,
  # and no run directory left holding a run.
  code, _, err = _run(capsys, "train", "kuhn_rnad", "--out",
                      str(tmp_path / "wide"), "--init-from", base,
                      *ARGS, "--set", "agent.network.hidden_sizes=(12,)")
  assert code == 2 and "Traceback" not in err
  assert f"{base!r} does not fit this config: parameters" in err
  assert "float32[8" in err and "float32[12" in err
  assert not (tmp_path / "wide" / "config.json").exists()
  code, _, err = _run(capsys, "train", "kuhn_rnad", "--out",
                      str(tmp_path / "none"), "--init-from",
                      str(tmp_path / "nope"), *ARGS)
  assert code == 2 and "does not exist" in err
