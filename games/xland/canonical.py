"""Canonical forms of XLand-MiniGrid rulesets, and their structure.

Two rulesets are the same task when they have the same goal, the same rules
as a set (in any order) and the same initial objects as a multiset (in any
order): xminigrid places the objects at random cells and applies every rule
on every step, so neither order means anything. Equivalent encodings are
merged too: tile_near's inputs are unordered, and `down(a, b)` /
`left(a, b)` are `up(b, a)` / `right(b, a)` (see `games.xland.encoding`).

The structure of a task is its goal's kind and the kinds of the production
rules on its chain, from the goal backwards, under the same equivalences:
objects, colours, distractors and layout are not part of it. The train/test
split is a fixed hash of the structure (`in_test_split`), so a test task's
structure is never a train task's structure, whatever the seeds, sizes,
distractors or layouts of the two sets.
"""

from __future__ import annotations

import numpy as np

from games.xland import encoding as enc

# Changing the salt reassigns every structure to train or test.
SPLIT_SALT = 0xADA_2023_0760_7
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def canonical_keys(goals: np.ndarray, rules: np.ndarray,
                   init_tiles: np.ndarray) -> np.ndarray:
  """One row per task; equal rows iff equal tasks (see the module doc).

  Args:
    goals: [N, 5] goal encodings.
    rules: [N, R, 7] rule encodings.
    init_tiles: [N, O, 2] initial objects.

  Returns:
    [N, 1 + R + O] int64: the canonical goal, the canonical rules sorted, the
    objects sorted.
  """
  gid = goals[:, 0].astype(np.int64)
  a, b = enc.object_codes(goals[:, 1:3]), enc.object_codes(goals[:, 3:5])
  swap = enc.GOAL_SWAPS[gid] | (enc.GOAL_SYMMETRIC[gid] & (a > b))
  a, b = np.where(swap, b, a), np.where(swap, a, b)
  goal_key = (enc.GOAL_CLASS[gid] << 32) | (a << 16) | b

  rid = rules[..., 0].astype(np.int64)
  two = enc.RULE_ARITY[rid] == 2
  a = enc.object_codes(rules[..., 1:3])
  second, third = (enc.object_codes(rules[..., 3:5]),
                   enc.object_codes(rules[..., 5:7]))
  b, p = np.where(two, second, 0), np.where(two, third, second)
  swap = enc.RULE_SWAPS[rid] | (enc.RULE_SYMMETRIC[rid] & (a > b))
  a, b = np.where(swap, b, a), np.where(swap, a, b)
  rule_keys = np.sort(
      (enc.RULE_CLASS[rid] << 48) | (a << 32) | (b << 16) | p, axis=1)
  object_keys = np.sort(enc.object_codes(init_tiles), axis=1)
  return np.concatenate([goal_key[:, None], rule_keys, object_keys], axis=1)


def first_occurrences(keys: np.ndarray) -> np.ndarray:
  """Indices of the first row of each distinct row of `keys` [N, W], in
  increasing order (so dropping the rest keeps the generation order)."""
  n = len(keys)
  if n == 0:
    return np.zeros(0, np.int64)
  # lexsort's last key is the primary one; the index breaks ties.
  order = np.lexsort((np.arange(n), *keys.T[::-1]))
  ordered = keys[order]
  new = np.ones(n, bool)
  new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
  return np.sort(order[new])


def _mix(x: np.ndarray) -> np.ndarray:
  """splitmix64's finaliser over uint64 arrays (wrapping arithmetic)."""
  with np.errstate(over="ignore"):
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9))
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB))
    return x ^ (x >> np.uint64(31))


def structure_hash(goal_ids: np.ndarray, chain_rule_ids: np.ndarray,
                   salt: int = SPLIT_SALT) -> np.ndarray:
  """A hash of each task's structure.

  Args:
    goal_ids: [N] goal ids.
    chain_rule_ids: [N, D] rule ids of the chain from the goal backwards,
      -1 after a chain's end (chains may differ in length).
    salt: the split's salt.

  Returns:
    [N] uint64.
  """
  goal_ids = np.asarray(goal_ids, np.int64)
  chain = np.asarray(chain_rule_ids, np.int64).reshape(len(goal_ids), -1)
  length = (chain >= 0).sum(axis=1)
  h = _mix(np.full(len(goal_ids), salt & 0xFFFFFFFFFFFFFFFF, np.uint64)
           ^ enc.GOAL_CLASS[goal_ids].astype(np.uint64))
  h = _mix(h ^ length.astype(np.uint64))
  for k in range(chain.shape[1]):
    cls = enc.RULE_CLASS[np.maximum(chain[:, k], 0)].astype(np.uint64)
    h = np.where(k < length, _mix(h ^ (cls + np.uint64(16 * (k + 1)))), h)
  return h


def in_test_split(goal_ids: np.ndarray, chain_rule_ids: np.ndarray,
                  test_fraction: float, salt: int = SPLIT_SALT) -> np.ndarray:
  """[N] bool: whether each task's structure is held out for testing.

  A structure is a test structure iff its hash, as a number in [0, 1), is
  below `test_fraction`: about that share of all structures, fixed for good
  (a larger fraction only adds structures to test).
  """
  h = structure_hash(goal_ids, chain_rule_ids, salt)
  return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53 < test_fraction


def chain_rule_ids(goals: np.ndarray, rules: np.ndarray) -> np.ndarray:
  """Recovers each task's chain from its ruleset alone.

  From the goal's objects backwards: the rule that produces one of the
  needed objects is the next link, its inputs the next needed objects.

  Args:
    goals: [N, 5] goal encodings.
    rules: [N, R, 7] rule encodings.

  Returns:
    [N, R] int64: the chain's rule ids from the goal backwards, -1 after its
    end.

  Raises:
    ValueError: in some task two rules produce objects that the chain needs
      (a tree, not a chain: not a ruleset of `games.xland.tasks`).
  """
  n, r = rules.shape[:2]
  rows = np.arange(n)
  rid = rules[..., 0].astype(np.int64)
  two = enc.RULE_ARITY[rid] == 2
  in_a = np.where(rid > 0, enc.object_codes(rules[..., 1:3]), -1)
  in_b = np.where(two, enc.object_codes(rules[..., 3:5]), -1)
  prod = np.where(two, enc.object_codes(rules[..., 5:7]),
                  enc.object_codes(rules[..., 3:5]))
  prod = np.where(rid > 0, prod, -2)
  arity = enc.GOAL_ARITY[goals[:, 0].astype(np.int64)]
  need = np.stack([np.where(arity >= 1, enc.object_codes(goals[:, 1:3]), -1),
                   np.where(arity == 2, enc.object_codes(goals[:, 3:5]), -1)],
                  axis=1)
  out = np.full((n, r), -1, np.int64)
  used = np.zeros((n, r), bool)
  for level in range(r):
    match = ((prod[:, :, None] == need[:, None, :]) &
             (need[:, None, :] >= 0)).any(axis=2) & ~used
    count = match.sum(axis=1)
    if (count > 1).any():
      i = int(np.flatnonzero(count > 1)[0])
      raise ValueError(f"task {i}: {count[i]} rules produce objects its "
                       "chain needs; not a single chain")
    has = count == 1
    if not has.any():
      break
    j = match.argmax(axis=1)
    out[has, level] = rid[rows, j][has]
    used[rows[has], j[has]] = True
    need = np.where(has[:, None],
                    np.stack([in_a[rows, j], in_b[rows, j]], axis=1), -1)
  return out
