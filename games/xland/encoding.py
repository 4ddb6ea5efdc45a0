"""XLand-MiniGrid's encodings of objects, goals and production rules.

The numbers are xminigrid 0.9.3's own (`xminigrid.core.constants`,
`xminigrid.core.goals`, `xminigrid.core.rules`), copied as plain integers so
that this module needs neither xminigrid nor JAX; `tests/eval/
test_xland_task_sets.py` checks them against xminigrid.

An object is a (tile, colour) pair of uint8. A goal is 5 uint8:
`[goal_id, tile_a, colour_a, tile_b, colour_b]` (unused entries 0). A rule
is 7 uint8: one-input rules `[rule_id, tile_a, colour_a, tile_p, colour_p, 0,
0]`, two-input rules `[rule_id, tile_a, colour_a, tile_b, colour_b, tile_p,
colour_p]` (p: the product). Goal and rule id 0 are xminigrid's empty
padding; an object (0, 0) in `init_tiles` is padding that reset skips.

What each goal and rule means in xminigrid (checked after the action, rules
in list order, then the goal):
- agent_hold (goal 1 / rule 1): on pick-up, the pocket holds a (rule: it
  becomes p).
- agent_near (goal 3 / rule 2): on move-forward, a is next to the agent
  (rule: every such a becomes p).
- tile_near (goal 4 / rule 3): on put-down, the put cell holds a and a
  neighbour b, or the reverse (rule: the neighbour becomes p, the put cell
  floor; both inputs are consumed).
- tile_near_{up,right,down,left} (goals 7-10 / rules 4-7): tile_near with b
  on that side of a. `down(a, b)` is `up(b, a)` and `left(a, b)` is
  `right(b, a)`, for goals and rules alike (the product lands in the cell
  that was not put, either way).
- agent_near_{up,right,down,left} (goals 11-14 / rules 8-11): on
  move-forward or put-down, a is on that side of the agent (a fixed compass
  side, not the agent's facing).
Goals 2 (agent on tile), 5 and 6 (positions) need walkable tiles or fixed
cells of a layout and are not generated.
"""

from __future__ import annotations

import numpy as np

NUM_TILES = 13
NUM_COLORS = 12

TILES = {"empty": 0, "floor": 1, "wall": 2, "ball": 3, "square": 4,
         "pyramid": 5, "goal": 6, "key": 7, "door_locked": 8,
         "door_closed": 9, "door_open": 10, "hex": 11, "star": 12}
COLORS = {"empty": 0, "red": 1, "green": 2, "blue": 3, "purple": 4,
          "yellow": 5, "grey": 6, "black": 7, "orange": 8, "white": 9,
          "brown": 10, "pink": 11}
TILE_NAMES = {v: k for k, v in TILES.items()}
COLOR_NAMES = {v: k for k, v in COLORS.items()}

# Objects the agent can pick up (xminigrid's PICKABLE). Every generated
# object is one of these, so the agent can carry any object next to any
# other: that is what makes a symbolically solvable task solvable on the grid.
PICKABLE_TILES = (3, 4, 5, 7, 11, 12)
DEFAULT_TILES = PICKABLE_TILES
# Colours an object may have (not 0, padding).
OBJECT_COLORS = tuple(range(1, NUM_COLORS))
# All colours but black, the floor's colour.
DEFAULT_COLORS = (1, 2, 3, 4, 5, 6, 8, 9, 10, 11)

GOALS = {"empty": 0, "agent_hold": 1, "agent_on_tile": 2, "agent_near": 3,
         "tile_near": 4, "tile_on_position": 5, "agent_on_position": 6,
         "tile_near_up": 7, "tile_near_right": 8, "tile_near_down": 9,
         "tile_near_left": 10, "agent_near_up": 11, "agent_near_right": 12,
         "agent_near_down": 13, "agent_near_left": 14}
RULES = {"empty": 0, "agent_hold": 1, "agent_near": 2, "tile_near": 3,
         "tile_near_up": 4, "tile_near_right": 5, "tile_near_down": 6,
         "tile_near_left": 7, "agent_near_up": 8, "agent_near_right": 9,
         "agent_near_down": 10, "agent_near_left": 11}
GOAL_NAMES = {v: k for k, v in GOALS.items()}
RULE_NAMES = {v: k for k, v in RULES.items()}
NUM_GOAL_IDS = 15
NUM_RULE_IDS = 12
GOAL_LEN = 5
RULE_LEN = 7

SUPPORTED_GOAL_IDS = (1, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14)
SUPPORTED_RULE_IDS = tuple(range(1, 12))
# Rules triggered by putting one input next to the other: the only kind a
# dead end may be (see `games.xland.tasks`).
TILE_NEAR_RULE_IDS = (3, 4, 5, 6, 7)

# Objects a goal / rule takes (0: not generated).
GOAL_ARITY = np.array([0, 1, 0, 1, 2, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1], np.int64)
RULE_ARITY = np.array([0, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1], np.int64)

# Id -> the id of its class under the equivalences down(a,b) = up(b,a) and
# left(a,b) = right(b,a); `*_SWAPS` marks the ids whose inputs swap.
GOAL_CLASS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 7, 8, 11, 12, 13, 14],
                      np.int64)
GOAL_SWAPS = np.isin(np.arange(NUM_GOAL_IDS), (9, 10))
RULE_CLASS = np.array([0, 1, 2, 3, 4, 5, 4, 5, 8, 9, 10, 11], np.int64)
RULE_SWAPS = np.isin(np.arange(NUM_RULE_IDS), (6, 7))
# Ids whose two inputs are unordered (tile_near).
GOAL_SYMMETRIC = np.isin(np.arange(NUM_GOAL_IDS), (4,))
RULE_SYMMETRIC = np.isin(np.arange(NUM_RULE_IDS), (3,))

# xminigrid's XLand layouts ("XLand-MiniGrid-<layout>"): free floor cells,
# where reset places the objects and then the agent (checked in the tests).
LAYOUT_FREE_CELLS = {
    "R1-9x9": 49, "R1-11x11": 81, "R1-13x13": 121, "R1-15x15": 169,
    "R1-17x17": 225, "R2-9x9": 42, "R2-11x11": 72, "R2-13x13": 110,
    "R2-15x15": 156, "R2-17x17": 210, "R4-9x9": 36, "R4-11x11": 64,
    "R4-13x13": 100, "R4-15x15": 144, "R4-17x17": 196, "R6-13x13": 87,
    "R6-17x17": 175, "R6-19x19": 231, "R9-16x16": 144, "R9-19x19": 225,
    "R9-25x25": 441,
}
LAYOUTS = tuple(LAYOUT_FREE_CELLS)


def env_id(layout: str) -> str:
  """The xminigrid environment id of `layout`, e.g. "XLand-MiniGrid-R1-9x9".

  Raises:
    ValueError: `layout` is not one of `LAYOUTS`.
  """
  if layout not in LAYOUT_FREE_CELLS:
    raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
  return f"XLand-MiniGrid-{layout}"


def object_codes(tiles: np.ndarray) -> np.ndarray:
  """[..., 2] (tile, colour) uint8 -> [...] int64 codes tile * 256 + colour."""
  tiles = np.asarray(tiles)
  return tiles[..., 0].astype(np.int64) * 256 + tiles[..., 1]


def describe_object(tile: int, colour: int) -> str:
  """E.g. "red ball"."""
  return (f"{COLOR_NAMES.get(int(colour), colour)} "
          f"{TILE_NAMES.get(int(tile), tile)}")


def describe_ruleset(goal: np.ndarray, rules: np.ndarray,
                     init_tiles: np.ndarray) -> str:
  """A one-task summary in words, for people (not parsed back)."""
  def objs(row, n):
    return [describe_object(row[1 + 2 * i], row[2 + 2 * i]) for i in range(n)]
  goal = np.asarray(goal)
  n = int(GOAL_ARITY[goal[0]]) if goal[0] < NUM_GOAL_IDS else 0
  args = objs(goal, n) if n else [str(int(v)) for v in goal[1:]]
  lines = [f"goal: {GOAL_NAMES.get(int(goal[0]), goal[0])}({', '.join(args)})"]
  for rule in np.asarray(rules):
    if rule[0] == 0:
      continue
    n = int(RULE_ARITY[rule[0]])
    names = objs(rule, n + 1)
    lines.append(f"rule: {RULE_NAMES[int(rule[0])]}({', '.join(names[:n])})"
                 f" -> {names[n]}")
  objects = [describe_object(*t) for t in np.asarray(init_tiles) if t[0]]
  lines.append(f"objects: {', '.join(objects)}")
  return "\n".join(lines)


def check_encodings(goals: np.ndarray, rules: np.ndarray,
                    init_tiles: np.ndarray, num_rules: np.ndarray) -> None:
  """Checks arrays in xminigrid's benchmark layout.

  Args:
    goals: [N, 5] goal encodings.
    rules: [N, R, 7] rule encodings (id 0 rows are padding).
    init_tiles: [N, O, 2] initial objects ((0, 0) rows are padding).
    num_rules: [N] rules per task.

  Raises:
    ValueError: a shape, dtype or id is not one xminigrid accepts.
  """
  arrays = {"goals": goals, "rules": rules, "init_tiles": init_tiles,
            "num_rules": num_rules}
  for name, a in arrays.items():
    if not isinstance(a, np.ndarray) or not np.issubdtype(a.dtype, np.integer):
      raise ValueError(f"{name} must be an integer numpy array, got "
                       f"{type(a).__name__} {getattr(a, 'dtype', '')}")
  n = len(goals)
  shapes = {"goals": (n, GOAL_LEN), "rules": (n, None, RULE_LEN),
            "init_tiles": (n, None, 2), "num_rules": (n,)}
  for name, shape in shapes.items():
    got = arrays[name].shape
    if len(got) != len(shape) or any(s is not None and g != s
                                     for g, s in zip(got, shape)):
      want = "x".join("?" if s is None else str(s) for s in shape)
      raise ValueError(f"{name} has shape {got}, expected {want} for {n} "
                       "tasks")
  if n == 0:
    raise ValueError("the task set is empty")
  for name, a in arrays.items():
    if name != "num_rules" and (a.min() < 0 or a.max() > 255):
      raise ValueError(f"{name} holds values outside uint8")
  if goals[:, 0].max() >= NUM_GOAL_IDS:
    raise ValueError(f"goal id {goals[:, 0].max()} is not an xminigrid goal "
                     f"(0..{NUM_GOAL_IDS - 1})")
  if rules[..., 0].max() >= NUM_RULE_IDS:
    raise ValueError(f"rule id {rules[..., 0].max()} is not an xminigrid "
                     f"rule (0..{NUM_RULE_IDS - 1})")
  objects = np.concatenate([goals[:, 1:].reshape(n, -1, 2),
                            rules[..., 1:].reshape(n, -1, 2), init_tiles], 1)
  if objects[..., 0].max() >= NUM_TILES or objects[..., 1].max() >= NUM_COLORS:
    raise ValueError(f"an object is not an xminigrid (tile < {NUM_TILES}, "
                     f"colour < {NUM_COLORS}) pair")
  counted = (rules[..., 0] > 0).sum(1)
  if not np.array_equal(counted, num_rules):
    i = int(np.flatnonzero(counted != num_rules)[0])
    raise ValueError(f"num_rules[{i}] is {num_rules[i]} but task {i} has "
                     f"{counted[i]} rules")
