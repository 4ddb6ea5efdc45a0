"""Per-trial evaluation on XLand (`eval.xland.trials_eval`): the summary's
statistics by hand, episodes of a scripted memory policy with exact
outcomes (memory kept across trials, cleared at episode starts always and
at trial starts only under the memory-reset control), batching, the random
policy on easy and impossible tasks, errors, and `arena eval trials`.

The tasks are drawn by hand: the room of R1-9x9 (7 x 7 cells) holds 48 red
balls and the agent, so every free neighbour of the agent is a red ball.

  . . . . . . . . .     # wall, o red ball, A the agent (anywhere)
  . o o o o o o o .
  . o o o o A o o .     easy: agent_near(red ball), reached by the first
  . o o o o o o o .       forward step (blocked by a ball or a wall, the
  . o o o o o o o .       agent stays next to a ball);
  . o o o o o o o .     impossible: agent_near(green ball): there is none,
  . o o o o o o o .       and no rule makes one.
  . o o o o o o o .
  . . . . . . . . .
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from rich.table import Table

from arena import cli
from eval import xland as task_sets
from eval.xland import trials_eval
from games import xland
from games.xland import encoding as enc
from games.xland import play as xland_play
from games.xland import trials

CFG = trials.TrialsConfig(layout="R1-9x9", num_trials=3, steps_per_trial=8)
EPISODES, BATCH = 2, 16
FORWARD, TURN_LEFT = 0, 2
AGENT_NEAR, BALL, RED, GREEN = 3, 3, 1, 2
NUM_EASY = 4
ROOM = enc.LAYOUT_FREE_CELLS["R1-9x9"] - 1  # objects that fill it


def _ball_tasks(goal_colours):
  """Tasks agent_near(ball of colour c) in a room full of red balls."""
  n = len(goal_colours)
  goals = np.zeros((n, enc.GOAL_LEN), np.uint8)
  goals[:, 0], goals[:, 1], goals[:, 2] = AGENT_NEAR, BALL, goal_colours
  return xland.TaskSet(
      goals=goals, rules=np.zeros((n, 1, enc.RULE_LEN), np.uint8),
      init_tiles=np.tile(np.array([BALL, RED], np.uint8), (n, ROOM, 1)),
      num_rules=np.zeros(n, np.uint8), layout="R1-9x9", split=None,
      config=None, seed=None)


# 4 easy tasks, then 4 impossible ones.
TASK_SET = _ball_tasks([RED] * NUM_EASY + [GREEN] * NUM_EASY)
TASKS = trials.tasks_of(TASK_SET, CFG)
EASY, IMPOSSIBLE = slice(0, NUM_EASY), slice(NUM_EASY, None)

# The counting policy: memory counts the steps since its last reset; it
# turns until the count reaches PATIENCE, then steps forward. PATIENCE
# exceeds a trial's 8 steps: it waits out trial 1 whatever happens, and
# acts in a later trial only if its memory survived the trial's start. Its
# memory starts "dirty" (count 100): only a reset at the episode's start
# makes it wait in trial 1.
PATIENCE = 10


def _counter_init(batch):
  return jnp.full((batch,), 100, jnp.int32)


def _counter_step(memory, obs, reset, key):
  del obs, key
  count = jnp.where(reset, 0, memory)
  action = jnp.where(count >= PATIENCE, FORWARD, TURN_LEFT).astype(jnp.int32)
  return action, count + 1


COUNTER = trials_eval.MemoryPolicy(init=_counter_init, step=_counter_step)
# Easy tasks under COUNTER: trial 1 fails (8 turns); trial 2 starts at count
# 8, turns twice and succeeds on its 3rd step; trial 3 succeeds on its 1st.
# xminigrid's reward at step t of T: 1 - 0.9 t / T.
COUNTER_SUCCESS = [False, True, True]
COUNTER_RETURNS = [0.0, 1 - 0.9 * 3 / 8, 1 - 0.9 * 1 / 8]

# The episodes' programs run a few times each: their compile time dominates,
# and XLA's fast-compile options cut it about threefold.
FAST = {"xla_backend_optimization_level": 0,
        "xla_cpu_use_fusion_emitters": False}


@pytest.fixture(autouse=True, scope="module")
def fast_compile():
  patch = pytest.MonkeyPatch()
  patch.setattr(xland_play, "_COMPILER_OPTIONS", FAST)
  xland_play._compile_cached.cache_clear()  # pylint: disable=protected-access
  yield
  patch.undo()
  xland_play._compile_cached.cache_clear()  # pylint: disable=protected-access


def _play(policy, memory_reset=False, batch_size=BATCH, key=0, **kwargs):
  return trials_eval.play_trials(
      policy, TASKS, CFG, episodes=EPISODES, key=jax.random.key(key),
      batch_size=batch_size, memory_reset=memory_reset, **kwargs)


def test_summarise_worked_example():
  # N=5 tasks, E=2 episodes, K=2 trials.
  success = np.zeros((5, 2, 2), bool)
  # Trial 1: per-task rates 0, .5, .5, 1, 1.
  success[1, 0, 0] = success[2, 1, 0] = True
  success[3:, :, 0] = True
  # Trial 2: every task always succeeds.
  success[:, :, 1] = True
  returns = np.zeros((5, 2, 2), np.float32)
  # Trial 1: per-task mean returns .1, .2, .3, .4, 1 (episodes .0/.2 etc.).
  returns[:, 0, 0] = [0.0, 0.2, 0.6, 0.4, 1.0]
  returns[:, 1, 0] = [0.2, 0.2, 0.0, 0.4, 1.0]
  returns[:, :, 1] = 0.5
  out = trials_eval.summarise(success, returns)
  assert set(out) == set(trials_eval.SUMMARY_KEYS) | set(
      trials_eval.CONDITIONAL_KEYS)
  np.testing.assert_allclose(out["success_mean"], [0.6, 1.0])
  np.testing.assert_allclose(out["success_median"], [0.5, 1.0])
  # numpy's linear interpolation: rank 0.2 * (5 - 1) = 0.8 between the
  # sorted rates 0 and .5 -> 0.4.
  np.testing.assert_allclose(out["success_p20"], [0.4, 1.0])
  np.testing.assert_allclose(out["return_mean"], [0.4, 0.5], rtol=1e-6)
  np.testing.assert_allclose(out["return_median"], [0.3, 0.5], rtol=1e-6)
  # 0.1 + 0.8 * (0.2 - 0.1)
  np.testing.assert_allclose(out["return_p20"], [0.18, 0.5], rtol=1e-6)
  assert all(isinstance(out[k][i], float)
             for k in trials_eval.SUMMARY_KEYS for i in range(2))
  # Trial 2 always succeeds, after 6 successes and 4 failures of trial 1.
  assert out["success_after_success"] == [None, 1.0]
  assert out["success_after_failure"] == [None, 1.0]


def test_summarise_conditional_success_worked_example():
  # N=2 tasks, E=2 episodes, K=3 trials; one row per episode.
  success = np.array([[[1, 1, 0], [0, 1, 1]],
                      [[0, 1, 0], [1, 0, 1]]], bool)
  out = trials_eval.summarise(success, np.zeros(success.shape))
  # Trial 2 after a trial-1 success: episodes (0,0) yes, (1,1) no -> 1/2;
  # after a failure: (0,1) yes, (1,0) yes -> 1.
  # Trial 3 after a trial-2 success: (0,0) no, (0,1) yes, (1,0) no -> 1/3;
  # after a failure: (1,1) yes -> 1.
  assert out["success_after_success"] == pytest.approx([None, 0.5, 1 / 3])
  assert out["success_after_failure"] == pytest.approx([None, 1.0, 1.0])
  # No episode fails trial 1: nothing to condition on.
  always = trials_eval.summarise(np.ones((1, 2, 2), bool), np.zeros((1, 2, 2)))
  assert always["success_after_failure"] == [None, None]
  assert always["success_after_success"] == [None, 1.0]


@pytest.mark.parametrize("success,returns", [
    (np.zeros((2, 3)), np.zeros((2, 3))),
    (np.zeros((2, 3, 4)), np.zeros((2, 3, 5))),
    (np.zeros((0, 3, 4)), np.zeros((0, 3, 4))),
])
def test_summarise_rejects_bad_shapes(success, returns):
  with pytest.raises(ValueError, match="shapes"):
    trials_eval.summarise(success, returns)


def test_random_policy_shapes_determinism_easy_and_impossible():
  success, returns = _play(trials_eval.random_policy())
  assert success.shape == returns.shape == (8, EPISODES, 3)
  assert success.dtype == bool and returns.dtype == np.float32
  again = _play(trials_eval.random_policy())
  np.testing.assert_array_equal(success, again[0])
  np.testing.assert_array_equal(returns, again[1])
  other = _play(trials_eval.random_policy(), key=1)
  assert not np.array_equal(returns, other[1])
  # No ball of the goal's colour: never a success, never a reward.
  assert not success[IMPOSSIBLE].any()
  assert not returns[IMPOSSIBLE].any()
  # Easy: a success iff one of the 8 steps is forward, 1 - (5/6)^8 = 0.77.
  assert 0.6 < success[EASY].mean() < 0.92
  np.testing.assert_array_equal(returns[EASY] > 0, success[EASY])
  assert returns.max() <= 1 - 0.9 / 8 + 1e-6


def test_memory_is_kept_across_trials_and_cleared_by_the_control():
  success, returns = _play(COUNTER)
  want = np.broadcast_to(COUNTER_SUCCESS, (NUM_EASY, EPISODES, 3))
  np.testing.assert_array_equal(success[EASY], want)
  np.testing.assert_allclose(
      returns[EASY], np.broadcast_to(COUNTER_RETURNS, want.shape), rtol=1e-6)
  assert not success[IMPOSSIBLE].any() and not returns[IMPOSSIBLE].any()
  # Memory cleared at every trial's start: it never waits long enough.
  success, returns = _play(COUNTER, memory_reset=True)
  assert not success.any() and not returns.any()


def test_reset_mask():
  """The policy's `reset` input: at episode starts always, at trial starts
  only under memory_reset (so forward at a reset: trial 1 only, or all)."""
  def step(memory, obs, reset, key):
    del obs, key
    return jnp.where(reset, FORWARD, TURN_LEFT).astype(jnp.int32), memory
  policy = trials_eval.MemoryPolicy(init=_counter_init, step=step)
  success, _ = _play(policy)
  np.testing.assert_array_equal(
      success[EASY], np.broadcast_to([True, False, False], (NUM_EASY, 2, 3)))
  success, _ = _play(policy, memory_reset=True)
  assert success[EASY].all() and not success[IMPOSSIBLE].any()


def test_batches_compile_once_and_do_not_change_worlds():
  traced = []

  def init(batch):
    traced.append(batch)
    return _counter_init(batch)

  counting = trials_eval.MemoryPolicy(init=init, step=_counter_step)
  calls = []
  # 16 episodes in batches of 3: 6 calls, the last padded with 2.
  got = _play(counting, batch_size=3,
              on_batch=lambda done, total: calls.append((done, total)))
  assert traced == [3]
  assert calls == [(b, 6) for b in range(1, 7)]
  want = _play(COUNTER)  # no key used: the worlds alone decide
  np.testing.assert_array_equal(got[0], want[0])
  np.testing.assert_array_equal(got[1], want[1])


def _patient_step(patience, memory, obs, reset, key):
  """`_counter_step` with its patience a parameter."""
  del obs, key
  count = jnp.where(reset, 0, memory)
  action = jnp.where(count >= patience, FORWARD, TURN_LEFT).astype(jnp.int32)
  return action, count + 1


def test_a_policy_with_parameters_compiles_once_for_all_their_values():
  traced = []

  def init(batch):
    traced.append(batch)
    return _counter_init(batch)

  def patience(p):
    return trials_eval.MemoryPolicy(init=init, step=_patient_step,
                                    params=jnp.int32(p))

  got = _play(patience(PATIENCE))
  want = _play(COUNTER)
  np.testing.assert_array_equal(got[0], want[0])
  np.testing.assert_array_equal(got[1], want[1])
  # Another value: other play (no waiting: every trial succeeds at once),
  # the same program.
  success, _ = _play(patience(0))
  assert success[EASY].all()
  assert traced == [BATCH]


def test_evaluate_by_hand():
  out = trials_eval.evaluate(COUNTER, TASK_SET, CFG, episodes=EPISODES,
                             seed=0, batch_size=BATCH)
  assert set(out) == {"tasks", "trials", "episodes", "agent", "memory_reset",
                      "random", "layout", "steps_per_trial", "trial_k_over_1"}
  # Trial 1 never succeeds: no ratio to trial 1.
  assert out["trial_k_over_1"]["agent"] == {"ratio": None, "low": None,
                                            "high": None}
  assert "no success in trial 1" in trials_eval.ratio_line(out)
  assert (out["tasks"], out["trials"], out["episodes"]) == (8, 3, EPISODES)
  assert (out["layout"], out["steps_per_trial"]) == ("R1-9x9", 8)
  agent = out["agent"]
  # Per task: easy [0, 1, 1], impossible [0, 0, 0], 4 of each.
  np.testing.assert_allclose(agent["success_mean"], [0, 0.5, 0.5])
  np.testing.assert_allclose(agent["success_median"], [0, 0.5, 0.5])
  np.testing.assert_allclose(agent["success_p20"], [0, 0, 0])
  # Trial 1 always fails; half of those episodes (the easy tasks) succeed in
  # trial 2 and go on succeeding; the impossible ones never do.
  assert agent["success_after_success"] == [None, None, 1.0]
  assert agent["success_after_failure"] == [None, 0.5, 0.0]
  np.testing.assert_allclose(agent["return_mean"],
                             np.array(COUNTER_RETURNS) / 2, rtol=1e-6)
  np.testing.assert_allclose(out["memory_reset"]["success_mean"], [0, 0, 0])
  random_rate = np.array(out["random"]["success_mean"])
  assert np.all((random_rate > 0.25) & (random_rate < 0.5))  # 0.77 / 2
  json.dumps(out)  # JSON-ready
  table = trials_eval.trials_table(out)
  assert isinstance(table, Table) and table.row_count == 3
  bare = trials_eval.evaluate(COUNTER, TASKS, CFG, episodes=EPISODES, seed=0,
                              batch_size=BATCH, controls=False)
  assert bare["memory_reset"] is None and bare["random"] is None
  assert bare["agent"] == agent


def test_trial_k_over_1_worked_example():
  # 4 tasks x 2 episodes x 3 trials. Per task, trial 1 / trial 3 success:
  # 0.5 / 1, 0.5 / 1, 0 / 0.5, 0 / 0: means 0.25 and 0.625, ratio 2.5.
  success = np.zeros((4, 2, 3), bool)
  success[0, 0, 0] = success[1, 1, 0] = True
  success[0, :, 2] = success[1, :, 2] = success[2, 0, 2] = True
  out = trials_eval.trial_k_over_1(success)
  assert out["ratio"] == pytest.approx(2.5)
  assert out["low"] <= 2.5 <= out["high"] and out["low"] < out["high"]
  # Of 4 tasks drawn, a tasks of the first two (1 in trial 3 per 0.5 in
  # trial 1) and b of the third (0.5 in trial 3 only): ratio 2 + b / a, at
  # least 2 (b = 0: about a third of the draws) and at most 5 (a = 1, b = 3).
  assert out["low"] == 2.0 and out["high"] <= 5.0
  # Every task doubling: every resample's ratio is 2.
  even = np.zeros((5, 2, 2), bool)
  even[:, 0, 0] = True
  even[:, :, 1] = True
  assert trials_eval.trial_k_over_1(even) == {"ratio": 2.0, "low": 2.0,
                                              "high": 2.0}
  line = trials_eval.ratio_line({"trials": 2, "trial_k_over_1": {
      "agent": {"ratio": 2.0, "low": 2.0, "high": 2.0},
      "memory_reset": {"ratio": 1.0, "low": 0.9, "high": 1.1}}})
  assert line == ("trial 2 / trial 1 success (95% bootstrap over tasks): "
                  "agent 2.00 [2.00, 2.00], memory reset 1.00 [0.90, 1.10]")


def test_random_agent_is_its_own_control():
  out = trials_eval.evaluate(trials_eval.random_policy(), TASKS, CFG,
                             episodes=EPISODES, seed=3, batch_size=BATCH)
  assert out["agent"] == out["memory_reset"] == out["random"]


def test_load_random_agent_and_settings():
  policy, config, step = trials_eval.load_trials_agent(
      "random", layout="R1-11x11", num_trials=2, steps_per_trial=5)
  assert policy == trials_eval.random_policy() and step is None
  assert config == trials.TrialsConfig(layout="R1-11x11", num_trials=2,
                                       steps_per_trial=5)
  _, config, _ = trials_eval.load_trials_agent("random", layout=None)
  assert config == trials.TrialsConfig()
  trained = trials.TrialsConfig(layout="R1-9x9", num_trials=4, view_size=3)
  assert trials_eval.trials_config_for(
      trained, layout=None, num_trials=8) == trials.TrialsConfig(
          layout="R1-9x9", num_trials=8, view_size=3)
  with pytest.raises(ValueError, match="layout R1-11x11, the agent plays "
                     "R1-9x9"):
    trials_eval.trials_config_for(trained, layout="R1-11x11")
  with pytest.raises(ValueError, match="num_trials"):
    trials_eval.trials_config_for(trained, layout=None, num_trials=0)
  with pytest.raises(ValueError, match="unknown agent 'no-such-agent'"):
    trials_eval.load_trials_agent("no-such-agent", layout=None)


def test_bad_arguments():
  with pytest.raises(ValueError, match="episodes must be .* got 0"):
    trials_eval.play_trials(COUNTER, TASKS, CFG, episodes=0,
                            key=jax.random.key(0), batch_size=4)
  with pytest.raises(ValueError, match="batch_size must be .* got -1"):
    trials_eval.play_trials(COUNTER, TASKS, CFG, episodes=1,
                            key=jax.random.key(0), batch_size=-1)
  with pytest.raises(ValueError, match="num_actions"):
    trials_eval.random_policy(0)
  with pytest.raises(TypeError, match="init and step"):
    trials_eval.play_trials(object(), TASKS, CFG, episodes=1,
                            key=jax.random.key(0), batch_size=4)
  with pytest.raises(TypeError, match="trials.Task"):
    trials_eval.play_trials(COUNTER, TASK_SET, CFG, episodes=1,
                            key=jax.random.key(0), batch_size=4)
  with pytest.raises(ValueError, match="layout"):
    trials_eval.evaluate(COUNTER, TASK_SET,
                         trials.TrialsConfig(layout="R1-11x11"), episodes=1,
                         seed=0, batch_size=4)


def _run(capsys, *argv):
  code = cli.main(list(argv))
  out = capsys.readouterr()
  return code, out.out, out.err


def test_cli_random_agent_writes_json(tmp_path, capsys):
  tasks = task_sets.save_task_set(TASK_SET, tmp_path / "tasks.pkl.bz2")
  out = tmp_path / "out" / "trials.json"
  code, stdout, _ = _run(
      capsys, "eval", "trials", "random", "--tasks", str(tasks), "--trials",
      "3", "--steps-per-trial", "8", "--episodes", str(EPISODES),
      "--batch-size", str(BATCH), "--seed", "3", "--json", str(out))
  assert code == 0
  assert "memory reset" in stdout and f"wrote {out}" in stdout
  assert "trial 3 / trial 1 success (95% bootstrap over tasks): agent" in stdout
  result = json.loads(out.read_text())
  assert (result["tasks"], result["trials"], result["episodes"]) == (8, 3, 2)
  assert (result["layout"], result["steps_per_trial"]) == ("R1-9x9", 8)
  for name in ("agent", "memory_reset", "random"):
    assert sorted(result[name]) == sorted(trials_eval.SUMMARY_KEYS +
                                          trials_eval.CONDITIONAL_KEYS)
    assert all(len(v) == 3 for v in result[name].values())
  # The library's result for the same seed and batching.
  want = trials_eval.evaluate(trials_eval.random_policy(), TASKS, CFG,
                              episodes=EPISODES, seed=3, batch_size=BATCH)
  assert result["agent"] == want["agent"]
  assert result["source"]["agent"] == "random"
  assert result["step"] is None  # no checkpoint


@pytest.mark.parametrize("agent,tasks_file,extra,message", [
    ("random", "missing.pkl.bz2", [], "does not exist"),
    ("random", "garbage.pkl.bz2", [], "not a task set"),
    ("no-such-agent", "tasks.pkl.bz2", [], "unknown agent 'no-such-agent'"),
    ("random", "tasks.pkl.bz2", ["--json", "."], "is a directory"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch,
                                          agent, tasks_file, extra, message):
  monkeypatch.chdir(tmp_path)
  task_sets.save_task_set(TASK_SET, "tasks.pkl.bz2")
  (tmp_path / "garbage.pkl.bz2").write_bytes(b"not bz2")
  code, _, err = _run(capsys, "eval", "trials", agent, "--tasks", tasks_file,
                      *extra)
  assert code == 2
  assert message in err and "Traceback" not in err
  assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("flag,value", [("--trials", "0"),
                                        ("--episodes", "0"),
                                        ("--batch-size", "x")])
def test_cli_bad_numbers_exit_2(capsys, flag, value):
  with pytest.raises(SystemExit) as e:
    cli.main(["eval", "trials", "random", "--tasks", "t.pkl.bz2", flag,
              value])
  assert e.value.code == 2
  assert f"argument {flag}" in capsys.readouterr().err


def test_cli_help(capsys):
  with pytest.raises(SystemExit) as e:
    cli.main(["eval", "trials", "--help"])
  assert e.value.code == 0
  assert "--steps-per-trial" in capsys.readouterr().out
