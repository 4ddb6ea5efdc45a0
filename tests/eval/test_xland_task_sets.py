"""XLand-MiniGrid task sets: the encodings are xminigrid's, files round-trip
and load with `xminigrid.benchmarks.load_benchmark_from_path`, an xminigrid
environment runs the tasks (and scripted episodes solve them as the rules
say), bad files and bad arguments give clear errors; `arena xland tasks`.

The `xland` subcommand is added to the `arena` parser here if cli.py does
not list it yet.
"""

import bz2
import os
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xminigrid
import xminigrid.registration
from xminigrid.core import constants
from xminigrid.core import goals as xgoals
from xminigrid.core import rules as xrules
from xminigrid.core.grid import room
from xminigrid.envs import xland as xland_env

from arena import cli
from arena import xland as arena_xland
from eval import xland as task_sets
from games import xland
from games.xland import encoding as enc

# One shape for every set that goes through the environment: 3 rules, 5
# objects, so that reset and step compile once.
SHAPE = {"depth": 1, "num_distractor_rules": 2, "num_distractor_objects": 2}


@pytest.fixture(autouse=True)
def with_xland(monkeypatch):
  modules = cli._SUBCOMMAND_MODULES  # pylint: disable=protected-access
  if arena_xland not in modules:
    monkeypatch.setattr(cli, "_SUBCOMMAND_MODULES", (*modules, arena_xland))


@pytest.fixture(scope="module")
def env():
  """(env, params, jitted reset, jitted step) of R1-9x9."""
  environment, params = task_sets.make_env("R1-9x9")
  return environment, params, jax.jit(environment.reset), jax.jit(
      environment.step)


def _camel(name):
  return "".join(part.capitalize() for part in name.split("_"))


def test_encodings_are_xminigrids():
  for name, i in enc.TILES.items():
    assert getattr(constants.Tiles, name.upper()) == i
  for name, i in enc.COLORS.items():
    assert getattr(constants.Colors, name.upper()) == i
  assert set(np.asarray(constants.PICKABLE)) == set(enc.PICKABLE_TILES)
  assert (xgoals.NUM_GOALS, xrules.NUM_RULES) == (enc.NUM_GOAL_IDS,
                                                  enc.NUM_RULE_IDS)
  assert (xgoals.MAX_GOAL_ENCODING_LEN, xrules.MAX_RULE_ENCODING_LEN) == (
      enc.GOAL_LEN, enc.RULE_LEN)
  # Each generated id decodes to the class of its name and encodes back
  # with its objects where our arity says they are.
  for i in enc.SUPPORTED_GOAL_IDS:
    code = np.zeros(5, np.uint8)
    code[0] = i
    code[1:1 + 2 * enc.GOAL_ARITY[i]] = [3, 1, 4, 2][:2 * enc.GOAL_ARITY[i]]
    cls = getattr(xgoals, _camel(enc.GOAL_NAMES[i]) + "Goal")
    np.testing.assert_array_equal(cls.decode(jnp.asarray(code)).encode(), code)
  for i in enc.SUPPORTED_RULE_IDS:
    code = np.zeros(7, np.uint8)
    code[0] = i
    n = 2 * (enc.RULE_ARITY[i] + 1)
    code[1:1 + n] = [3, 1, 4, 2, 5, 3][:n]
    cls = getattr(xrules, _camel(enc.RULE_NAMES[i]) + "Rule")
    np.testing.assert_array_equal(cls.decode(jnp.asarray(code)).encode(), code)


def test_layouts_are_xminigrids_with_their_free_cells():
  makers = {"R1": xland_env.generate_room, "R2": xland_env.generate_two_rooms,
            "R4": xland_env.generate_four_rooms,
            "R6": xland_env.generate_six_rooms,
            "R9": xland_env.generate_nine_rooms}
  registered = {name[len("XLand-MiniGrid-"):]
                for name in xminigrid.registered_environments()
                if name.startswith("XLand-MiniGrid-")}
  assert registered == set(enc.LAYOUTS)
  for layout in enc.LAYOUTS:
    spec = xminigrid.registration._REGISTRY[enc.env_id(layout)]  # pylint: disable=protected-access
    kw = spec.kwargs
    _, grid = makers[kw["grid_type"]](jax.random.key(0), kw["height"],
                                      kw["width"])
    floor = int((np.asarray(grid)[..., 0] == constants.Tiles.FLOOR).sum())
    assert floor == enc.LAYOUT_FREE_CELLS[layout], layout


def test_save_load_round_trip_and_xminigrid_reads_it(tmp_path):
  config = xland.TaskConfig(depth=2, num_distractor_rules=3,
                            num_distractor_objects=2, layout="R4-13x13")
  ts = xland.generate(config, 500, seed=5, split="test")
  path = task_sets.save_task_set(ts, tmp_path / "sets" / "test.pkl.bz2")
  assert os.listdir(tmp_path / "sets") == ["test.pkl.bz2"]  # no temp file
  back = task_sets.load_task_set(path)
  for name in ("goals", "rules", "init_tiles", "num_rules"):
    np.testing.assert_array_equal(getattr(back, name), getattr(ts, name))
  assert (back.layout, back.split, back.seed, back.config) == (
      "R4-13x13", "test", 5, config)
  bench = xminigrid.benchmarks.load_benchmark_from_path(str(path))
  assert bench.num_rulesets() == 500
  ruleset = bench.get_ruleset(7)
  np.testing.assert_array_equal(ruleset.goal, ts.goals[7])
  np.testing.assert_array_equal(ruleset.rules, ts.rules[7])
  np.testing.assert_array_equal(ruleset.init_tiles, ts.init_tiles[7])
  assert task_sets.load_benchmark(path).num_rulesets() == 500


def test_an_xminigrid_env_resets_and_steps_with_the_tasks(tmp_path, env):
  environment, params, reset, step = env
  ts = xland.generate(xland.TaskConfig(**SHAPE), 50, seed=0)
  bench = task_sets.load_benchmark(
      task_sets.save_task_set(ts, tmp_path / "tasks.pkl.bz2"))
  key = jax.random.key(0)
  for i in (0, 17, 49):
    p = params.replace(ruleset=bench.get_ruleset(i))
    timestep = reset(p, jax.random.fold_in(key, i))
    grid = np.asarray(timestep.state.grid)
    placed = grid[(grid[..., 0] != constants.Tiles.FLOOR) &
                  (grid[..., 0] != constants.Tiles.WALL)]
    want = ts.init_tiles[i][ts.init_tiles[i][:, 0] > 0]
    assert sorted(map(tuple, placed)) == sorted(map(tuple, want))
    for action in (0, 1, 0, 3, 2, 0, 4, 5):
      timestep = step(p, timestep, action)
    assert int(timestep.state.step_num) == 8
  assert environment.num_actions(params) == 6


def _scripted(env, config, place, actions, pocket=None):
  """Runs `actions` from a hand-made grid: a 9x9 room with the agent at
  (4, 2) facing right; `place(task)` -> {(y, x): object}. Returns the
  rewards and the first task of `config` (seed 0)."""
  _, params, reset, step = env
  ts = xland.generate(config, 1, seed=0)
  task = ts.goals[0], ts.rules[0], ts.init_tiles[0]
  p = params.replace(ruleset=xminigrid.types.RuleSet(
      goal=jnp.asarray(task[0]), rules=jnp.asarray(task[1]),
      init_tiles=jnp.asarray(task[2])))
  timestep = reset(p, jax.random.key(0))
  grid = room(9, 9)
  for (y, x), obj in place(task).items():
    grid = grid.at[y, x].set(jnp.asarray(obj, jnp.uint8))
  agent = timestep.state.agent
  agent = agent.replace(
      position=jnp.asarray([4, 2], agent.position.dtype),
      direction=jnp.asarray(1, agent.direction.dtype),
      pocket=jnp.asarray(pocket(task) if pocket else (0, 0), jnp.uint8))
  timestep = timestep.replace(state=timestep.state.replace(grid=grid,
                                                           agent=agent))
  rewards = []
  for action in actions:
    timestep = step(p, timestep, action)
    rewards.append(float(timestep.reward))
  return rewards, task


def _chain_rule(task):
  """The rule that produces a goal object (the chain at depth 1)."""
  goal, rules, _ = task
  goal_objects = {tuple(goal[1:3]), tuple(goal[3:5])}
  for r in rules:
    prod = tuple(r[5:7]) if enc.RULE_ARITY[r[0]] == 2 else tuple(r[3:5])
    if prod in goal_objects:
      return r
  raise AssertionError("no chain rule")


def _config(goal, rule):
  return xland.TaskConfig(**SHAPE, goal_ids=(enc.GOALS[goal],),
                          rule_ids=(enc.RULES[rule],))


def test_scripted_agent_hold(env):
  # Pick up the chain's input: it turns into the goal's object in the pocket.
  rewards, _ = _scripted(env, _config("agent_hold", "agent_hold"),
                         lambda t: {(4, 3): _chain_rule(t)[1:3]}, [1, 2, 3])
  assert rewards[:2] == [0.0, 0.0] and rewards[2] > 0


def test_scripted_agent_near(env):
  # Step next to the input: it turns into the goal's object, next to us.
  rewards, _ = _scripted(env, _config("agent_near", "agent_near"),
                         lambda t: {(4, 4): _chain_rule(t)[1:3]}, [0])
  assert rewards[0] > 0


def test_scripted_tile_near(env):
  def place(task):
    goal, rule = task[0], _chain_rule(task)
    other = goal[3:5] if tuple(goal[1:3]) == tuple(rule[5:7]) else goal[1:3]
    return {(4, 3): rule[1:3], (4, 4): rule[3:5], (5, 2): other}
  # Pick up input a, put it back next to b (the product appears where b
  # was), fetch the goal's other object from below, put it next to it.
  rewards, _ = _scripted(env, _config("tile_near", "tile_near"), place,
                         [3, 4, 1, 3, 2, 4])
  assert rewards[:5] == [0.0] * 5 and rewards[5] > 0


def test_scripted_tile_near_up_needs_b_above_a(env):
  config = _config("agent_hold", "tile_near_up")
  # tile_near_up(a, b): putting b down right above a makes the product in
  # a's cell; then go round and pick it up.
  below = lambda t: {(5, 3): _chain_rule(t)[1:3]}
  holding_b = lambda t: _chain_rule(t)[3:5]
  rewards, _ = _scripted(env, config, below, [4, 1, 0, 2, 3],
                         pocket=holding_b)
  assert rewards[:4] == [0.0] * 4 and rewards[4] > 0
  # With a above instead, nothing is made: the pick-up takes a itself.
  above = lambda t: {(3, 3): _chain_rule(t)[1:3]}
  rewards, _ = _scripted(env, config, above, [4, 2, 0, 1, 3],
                         pocket=holding_b)
  assert rewards == [0.0] * 5


def _write(path, data, compress=True):
  raw = pickle.dumps(data, protocol=4)
  path.write_bytes(bz2.compress(raw) if compress else raw)
  return path


class _Evil:
  def __reduce__(self):
    return (os.getcwd, ())


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes(b"not bz2 at all"), "not a task set"),
    (lambda p: _write(p, [1, 2]), "holds a list, not the dict"),
    (lambda p: _write(p, {"goals": np.zeros((2, 5), np.uint8)}),
     "lacks rules, init_tiles, num_rules"),
    (lambda p: _write(p, {"x": _Evil()}), "only numpy arrays are read"),
    (lambda p: _write(p, {"goals": np.zeros((2, 4), np.uint8),
                          "rules": np.zeros((2, 1, 7), np.uint8),
                          "init_tiles": np.zeros((2, 1, 2), np.uint8),
                          "num_rules": np.zeros(2, np.uint8)}),
     r"goals has shape \(2, 4\), expected 2x5"),
    (lambda p: _write(p, {"goals": np.full((2, 5), 15, np.uint8),
                          "rules": np.zeros((2, 1, 7), np.uint8),
                          "init_tiles": np.zeros((2, 1, 2), np.uint8),
                          "num_rules": np.zeros(2, np.uint8)}),
     "goal id 15 is not an xminigrid goal"),
    (lambda p: _write(p, {"goals": np.zeros((2, 5), np.uint8),
                          "rules": np.zeros((2, 1, 7), np.uint8),
                          "init_tiles": np.zeros((2, 1, 2), np.uint8),
                          "num_rules": np.zeros(2, np.uint8),
                          "layout": "R7-9x9"}), "unknown layout 'R7-9x9'"),
])
def test_bad_files_are_a_clear_value_error(tmp_path, make, message):
  path = tmp_path / "bad.pkl.bz2"
  make(path)
  with pytest.raises(ValueError, match=message):
    task_sets.load_task_set(path)
  with pytest.raises(ValueError, match=message):
    task_sets.load_benchmark(path)


def test_truncated_and_missing_files(tmp_path):
  ts = xland.generate(xland.TaskConfig(), 2000, seed=0)
  path = task_sets.save_task_set(ts, tmp_path / "t.pkl.bz2")
  data = path.read_bytes()
  path.write_bytes(data[:len(data) // 2])
  with pytest.raises(ValueError, match="not a task set"):
    task_sets.load_task_set(path)
  with pytest.raises(FileNotFoundError, match="does not exist"):
    task_sets.load_task_set(tmp_path / "nope.pkl.bz2")


def test_foreign_sets_with_jax_arrays_load_as_numpy(tmp_path):
  """A set saved the way xminigrid saves (`save_bz2_pickle`), from jax
  arrays and without our metadata."""
  ts = xland.generate(xland.TaskConfig(), 10, seed=0)
  path = str(tmp_path / "foreign")
  xminigrid.benchmarks.save_bz2_pickle(
      {name: jnp.asarray(getattr(ts, name))
       for name in ("goals", "rules", "init_tiles", "num_rules")}, path)
  back = task_sets.load_task_set(path)
  assert isinstance(back.goals, np.ndarray)
  np.testing.assert_array_equal(back.rules, ts.rules)
  assert (back.layout, back.config, back.seed, back.split) == (None,) * 4


def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
  path = tmp_path / "t.pkl.bz2"
  task_sets.save_task_set(xland.generate(xland.TaskConfig(), 5, seed=0), path)
  before = path.read_bytes()

  def fail(*args, **kwargs):
    raise OSError("disk full")
  monkeypatch.setattr(pickle, "dump", fail)
  with pytest.raises(OSError, match="disk full"):
    task_sets.save_task_set(xland.generate(xland.TaskConfig(), 6, seed=1),
                            path)
  assert path.read_bytes() == before and os.listdir(tmp_path) == ["t.pkl.bz2"]


def _run(capsys, *argv):
  code = cli.main(list(argv))
  out = capsys.readouterr()
  return code, out.out, out.err


def test_cli_help(capsys):
  for argv in (["xland", "--help"], ["xland", "tasks", "--help"]):
    with pytest.raises(SystemExit) as e:
      cli.main(argv)
    assert e.value.code == 0
  assert "--distractor-rules R" in capsys.readouterr().out


def test_cli_writes_a_task_set(tmp_path, capsys):
  out = str(tmp_path / "train.pkl.bz2")
  code, stdout, _ = _run(
      capsys, "xland", "tasks", "--out", out, "--num", "300", "--seed", "4",
      "--depth", "2", "--distractor-rules", "2", "--distractor-objects", "1",
      "--layout", "R2-11x11", "--split", "train", "--tiles", "ball,key",
      "--colors", "red,green,blue,white,pink",
      "--goals", "tile_near,agent_hold")
  assert code == 0 and "wrote 300 tasks (train split" in stdout
  assert "tasks/s" in stdout
  ts = task_sets.load_task_set(out)
  assert (ts.num_tasks, ts.layout, ts.split, ts.seed) == (300, "R2-11x11",
                                                      "train", 4)
  assert ts.config.tiles == (3, 7) and ts.config.goal_ids == (4, 1)
  chains = xland.chain_rule_ids(ts.goals, ts.rules)
  assert not xland.in_test_split(ts.goals[:, 0], chains, 0.2).any()
  same = xland.generate(ts.config, 300, seed=4, split="train")
  np.testing.assert_array_equal(same.rules, ts.rules)
  code, _, err = _run(capsys, "xland", "tasks", "--out", out, "--num", "5",
                      "--seed", "0")
  assert code == 2 and "already exists; give --overwrite" in err
  code, _, _ = _run(capsys, "xland", "tasks", "--out", out, "--num", "5",
                    "--seed", "0", "--overwrite")
  assert code == 0 and task_sets.load_task_set(out).num_tasks == 5
  code, stdout, _ = _run(capsys, "xland", "tasks", "--out", out, "--num",
                         "200", "--seed", "0", "--distractor-objects", "3",
                         "--min-distractor-objects", "1", "--goals",
                         "agent_hold", "--rules", "agent_hold,agent_near",
                         "--overwrite")
  assert code == 0 and "1-3 distractor objects" in stdout
  ts = task_sets.load_task_set(out)
  assert ts.config.min_distractor_objects == 1
  assert set((ts.init_tiles[..., 0] > 0).sum(1) - 1) == {1, 2, 3}


@pytest.mark.parametrize("argv,message", [
    (["--num", "3", "--seed", "0", "--layout", "R3-9x9"],
     "unknown layout 'R3-9x9'"),
    (["--num", "3", "--seed", "0", "--depth", "30"], "distinct objects"),
    (["--num", "3", "--seed", "0", "--depth", "9",
      "--distractor-objects", "38"], "do not fit layout R1-9x9"),
    (["--num", "9", "--seed", "0", "--depth", "0", "--goals", "agent_hold",
      "--tiles", "ball", "--colors", "red,blue"], "only 2 distinct tasks"),
    (["--num", "3", "--seed", "0", "--test-fraction", "1.5"],
     "test_fraction must be in"),
    (["--num", "3", "--seed", "0", "--distractor-objects", "1",
      "--min-distractor-objects", "2"],
     "min_distractor_objects must be None or an integer in [0, "
     "num_distractor_objects=1], got 2"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, message):
  code, _, err = _run(capsys, "xland", "tasks", "--out",
                      str(tmp_path / "x.pkl.bz2"), *argv)
  assert code == 2 and message in err and "Traceback" not in err
  assert len(err.strip().splitlines()) == 1
  assert not (tmp_path / "x.pkl.bz2").exists()


@pytest.mark.parametrize("argv,message", [
    (["xland"], "the following arguments are required: WHAT"),
    (["xland", "tasks", "--out", "x", "--num", "0", "--seed", "0"],
     "--num: must be >= 1, got 0"),
    (["xland", "tasks", "--out", "x", "--num", "3"],
     "the following arguments are required: --seed"),
    (["xland", "tasks", "--out", "x", "--num", "3", "--seed", "0",
      "--tiles", "ball,door_open"], "unknown 'door_open'; valid: ball"),
    (["xland", "tasks", "--out", "x", "--num", "3", "--seed", "0",
      "--split", "valid"], "invalid choice: 'valid'"),
])
def test_cli_bad_arguments_exit_2(capsys, argv, message):
  with pytest.raises(SystemExit) as e:
    cli.main(argv)
  assert e.value.code == 2
  assert message in capsys.readouterr().err
