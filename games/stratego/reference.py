"""A plain-Python twin of the Stratego rules, written for clarity, not speed.

It backs the OpenSpiel game (`games/stratego/spiel.py`) and is checked against
the JAX rules on thousands of random games, so each implementation tests the
other. The rules and their interpretations are those of the package
docstring and `chase.py`; the action ids and the Zobrist keys come from
`tables.py`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from games.stratego import config
from games.stratego import state as state_lib
from games.stratego import tables as tables_lib


@dataclasses.dataclass
class Position:
  """A mutable game position (the twin of `state.State`)."""

  rank: list[int]
  owner: list[int]
  revealed: list[bool]
  moved: list[bool]
  current_player: int = 0
  ply: int = 0
  deploy_step: int = 0
  history: list[tuple[int, int]] = dataclasses.field(default_factory=list)
  chaser: int = -1
  chase_square: int = -1
  chase_positions: list[tuple[int, int]] = dataclasses.field(
      default_factory=list)
  terminated: bool = False
  returns: tuple[float, float] = (0.0, 0.0)


class Rules:
  """The rules of one game configuration, over `Position`s."""

  def __init__(self, variant: config.Variant, max_plies: int,
               two_square_rule: bool, more_squares_rule: bool,
               deploy: bool):
    self.v = variant
    self.t = tables_lib.get_tables(variant)
    self.max_plies = max_plies
    self.two_square_rule = two_square_rule
    self.more_squares_rule = more_squares_rule
    self.deploy_total = 2 * variant.num_pieces if deploy else 0
    # Plain-Python copies of the tables (numpy scalar indexing is slow).
    self.lakes = [bool(x) for x in self.t.lakes]
    self.neighbours = [[int(q) for q in row if q >= 0]
                       for row in self.t.neighbours]
    self.home = [set(int(q) for q in np.flatnonzero(row))
                 for row in self.t.home]
    self.keys = [[(int(z[0]), int(z[1])) for z in row]
                 for row in self.t.zobrist]
    self.action_from = [int(x) for x in self.t.action_from]
    self.action_to = [int(x) for x in self.t.action_to]
    self.action_dist = [int(x) for x in self.t.action_dist]
    self.deploy_order = [int(x) for x in self.t.deploy_order]
    self._action = {}  # (from, to) -> action id
    for a in range(tables_lib.num_actions(variant)):
      if self.t.action_to[a] >= 0:
        self._action[(int(self.t.action_from[a]),
                      int(self.t.action_to[a]))] = a

  # --- Positions.

  def initial(self, rank: np.ndarray, owner: np.ndarray) -> Position:
    s = self.v.num_squares
    pos = Position(rank=[int(x) for x in rank], owner=[int(x) for x in owner],
                   revealed=[False] * s, moved=[False] * s)
    self._conclude(pos)
    return pos

  def _hash(self, rank: list[int], owner: list[int]) -> tuple[int, int]:
    h0 = h1 = 0
    for sq in range(self.v.num_squares):
      if owner[sq] >= 0:
        z0, z1 = self.keys[sq][owner[sq] * 12 + rank[sq]]
        h0 ^= z0
        h1 ^= z1
    return h0, h1

  def deploying(self, pos: Position) -> bool:
    return pos.deploy_step < self.deploy_total

  # --- Legal actions.

  def _moves(self, pos: Position, player: int) -> list[tuple[int, int]]:
    """(from, to) pairs allowed by piece movement alone."""
    v = self.v
    out = []
    for sq in range(v.num_squares):
      if pos.owner[sq] != player or not 1 <= pos.rank[sq] <= 10:
        continue
      r, c = divmod(sq, v.width)
      for dr, dc in config.DIRECTIONS:
        k = 1
        while True:
          rr, cc = r + k * dr, c + k * dc
          if not (0 <= rr < v.height and 0 <= cc < v.width):
            break
          to = rr * v.width + cc
          if self.lakes[to] or pos.owner[to] == player:
            break
          out.append((sq, to))
          if pos.owner[to] >= 0 or pos.rank[sq] != config.SCOUT:
            break
          k += 1
    return out

  def _two_square_bad(self, pos: Position, src: int, dst: int) -> bool:
    mine = pos.history[-6::2] if len(pos.history) >= 6 else []
    if len(mine) < 3:
      return False
    (f1, t1), (f2, t2), (f3, t3) = mine
    if not (t1 == f2 and t2 == f3 and src == t3):
      return False
    line = lambda f, t: (f % self.v.width == t % self.v.width,
                         f < t)  # (vertical, increasing)
    l1, l2, l3, l4 = line(f1, t1), line(f2, t2), line(f3, t3), line(src, dst)
    back_and_forth = (l1[0] == l2[0] == l3[0] == l4[0] and l2[1] != l1[1]
                      and l3[1] == l1[1] and l4[1] != l3[1])
    return back_and_forth and min(f1, t1) <= dst <= max(f1, t1)

  def _chase_bad(self, pos: Position, player: int, src: int,
                 dst: int) -> bool:
    if pos.chaser != player or pos.chase_square < 0:
      return False
    if pos.owner[dst] >= 0 or dst not in self.neighbours[pos.chase_square]:
      return False
    if len(pos.history) >= 2 and pos.history[-2] == (dst, src):
      return False  # Back to where the chasing piece came from.
    rank, owner = list(pos.rank), list(pos.owner)
    rank[dst], owner[dst] = rank[src], owner[src]
    rank[src], owner[src] = 0, -1
    recent = pos.chase_positions[-state_lib.CHASE_HISTORY:]
    return self._hash(rank, owner) in recent

  def legal_actions(self, pos: Position) -> list[int]:
    if pos.terminated:
      return []
    if self.deploying(pos):
      p = pos.current_player
      return [sq for sq in sorted(self.home[p]) if pos.owner[sq] < 0]
    return self._play_actions(pos, pos.current_player)

  def _play_actions(self, pos: Position, player: int) -> list[int]:
    out = []
    for src, dst in self._moves(pos, player):
      if self.two_square_rule and self._two_square_bad(pos, src, dst):
        continue
      if self.more_squares_rule and self._chase_bad(pos, player, src, dst):
        continue
      out.append(self._action[(src, dst)])
    return sorted(out)

  # --- Playing.

  def apply(self, pos: Position, action: int) -> None:
    """Plays a legal `action` in place."""
    p = pos.current_player
    if self.deploying(pos):
      n = self.v.num_pieces
      pos.rank[action] = self.deploy_order[pos.deploy_step % n]
      pos.owner[action] = p
      pos.deploy_step += 1
      pos.current_player = (pos.deploy_step // n
                            if self.deploying(pos) else 0)
      self._conclude(pos)
      return
    src, dst = self.action_from[action], self.action_to[action]
    piece, target = pos.rank[src], pos.rank[dst]
    attack = pos.owner[dst] == 1 - p
    far = self.action_dist[action] > 1
    pos.rank[src], pos.owner[src] = 0, -1
    was_revealed = pos.revealed[src]
    pos.revealed[src] = pos.moved[src] = False
    if not attack or (piece != target and _beats(piece, target)):
      pos.rank[dst], pos.owner[dst] = piece, p
      pos.revealed[dst] = was_revealed or attack or far
      pos.moved[dst] = True
    elif piece == target:
      pos.rank[dst], pos.owner[dst] = 0, -1
      pos.revealed[dst] = pos.moved[dst] = False
    else:
      pos.revealed[dst] = True
    if self.more_squares_rule:
      self._update_chase(pos, p, src, dst, attack)
    pos.history.append((src, dst))
    pos.ply += 1
    pos.current_player = 1 - p
    if attack and target == config.FLAG:
      pos.terminated = True
      pos.returns = (1.0, -1.0) if p == 0 else (-1.0, 1.0)
    self._conclude(pos)

  def _update_chase(self, pos: Position, p: int, src: int, dst: int,
                    attack: bool) -> None:
    last = pos.history[-1][1] if pos.history else -1
    evasion = (pos.chaser == 1 - p and not attack and last >= 0
               and src in self.neighbours[last])
    chasing = (pos.chaser == p and pos.chase_square >= 0 and not attack
               and dst in self.neighbours[pos.chase_square])
    threat = not attack and any(
        pos.owner[sq] == 1 - p for sq in self.neighbours[dst])
    if not (evasion or chasing):
      pos.chase_positions = []
    if evasion:
      pos.chase_square = dst
    elif chasing or threat:
      # The chaser's positions.
      pos.chase_positions.append(self._hash(pos.rank, pos.owner))
      pos.chaser, pos.chase_square = p, -1
    else:
      pos.chaser, pos.chase_square = -1, -1

  def _can_move(self, pos: Position, player: int) -> bool:
    for sq in range(self.v.num_squares):
      if pos.owner[sq] == player and 1 <= pos.rank[sq] <= 10:
        for nb in self.neighbours[sq]:
          if not self.lakes[nb] and pos.owner[nb] != player:
            return True
    return False

  def _conclude(self, pos: Position) -> None:
    if pos.terminated or self.deploying(pos):
      return
    p = pos.current_player
    if not self._play_actions(pos, p):
      pos.terminated = True
      if self._can_move(pos, 1 - p):
        pos.returns = (-1.0, 1.0) if p == 0 else (1.0, -1.0)
    elif pos.ply >= self.max_plies:
      pos.terminated = True


def _beats(attacker: int, defender: int) -> bool:
  if defender == config.BOMB:
    return attacker == config.MINER
  if defender == config.FLAG:
    return True
  if attacker == config.SPY and defender == config.MARSHAL:
    return True
  return attacker > defender
