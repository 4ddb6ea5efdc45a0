"""A procedural generator of XLand-MiniGrid tasks (rulesets), vectorised.

A task, as in AdA (Adaptive Agent team 2023, "Human-Timescale Adaptation in
an Open-Ended Task Space", https://arxiv.org/abs/2301.07608, sec. 2.1, the
XLand 2.0 task space) and XLand-MiniGrid (Nikulin et al. 2023,
https://arxiv.org/abs/2312.12044, its benchmarks' rule trees), is a goal,
production rules and initial objects. It is built backwards from the goal:

1. The goal: a kind (`goal_ids`) and its one or two objects.
2. The chain: `depth` production rules (or, with `min_depth`, a number drawn
   per task, as XLand-MiniGrid's benchmarks sample the depth of their rule
   trees). The first produces one of the goal's
   objects; each next one produces one of the previous rule's inputs. So
   the goal is reachable from the initial objects by construction: fire the
   chain from its far end to the goal. Every chain rule is needed (each
   object of the chain exists in one place only, and nothing else produces
   it), so the fewest rule firings that reach the goal is exactly `depth`.
   The chain is a path, not XLand-MiniGrid's full tree, so the number of
   objects grows linearly with depth and fits the small rooms.
3. Distractor objects: `num_distractor_objects` kinds found nowhere in the
   chain (or, with `min_distractor_objects`, a number drawn per task).
4. Distractor rules (`num_distractor_rules`), each producing a fresh object
   that nothing needs (so a distractor never gives a shortcut). Rule j's
   inputs come from the distractor objects and the products of distractor
   rules before it, so distractors form chains of their own that lead
   nowhere; when that pool is too small the missing inputs are objects that
   never exist (the rule can never fire). With probability `dead_end_prob`
   a tile_near-kind distractor instead takes one object of the chain and one
   of the pool: a dead end, as AdA's task space has (sec. 2.1).
   Firing it destroys an object the solution needs, and as every chain
   object is unique, the task cannot be solved from there on. A dead end
   fires only when the agent puts that chain object next to that distractor
   object, which no step of the solution needs, so the task stays solvable
   from the start. Distractor rules never take a chain object in any other
   way: an agent_hold or agent_near rule on a chain object would fire on the
   very pick-up or approach the solution needs (and on the goal's own check
   step), which could make the task unsolvable.
5. Rules and objects are shuffled: their order carries no information.

All objects are pickable tiles, so the agent can carry any object next to
any other: a task solvable over the objects is solvable on the grid.
Duplicates (same canonical form, `games.xland.canonical`) are dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, NamedTuple

import numpy as np

from games.xland import canonical
from games.xland import encoding as enc

Split = Literal["train", "test", "all"]
SPLITS = ("train", "test", "all")
# Tasks drawn per step. Fixed, so that a set is the same whatever its size:
# the first N tasks of a larger set are the set of N tasks (same seed).
_BATCH = 1 << 15


@dataclasses.dataclass(frozen=True)
class TaskConfig:
  """What tasks to generate.

  Attributes:
    depth: production rules on the chain from the initial objects to the goal
      (0: the goal's objects are there from the start); at most, with
      `min_depth`.
    min_depth: None: every task's chain has `depth` rules; an integer: each
      task's depth is drawn uniformly from [min_depth, depth], so one pool
      mixes tasks a beginner solves with tasks it cannot (the regime in which
      a curriculum has something to choose). Rule rows of a shorter chain
      are padding (rule id 0), after the task's rules.
    num_distractor_rules: rules besides the chain.
    num_distractor_objects: initial objects besides the chain's (at most,
      with `min_distractor_objects`).
    min_distractor_objects: None: every task has `num_distractor_objects`;
      an integer: each task has a number drawn uniformly from
      [min_distractor_objects, num_distractor_objects], so one pool mixes
      easy and hard search (fewer candidates). A distractor rule whose input
      is an absent distractor object never fires.
    dead_end_prob: chance that a tile_near-kind distractor rule is a dead end.
    layout: xminigrid's layout, e.g. "R1-9x9" (`encoding.LAYOUTS`); the
      environment uses it, the generator only checks that the objects fit.
    tiles: object tiles (xminigrid ids, pickable only).
    colors: object colours (xminigrid ids, 1..11).
    goal_ids: goal kinds drawn from, uniformly.
    rule_ids: rule kinds drawn from, uniformly (chain and distractors).
    test_fraction: share of structures held out for the test split.
  """
  depth: int = 1
  min_depth: int | None = None
  num_distractor_rules: int = 0
  num_distractor_objects: int = 0
  min_distractor_objects: int | None = None
  dead_end_prob: float = 0.5
  layout: str = "R1-9x9"
  tiles: tuple[int, ...] = enc.DEFAULT_TILES
  colors: tuple[int, ...] = enc.DEFAULT_COLORS
  goal_ids: tuple[int, ...] = enc.SUPPORTED_GOAL_IDS
  rule_ids: tuple[int, ...] = enc.SUPPORTED_RULE_IDS
  test_fraction: float = 0.2

  def __post_init__(self):
    for name in ("depth", "num_distractor_rules", "num_distractor_objects"):
      value = getattr(self, name)
      if not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if self.min_depth is not None and (
        not isinstance(self.min_depth, (int, np.integer)) or
        not 0 <= self.min_depth <= self.depth):
      raise ValueError(f"min_depth must be None or an integer in [0, "
                       f"depth={self.depth}], got {self.min_depth!r}")
    low = self.min_distractor_objects
    if low is not None and (not isinstance(low, (int, np.integer)) or
                            not 0 <= low <= self.num_distractor_objects):
      raise ValueError(
          f"min_distractor_objects must be None or an integer in [0, "
          f"num_distractor_objects={self.num_distractor_objects}], got "
          f"{low!r}")
    for name in ("tiles", "colors", "goal_ids", "rule_ids"):
      try:  # any sequence of integers -> a tuple of int (hashable, equal)
        ids = tuple(int(i) for i in getattr(self, name))
      except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of integer ids, got "
                         f"{getattr(self, name)!r}") from None
      object.__setattr__(self, name, ids)
    _check_ids("tiles", self.tiles, enc.PICKABLE_TILES, "pickable tiles")
    _check_ids("colors", self.colors, enc.OBJECT_COLORS, "colours 1..11")
    _check_ids("goal_ids", self.goal_ids, enc.SUPPORTED_GOAL_IDS,
               "generated goals")
    if self.depth + self.num_distractor_rules > 0:
      _check_ids("rule_ids", self.rule_ids, enc.SUPPORTED_RULE_IDS,
                 "rules 1..11")
    if not 0.0 <= self.dead_end_prob <= 1.0:
      raise ValueError(f"dead_end_prob must be in [0, 1], got "
                       f"{self.dead_end_prob}")
    if not 0.0 < self.test_fraction < 1.0:
      raise ValueError(f"test_fraction must be in (0, 1), got "
                       f"{self.test_fraction}")
    enc.env_id(self.layout)  # raises on an unknown layout
    if self.num_slots > self.num_kinds:
      raise ValueError(
          f"these tasks need up to {self.num_slots} distinct objects but "
          f"{len(self.tiles)} tiles x {len(self.colors)} colours give "
          f"{self.num_kinds}; allow more tiles or colours, or lower depth or "
          "distractors")
    room = enc.LAYOUT_FREE_CELLS[self.layout] - 1  # one cell for the agent
    if self.max_objects > room:
      raise ValueError(
          f"up to {self.max_objects} initial objects do not fit layout "
          f"{self.layout} ({room} free cells besides the agent's); lower "
          "depth or distractor objects, or take a larger layout")

  @property
  def depths(self) -> str:
    """The chain depth as a label: "2", or "0-2" with `min_depth`."""
    if self.min_depth is None or self.min_depth == self.depth:
      return str(self.depth)
    return f"{self.min_depth}-{self.depth}"

  @property
  def num_kinds(self) -> int:
    return len(self.tiles) * len(self.colors)

  @property
  def num_rules(self) -> int:
    return self.depth + self.num_distractor_rules

  @property
  def max_objects(self) -> int:
    """Initial objects at most: the chain's leaves plus the distractors."""
    return 2 + self.depth + self.num_distractor_objects

  @property
  def num_slots(self) -> int:
    """Distinct objects a task may name: 2 goal + 2 per chain rule, the
    distractor objects and products, and up to 2 that never exist (inputs of
    the first distractor rules while the pool is smaller than 2)."""
    never = max(0, 2 - self.num_distractor_objects)
    distractors = (self.num_distractor_objects + self.num_distractor_rules +
                   never if self.num_distractor_rules else
                   self.num_distractor_objects)
    return 2 + 2 * self.depth + distractors


def _check_ids(name: str, ids, valid, what: str) -> None:
  ids = tuple(ids)
  if not ids:
    raise ValueError(f"{name} must not be empty")
  bad = [i for i in ids if i not in tuple(valid)]
  if bad:
    raise ValueError(f"{name} holds {bad}, not among the {what}: "
                     f"{sorted(set(valid))}")
  if len(set(ids)) != len(ids):
    raise ValueError(f"{name} holds repeats: {list(ids)}")


class TaskSet(NamedTuple):
  """Tasks in xminigrid's benchmark layout, with how they were made."""
  goals: np.ndarray       # [N, 5] uint8
  rules: np.ndarray       # [N, R, 7] uint8, R = max(1, config.num_rules)
  init_tiles: np.ndarray  # [N, O, 2] uint8, O = config.max_objects
  num_rules: np.ndarray   # [N] uint8
  layout: str | None      # "R1-9x9"; None when unknown (a foreign set)
  split: str | None       # "train", "test" or "all"
  config: TaskConfig | None
  seed: int | None

  @property
  def num_tasks(self) -> int:
    return len(self.goals)


def generate(config: TaskConfig, num: int, seed: int,
             split: Split = "all") -> TaskSet:
  """`num` distinct tasks, deterministic in (`config`, `seed`, `split`).

  Args:
    config: what tasks.
    num: how many.
    seed: the random seed; task i does not depend on `num`.
    split: "train" or "test": only tasks of that split's structures
      (`canonical.in_test_split`); "all": any.

  Raises:
    ValueError: bad arguments, no structure in `split`, or fewer than `num`
      distinct tasks exist for `config`.
  """
  if not isinstance(num, (int, np.integer)) or num <= 0:
    raise ValueError(f"num must be an integer > 0, got {num!r}")
  if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
    raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
  if split not in SPLITS:
    raise ValueError(f"split must be one of {', '.join(SPLITS)}, got "
                     f"{split!r}")
  parts, keys, kept = [], [], np.zeros(0, np.int64)
  drawn, target = 0, num
  while True:
    while drawn < target:
      rng = np.random.default_rng(
          [int(seed) & 0xFFFFFFFF, int(seed) >> 32, len(parts)])
      part = _draw(config, rng, split)
      if not parts and len(part[0]) == 0:
        raise ValueError(
            f"no task structure of these goal and rule kinds at depth "
            f"{config.depths} falls in the {split} split (test_fraction "
            f"{config.test_fraction}); allow more kinds or change the depth")
      parts.append(part)
      keys.append(canonical.canonical_keys(*part))
      drawn += len(part[0])
    before = len(kept)
    kept = canonical.first_occurrences(np.concatenate(keys))
    if len(kept) >= num:
      break
    if len(kept) == before:
      raise ValueError(
          f"only {len(kept)} distinct tasks found for these parameters "
          f"(asked for {num}); allow more tiles, colours or kinds, or add "
          "depth or distractors")
    # Draw about what the shortfall needs at the duplicate rate seen so far.
    target = drawn + max(
        1, int(1.1 * (num - len(kept)) * drawn / max(len(kept), 1)))
  kept = kept[:num]
  goals, rules, tiles = (np.concatenate([p[i] for p in parts])[kept]
                         for i in range(3))
  return TaskSet(goals=goals, rules=rules, init_tiles=tiles,
                 num_rules=(rules[..., 0] > 0).sum(1).astype(np.uint8),
                 layout=config.layout, split=split, config=config,
                 seed=int(seed))


def _draw(config: TaskConfig, rng: np.random.Generator, split: Split
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """One batch: (goals [B, 5], rules [B, R, 7], init_tiles [B, O, 2]) of
  the structures in `split` among `_BATCH` drawn, duplicates included."""
  d, n_dr, n_do = (config.depth, config.num_distractor_rules,
                   config.num_distractor_objects)
  goal_id = rng.choice(np.asarray(config.goal_ids), _BATCH)
  chain_id = rng.choice(np.asarray(config.rule_ids), (_BATCH, d))
  task_depth = np.full(_BATCH, d)
  if config.min_depth is not None:  # drawn only then: the default config's
    # sets stay what they were
    task_depth = rng.integers(config.min_depth, d + 1, _BATCH)
  live = np.arange(d) < task_depth[:, None]                 # [B, d]
  if split != "all":
    test = canonical.in_test_split(goal_id, np.where(live, chain_id, -1),
                                   config.test_fraction)
    keep = test if split == "test" else ~test
    goal_id, chain_id, live = goal_id[keep], chain_id[keep], live[keep]
  b = len(goal_id)
  rows = np.arange(b)
  # Slots: 0-1 the goal's objects, 2k+2 and 2k+3 chain rule k's inputs,
  # then distractor objects, distractor products, up to 2 objects never
  # present.
  base_o = 2 + 2 * d
  base_p = base_o + n_do
  base_g = base_p + n_dr
  kinds = np.argsort(rng.random((b, config.num_kinds)), axis=1)
  kinds = kinds[:, :config.num_slots]

  goal_arity = enc.GOAL_ARITY[goal_id]
  chain_arity = enc.RULE_ARITY[chain_id]                     # [b, d]
  used = np.zeros((b, base_o), bool)
  used[:, 0] = True
  used[:, 1] = goal_arity == 2
  used[:, 2::2] = live
  used[:, 3::2] = (chain_arity == 2) & live
  # Rule k produces the object in slot `target[k]` of the level before it.
  target = np.zeros((b, d), np.int64)
  first = np.zeros(b, np.int64)
  pick = rng.integers(0, 2, (b, max(d, 1)))
  for k in range(d):
    arity = goal_arity if k == 0 else chain_arity[:, k - 1]
    target[:, k] = first + np.where(arity == 2, pick[:, k], 0)
    first = np.full(b, 2 + 2 * k)
  expanded = np.zeros((b, base_o), bool)
  expanded[rows[:, None], target] = live  # links target distinct levels
  leaves = used & ~expanded

  rule_type = np.zeros((b, config.num_rules), np.int64)
  rule_in = np.zeros((b, config.num_rules, 2), np.int64)   # kind slots
  rule_prod = np.zeros((b, config.num_rules), np.int64)
  rule_type[:, :d] = np.where(live, chain_id, 0)
  rule_in[:, :d, 0] = 2 + 2 * np.arange(d)
  rule_in[:, :d, 1] = 3 + 2 * np.arange(d)
  rule_prod[:, :d] = target
  if n_dr:
    _distractor_rules(config, rng, used, rule_type[:, d:], rule_in[:, d:],
                      rule_prod[:, d:], base_o, base_p, base_g)

  tile_of = np.asarray(config.tiles, np.uint8)[kinds // len(config.colors)]
  color_of = np.asarray(config.colors, np.uint8)[kinds % len(config.colors)]

  def obj(slots):  # kind slots [b, ...] -> [b, ..., 2] (tile, colour)
    idx = rows.reshape((b,) + (1,) * (slots.ndim - 1))
    return np.stack([tile_of[idx, slots], color_of[idx, slots]], axis=-1)

  goals = np.zeros((b, enc.GOAL_LEN), np.uint8)
  goals[:, 0] = goal_id
  goals[:, 1:3] = obj(np.zeros(b, np.int64))
  goals[:, 3:5] = obj(np.ones(b, np.int64)) * (goal_arity == 2)[:, None]

  rules = np.zeros((b, max(config.num_rules, 1), enc.RULE_LEN), np.uint8)
  if config.num_rules:
    two = (enc.RULE_ARITY[rule_type] == 2)[..., None]
    a, second, prod = obj(rule_in[..., 0]), obj(rule_in[..., 1]), obj(
        rule_prod)
    rules[..., 0] = rule_type
    rules[..., 1:3] = a
    rules[..., 3:5] = np.where(two, second, prod)
    rules[..., 5:7] = np.where(two, prod, 0)
    rules *= (rule_type > 0)[..., None].astype(np.uint8)
    u = rng.random((b, config.num_rules))
    order = np.argsort(np.where(rule_type > 0, u, 2.0), axis=1)  # padding
    # rows (a shorter chain's) last
    rules = rules[rows[:, None], order]

  # Initial objects: the chain's leaves and the distractor objects, shuffled,
  # absent ones ((0, 0): xminigrid's padding) last.
  slots = np.concatenate([np.broadcast_to(np.arange(base_o), (b, base_o)),
                          base_o + np.broadcast_to(np.arange(n_do), (b, n_do))],
                         axis=1)
  distractors = np.ones((b, n_do), bool)
  if config.min_distractor_objects is not None:  # drawn only then: the
    # default config's sets stay what they were
    count = rng.integers(config.min_distractor_objects, n_do + 1, b)
    distractors = np.arange(n_do) < count[:, None]
  present = np.concatenate([leaves, distractors], axis=1)
  order = np.argsort(np.where(present, rng.random(present.shape), 2.0),
                     axis=1)[:, :config.max_objects]
  init_tiles = obj(slots[rows[:, None], order])
  init_tiles *= present[rows[:, None], order][..., None].astype(np.uint8)
  return goals, rules, init_tiles


def _distractor_rules(config: TaskConfig, rng: np.random.Generator,
                      chain_used: np.ndarray, rule_type: np.ndarray,
                      rule_in: np.ndarray, rule_prod: np.ndarray,
                      base_o: int, base_p: int, base_g: int) -> None:
  """Fills the distractor rules' kinds, inputs and products (kind slots) in
  place; see the module doc."""
  b, n_dr = rule_type.shape
  n_do = config.num_distractor_objects
  rule_type[:] = rng.choice(np.asarray(config.rule_ids), (b, n_dr))
  two = enc.RULE_ARITY[rule_type] == 2
  u = rng.random((b, n_dr, 3))
  for j in range(n_dr):
    pool = n_do + j  # distractor objects, then products of rules before j
    i1 = np.minimum((u[:, j, 0] * pool).astype(np.int64), max(pool - 1, 0))
    i2 = np.minimum((u[:, j, 1] * (pool - 1)).astype(np.int64),
                    max(pool - 2, 0))
    i2 = i2 + (i2 >= i1)
    first = np.where(pool >= 1, base_o + i1, base_g)
    second = np.where(pool >= 2, base_o + i2, base_g + (pool == 0))
    # A dead end: a chain object and the pool object drawn first, in either
    # order (the side matters to the directional kinds).
    dead = (np.isin(rule_type[:, j], enc.TILE_NEAR_RULE_IDS) &
            (u[:, j, 2] < config.dead_end_prob))
    chain_obj = np.argmax(np.where(chain_used, rng.random(chain_used.shape),
                                   -1.0), axis=1)
    flip = rng.random(b) < 0.5
    dead_a = np.where(flip, first, chain_obj)
    dead_b = np.where(flip, chain_obj, first)
    rule_in[:, j, 0] = np.where(dead, dead_a, first)
    rule_in[:, j, 1] = np.where(dead, dead_b, np.where(two[:, j], second, 0))
    rule_prod[:, j] = base_p + j
