"""The XLand-MiniGrid task generator: solvable by construction (checked by
an independent search over the objects), no duplicates, train and test
disjoint in structure, deterministic, and clear errors."""

import collections
import dataclasses

import numpy as np
import pytest

from games import xland
from games.xland import canonical
from games.xland import encoding as enc

# The test's own reading of xminigrid's encodings (not the generator's
# tables): rule and goal ids by how many objects they take.
ONE_INPUT_RULES = {1, 2, 8, 9, 10, 11}
TWO_INPUT_RULES = {3, 4, 5, 6, 7}
ONE_OBJECT_GOALS = {1, 3, 11, 12, 13, 14}
TWO_OBJECT_GOALS = {4, 7, 8, 9, 10}
# down(a, b) is up(b, a), left(a, b) is right(b, a): one structure each.
RULE_CLASS = {6: 4, 7: 5}
GOAL_CLASS = {9: 7, 10: 8}

Rule = collections.namedtuple("Rule", "kind inputs product")

RICH = xland.TaskConfig(depth=3, num_distractor_rules=4,
                        num_distractor_objects=3, layout="R1-11x11")


def _obj(row):
  return (int(row[0]), int(row[1]))


def _decode(goal, rules, init_tiles):
  """(goal kind, goal objects, rules, initial objects as a Counter)."""
  g = int(goal[0])
  assert g in ONE_OBJECT_GOALS | TWO_OBJECT_GOALS
  goal_objects = ((_obj(goal[1:3]),) if g in ONE_OBJECT_GOALS else
                  (_obj(goal[1:3]), _obj(goal[3:5])))
  decoded = []
  for r in rules:
    k = int(r[0])
    if k == 0:
      continue
    if k in ONE_INPUT_RULES:
      decoded.append(Rule(k, (_obj(r[1:3]),), _obj(r[3:5])))
    else:
      assert k in TWO_INPUT_RULES
      decoded.append(Rule(k, (_obj(r[1:3]), _obj(r[3:5])), _obj(r[5:7])))
  objects = collections.Counter(
      _obj(t) for t in init_tiles if tuple(t) != (0, 0))
  return g, goal_objects, decoded, objects


def _has(objects, needed):
  return all(objects[o] >= n for o, n in collections.Counter(needed).items())


def _shortest_plan(objects, rules, goal_objects, banned=()):
  """Breadth-first search over multisets of objects: the fewest rule
  firings (indices into `rules`) after which the goal's objects exist, or
  None. A rule fires when its inputs exist; it consumes them and adds its
  product."""
  start = frozenset(objects.items())
  frontier, seen = [(start, ())], {start}
  while frontier:
    nxt = []
    for state, plan in frontier:
      have = collections.Counter(dict(state))
      if _has(have, goal_objects):
        return list(plan)
      for i, rule in enumerate(rules):
        if i in banned or not _has(have, rule.inputs):
          continue
        after = have - collections.Counter(rule.inputs)
        after[rule.product] += 1
        key = frozenset(after.items())
        if key not in seen:
          seen.add(key)
          nxt.append((key, plan + (i,)))
    frontier = nxt
  return None


def _check_task(goal, rules, init_tiles, depth):
  """Asserts solvability and the dead-end rule; returns the structure."""
  g, goal_objects, decoded, objects = _decode(goal, rules, init_tiles)
  plan = _shortest_plan(objects, decoded, goal_objects)
  assert plan is not None, "unsolvable"
  assert len(plan) == depth
  for i in plan:  # every chain rule is needed
    assert _shortest_plan(objects, decoded, goal_objects, banned={i}) is None
  # Objects the solution touches; a rule off the plan may consume one only
  # when put next to an object the solution never touches (a dead end).
  touched = set(goal_objects)
  for i in plan:
    touched |= set(decoded[i].inputs) | {decoded[i].product}
  for i, rule in enumerate(decoded):
    if i in plan:
      continue
    assert rule.product not in touched
    hit = [o for o in rule.inputs if o in touched]
    if hit:
      assert rule.kind in TWO_INPUT_RULES and len(hit) == 1, rule
  # The structure: the goal's kind, then the chain's kinds from the goal.
  return (GOAL_CLASS.get(g, g),
          *(RULE_CLASS.get(decoded[i].kind, decoded[i].kind)
            for i in reversed(plan)))


def test_every_task_is_solvable_in_exactly_depth_firings():
  for config, num in ((RICH, 1500),
                      (xland.TaskConfig(depth=0, num_distractor_rules=2,
                                        num_distractor_objects=2), 300),
                      (xland.TaskConfig(depth=5, num_distractor_rules=1,
                                        layout="R1-13x13"), 300),
                      (xland.TaskConfig(depth=2, num_distractor_rules=3,
                                        num_distractor_objects=1), 300),
                      (xland.TaskConfig(depth=1, num_distractor_rules=2,
                                        num_distractor_objects=3,
                                        min_distractor_objects=0), 300)):
    ts = xland.generate(config, num, seed=3)
    for i in range(num):
      _check_task(ts.goals[i], ts.rules[i], ts.init_tiles[i], config.depth)


def test_dead_ends_consume_an_object_the_solution_needs():
  config = xland.TaskConfig(depth=2, num_distractor_rules=3,
                            num_distractor_objects=2, dead_end_prob=1.0,
                            rule_ids=(3, 4, 6))
  ts = xland.generate(config, 300, seed=0)
  for i in range(ts.num_tasks):
    _, goal_objects, decoded, objects = _decode(ts.goals[i], ts.rules[i],
                                                ts.init_tiles[i])
    plan = _shortest_plan(objects, decoded, goal_objects)
    touched = set(goal_objects)
    for j in plan:
      touched |= set(decoded[j].inputs)
    dead = [r for j, r in enumerate(decoded) if j not in plan]
    assert len(dead) == 3
    assert all(len(set(r.inputs) & touched) == 1 for r in dead)


def test_shapes_objects_and_counts():
  ts = xland.generate(RICH, 2000, seed=1)
  assert ts.goals.shape == (2000, 5) and ts.goals.dtype == np.uint8
  assert ts.rules.shape == (2000, 7, 7) and ts.rules.dtype == np.uint8
  assert ts.init_tiles.shape == (2000, RICH.max_objects, 2)
  np.testing.assert_array_equal(ts.num_rules, 7)
  xland.check_encodings(ts.goals, ts.rules, ts.init_tiles, ts.num_rules)
  present = ts.init_tiles[..., 0] > 0
  assert present.sum(1).min() >= 1 + RICH.num_distractor_objects
  assert set(np.unique(ts.init_tiles[..., 0][present])) <= set(RICH.tiles)
  assert set(np.unique(ts.init_tiles[..., 1][present])) <= set(RICH.colors)
  assert set(np.unique(ts.goals[:, 0])) == set(RICH.goal_ids)
  assert set(np.unique(ts.rules[..., 0])) == set(RICH.rule_ids)
  assert (ts.num_tasks, ts.layout, ts.split, ts.seed) == (2000, "R1-11x11",
                                                          "all", 1)
  ts = ts._replace(split="train")  # a NamedTuple of 8 fields
  assert len(ts) == 8 and ts.split == "train"


def test_a_mixed_number_of_distractor_objects():
  # Depth 1, one-input chain rule, one-object goal, no distractor rules: the
  # chain's one leaf plus the task's own count of distractor objects.
  config = xland.TaskConfig(depth=1, num_distractor_objects=3,
                            min_distractor_objects=1, goal_ids=(1,),
                            rule_ids=(1, 2))
  ts = xland.generate(config, 3000, seed=2)
  assert ts.init_tiles.shape == (3000, config.max_objects, 2)
  counts = (ts.init_tiles[..., 0] > 0).sum(1) - 1
  share = np.bincount(counts, minlength=4) / len(counts)
  assert share[0] == 0 and np.all(np.abs(share[1:] - 1 / 3) < 0.04), share
  for i in range(300):
    _check_task(ts.goals[i], ts.rules[i], ts.init_tiles[i], 1)
  fixed = xland.generate(dataclasses.replace(config,
                                             min_distractor_objects=None),
                         500, seed=2)
  assert np.all((fixed.init_tiles[..., 0] > 0).sum(1) == 4)


def test_a_mixed_depth():
  """With `min_depth` each task's chain has its own length, drawn
  uniformly: solvable in exactly that many firings (the independent search),
  padding rows after the rules, and train and test still disjoint in
  structure."""
  config = xland.TaskConfig(depth=3, min_depth=0, num_distractor_rules=2,
                            num_distractor_objects=2, layout="R1-11x11",
                            test_fraction=0.3)
  structures = {}
  for split in ("train", "test"):
    ts = xland.generate(config, 2000, seed=4, split=split)
    assert ts.rules.shape == (2000, 5, 7)
    xland.check_encodings(ts.goals, ts.rules, ts.init_tiles, ts.num_rules)
    present = ts.rules[..., 0] > 0
    # Padding rows (id 0, all zero) only after the task's rules.
    assert np.all(present[:, :-1] | ~present[:, 1:])
    assert np.all(ts.rules[~present] == 0)
    depths = ts.num_rules.astype(int) - 2
    assert set(depths) == {0, 1, 2, 3}
    found = set()
    for i in range(400):
      found.add(_check_task(ts.goals[i], ts.rules[i], ts.init_tiles[i],
                            depths[i]))
    structures[split] = found
  assert not structures["train"] & structures["test"]
  every = xland.generate(config, 8000, seed=5)
  share = np.bincount(every.num_rules.astype(int) - 2, minlength=4) / 8000
  assert np.all(np.abs(share - 0.25) < 0.03), share
  # min_depth == depth: every chain at full depth.
  fixed = xland.generate(dataclasses.replace(config, min_depth=3), 300,
                         seed=5)
  np.testing.assert_array_equal(fixed.num_rules, 5)
  for i in range(100):
    _check_task(fixed.goals[i], fixed.rules[i], fixed.init_tiles[i], 3)


def test_no_duplicates_and_canonical_form():
  config = xland.TaskConfig(depth=1, goal_ids=(4,), rule_ids=(3,),
                            tiles=(3, 4), colors=(1, 2, 3))
  # 6 objects: 6 x 5 x 6 = 180 tasks, so most draws are repeats.
  ts = xland.generate(config, 180, seed=0)
  keys = xland.canonical_keys(ts.goals, ts.rules, ts.init_tiles)
  assert len(xland.first_occurrences(keys)) == 180
  with pytest.raises(ValueError, match="only 180 distinct tasks found"):
    xland.generate(config, 181, seed=0)
  big = xland.generate(RICH, 20000, seed=0)
  keys = xland.canonical_keys(big.goals, big.rules, big.init_tiles)
  assert len(xland.first_occurrences(keys)) == 20000


def _key(goal, rules, tiles):
  return canonical.canonical_keys(np.array([goal], np.uint8),
                                  np.array([rules], np.uint8),
                                  np.array([tiles], np.uint8))[0]


def test_canonical_form_ignores_order_and_equivalent_encodings():
  red_ball, blue_key, green_star, pink_hex = (3, 1), (7, 3), (12, 2), (11, 11)
  goal = [4, *red_ball, *blue_key]                              # tile_near
  rules = [[3, *green_star, *pink_hex, *red_ball],              # tile_near
           [4, *green_star, *blue_key, *pink_hex],              # up(a, b)
           [1, *pink_hex, *green_star, 0, 0]]                   # agent_hold
  tiles = [green_star, pink_hex, green_star, (0, 0)]
  same = _key(goal, rules, tiles)
  other_goal = [4, *blue_key, *red_ball]
  other_rules = [[1, *pink_hex, *green_star, 0, 0],
                 [6, *blue_key, *green_star, *pink_hex],        # down(b, a)
                 [3, *pink_hex, *green_star, *red_ball]]
  other_tiles = [pink_hex, green_star, (0, 0), green_star]
  np.testing.assert_array_equal(_key(other_goal, other_rules, other_tiles),
                                same)
  # up(a, b) is not up(b, a); two green stars are not one; a colour counts.
  flipped = [rules[0], [4, *blue_key, *green_star, *pink_hex], rules[2]]
  assert (_key(goal, flipped, tiles) != same).any()
  assert (_key(goal, rules, [green_star, pink_hex, (0, 0), (0, 0)])
          != same).any()
  assert (_key([4, 3, 2, *blue_key], rules, tiles) != same).any()


def test_train_and_test_structures_are_disjoint_and_recoverable():
  config = xland.TaskConfig(depth=2, num_distractor_rules=2,
                            num_distractor_objects=1, test_fraction=0.3)
  train = xland.generate(config, 1500, seed=0, split="train")
  test = xland.generate(
      xland.TaskConfig(depth=2, num_distractor_rules=0, test_fraction=0.3),
      1500, seed=7, split="test")
  structures = {}
  for name, ts in (("train", train), ("test", test)):
    found = set()
    chains = xland.chain_rule_ids(ts.goals, ts.rules)
    for i in range(ts.num_tasks):
      structure = _check_task(ts.goals[i], ts.rules[i], ts.init_tiles[i], 2)
      found.add(structure)
      # The library recovers the same chain from the ruleset alone.
      recovered = [RULE_CLASS.get(int(r), int(r)) for r in chains[i] if r >= 0]
      assert tuple(recovered) == structure[1:]
    held_out = xland.in_test_split(ts.goals[:, 0], chains, 0.3)
    assert held_out.all() if name == "test" else not held_out.any()
    structures[name] = found
  assert structures["train"] and structures["test"]
  assert not structures["train"] & structures["test"]
  # About the asked share of structures is held out (11 x 11 x 11 of them).
  every = xland.generate(config, 20000, seed=1)
  share = xland.in_test_split(every.goals[:, 0],
                              xland.chain_rule_ids(every.goals, every.rules),
                              0.3).mean()
  assert 0.2 < share < 0.4


def test_mirrored_kinds_share_a_split():
  """down(a, b) is up(b, a): the same structure, so the same split."""
  goals = np.array([7, 9, 8, 10, 4])
  chains = np.array([[4, 5], [6, 7], [4, 7], [6, 5], [3, 3]])
  test = xland.in_test_split(goals, chains, 0.5)
  assert test[0] == test[1] and test[2] == test[3]
  h = canonical.structure_hash(goals, chains)
  assert h[0] == h[1] and h[2] == h[3]
  assert len({int(h[0]), int(h[2]), int(h[4])}) == 3


def test_deterministic_from_the_seed_and_prefix_stable():
  a = xland.generate(RICH, 3000, seed=11)
  b = xland.generate(RICH, 3000, seed=11)
  c = xland.generate(RICH, 3000, seed=12)
  small = xland.generate(RICH, 100, seed=11)
  for x, y, z, s in zip(a[:4], b[:4], c[:4], small[:4]):
    np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(x[:100], s)
  assert not np.array_equal(a.rules, c.rules)


def test_layouts_and_env_ids():
  assert enc.env_id("R4-13x13") == "XLand-MiniGrid-R4-13x13"
  assert "R1-9x9" in xland.LAYOUTS and "R4-13x13" in xland.LAYOUTS


@pytest.mark.parametrize("kwargs,message", [
    ({"depth": -1}, "depth must be an integer >= 0"),
    ({"num_distractor_rules": 1.5}, "num_distractor_rules must be"),
    ({"tiles": (3, 6)}, r"tiles holds \[6\], not among the pickable"),
    ({"colors": (0, 1)}, r"colors holds \[0\]"),
    ({"colors": ()}, "colors must not be empty"),
    ({"colors": "red"}, "colors must be a sequence of integer ids"),
    ({"goal_ids": (5,)}, "not among the generated goals"),
    ({"rule_ids": (1, 1)}, "repeats"),
    ({"layout": "R3-9x9"}, "unknown layout 'R3-9x9'; valid: R1-9x9"),
    ({"dead_end_prob": 2.0}, "dead_end_prob"),
    ({"num_distractor_objects": 2, "min_distractor_objects": 3},
     r"min_distractor_objects must be None or an integer in \[0, "
     r"num_distractor_objects=2\], got 3"),
    ({"min_distractor_objects": -1}, "min_distractor_objects"),
    ({"depth": 2, "min_depth": 3},
     r"min_depth must be None or an integer in \[0, depth=2\], got 3"),
    ({"min_depth": -1}, "min_depth must be"),
    ({"test_fraction": 1.0}, "test_fraction"),
    ({"depth": 10, "tiles": (3,), "colors": (1, 2, 3)}, "distinct objects"),
    ({"depth": 10, "num_distractor_objects": 37}, "do not fit layout R1-9x9"),
])
def test_bad_config(kwargs, message):
  with pytest.raises(ValueError, match=message):
    xland.TaskConfig(**kwargs)


def test_config_ids_are_normalised_to_tuples():
  config = xland.TaskConfig(tiles=[3, np.int64(4)], colors=np.array([1, 2]))
  assert config.tiles == (3, 4) and config.colors == (1, 2)
  assert config == xland.TaskConfig(tiles=(3, 4), colors=(1, 2))
  hash(config)


def test_bad_generate_arguments():
  with pytest.raises(ValueError, match="num must be an integer > 0"):
    xland.generate(xland.TaskConfig(), 0, seed=0)
  with pytest.raises(ValueError, match="seed must be"):
    xland.generate(xland.TaskConfig(), 1, seed=-1)
  with pytest.raises(ValueError, match="split must be one of"):
    xland.generate(xland.TaskConfig(), 1, seed=0, split="valid")


def test_exhausted_space_and_empty_split():
  tiny = xland.TaskConfig(depth=0, goal_ids=(1,), tiles=(3,), colors=(1, 2))
  assert xland.generate(tiny, 2, seed=0).num_tasks == 2
  with pytest.raises(ValueError, match="only 2 distinct tasks found"):
    xland.generate(tiny, 3, seed=0)
  # At depth 0 a structure is just the goal's kind: one in train, its split
  # holds nothing of the other.
  for goal in enc.SUPPORTED_GOAL_IDS:
    held_out = xland.in_test_split(np.array([goal]), np.zeros((1, 0)), 0.2)[0]
    config = xland.TaskConfig(depth=0, goal_ids=(goal,))
    empty = "train" if held_out else "test"
    with pytest.raises(ValueError, match=f"falls in the {empty} split"):
      xland.generate(config, 1, seed=0, split=empty)


def test_describe_ruleset_in_words():
  goal = np.array([4, 3, 1, 7, 3], np.uint8)
  rules = np.array([[3, 12, 2, 11, 11, 3, 1], [1, 11, 11, 12, 2, 0, 0],
                    [0] * 7], np.uint8)
  tiles = np.array([[12, 2], [11, 11], [7, 3], [0, 0]], np.uint8)
  assert xland.describe_ruleset(goal, rules, tiles).splitlines() == [
      "goal: tile_near(red ball, blue key)",
      "rule: tile_near(green star, pink hex) -> red ball",
      "rule: agent_hold(pink hex) -> green star",
      "objects: green star, pink hex, blue key"]
