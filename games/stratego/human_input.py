"""A human's Stratego input: commands, why a move is illegal, setups.

Pure functions: `parse_command` turns a typed line into a `Command` (or a
`CommandError` whose message is the answer to print), `explain_illegal`
names the rule a move breaks, and `deployment_plan` gives the squares of the
human's army for the deployment phase (a given setup half, or random).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Sequence

import numpy as np

from games.stratego import config
from games.stratego import human_view
from games.stratego import reference
from games.stratego import tables as tables_lib

_WORDS = ("moves", "help", "board", "resign", "quit", "auto")
_MOVE_RE = re.compile(r"^([a-z])(\d{1,2})\s*[-x]?\s*([a-z])(\d{1,2})$")
_SQUARE_RE = re.compile(r"^([a-z])(\d{1,2})$")


class CommandError(ValueError):
  """Input that is not a command; the message is the reply to the human."""


@dataclasses.dataclass(frozen=True)
class Command:
  """A parsed line: `kind` is "move", "square", "empty" or one of `_WORDS`.

  `squares` holds the square ids it names: (from, to) for a move, one for
  "square" and for "moves e4", none otherwise.
  """

  kind: str
  squares: tuple[int, ...] = ()


def _square(variant: config.Variant, file: str, rank: str) -> int:
  name = f"{file}{rank}"
  try:
    return config.parse_square(variant, name)
  except ValueError:
    last = config.square_name(variant, variant.num_squares - 1)
    raise CommandError(f"{name} is not on the {variant.height}x"
                       f"{variant.width} board (a1..{last})") from None


def parse_command(variant: config.Variant, line: str) -> Command:
  """Parses one typed line (case-insensitive).

  Moves are `e4-e5`, `e4e5` or `e4 e5`; a lone square `b2` (for deployment);
  `moves [SQUARE]`, `help`, `board`, `resign`, `quit`, `auto`.

  Raises:
    CommandError: the line is none of these; the message says so.
  """
  text = " ".join(line.strip().lower().split())
  if not text:
    return Command("empty")
  head, _, rest = text.partition(" ")
  if head in _WORDS and (not rest or head == "moves"):
    if not rest:
      return Command(head)
    m = _SQUARE_RE.match(rest)
    if m:
      return Command("moves", (_square(variant, *m.groups()),))
  m = _MOVE_RE.match(text)
  if m:
    f1, r1, f2, r2 = m.groups()
    return Command("move", (_square(variant, f1, r1),
                            _square(variant, f2, r2)))
  m = _SQUARE_RE.match(text)
  if m:
    return Command("square", (_square(variant, *m.groups()),))
  shown = line.strip()
  shown = shown if len(shown) <= 40 else shown[:37] + "..."
  raise CommandError(
      f"can't read '{shown}': type a move like e4-e5, or help")


@functools.lru_cache(maxsize=None)
def _rules(variant: config.Variant, two_square: bool, more_squares: bool,
           deploy: bool) -> reference.Rules:
  return reference.Rules(variant, 10**9, two_square, more_squares, deploy)


def action_of(variant: config.Variant, src: int, dst: int) -> int | None:
  """The play action moving `src` to `dst`, if the geometry has one."""
  t = tables_lib.get_tables(variant)
  hits = np.flatnonzero((t.action_from == src) & (t.action_to == dst))
  return int(hits[0]) if hits.size else None


def _between(variant: config.Variant, src: int, dst: int) -> list[int]:
  """Squares strictly between `src` and `dst` on one rank or file."""
  (r1, c1), (r2, c2) = divmod(src, variant.width), divmod(dst, variant.width)
  dr, dc = np.sign(r2 - r1), np.sign(c2 - c1)
  n = max(abs(r2 - r1), abs(c2 - c1))
  return [int((r1 + k * dr) * variant.width + c1 + k * dc)
          for k in range(1, n)]


def explain_illegal(variant: config.Variant, pos: reference.Position,
                    rules_on: tuple[bool, bool], deploy: bool, src: int,
                    dst: int, legal: Sequence[int]) -> str:
  """Why the player to move may not play `src`-`dst` in `pos`.

  Args:
    variant: the board.
    pos: the position, with `pos.current_player` to move.
    rules_on: whether the two-square and more-squares rules are in force.
    deploy: whether the game has a deployment phase (for the rules twin).
    src, dst: the squares of the move.
    legal: the legal actions in `pos`.

  Returns:
    One sentence for the human; "" when the move is legal.
  """
  name = lambda sq: config.square_name(variant, sq)
  me = pos.current_player
  move = f"{name(src)}-{name(dst)}"
  action = action_of(variant, src, dst)
  if action is not None and action in legal:
    return ""
  if pos.owner[src] != me:
    return f"no piece of yours on {name(src)}" + (
        " (that is an enemy piece)" if pos.owner[src] == 1 - me else "")
  piece = pos.rank[src]
  label = human_view.piece_label(piece)
  if piece in (config.BOMB, config.FLAG):
    return f"your {label} on {name(src)} cannot move: Bombs and the Flag " \
           "never move"
  if src == dst:
    return f"{move} does not go anywhere"
  if action is None:
    return (f"{move} is not a straight line: pieces move along a rank or a "
            "file")
  if config.lake_mask(variant)[dst]:
    return f"{name(dst)} is a lake"
  if pos.owner[dst] == me:
    return (f"{name(dst)} holds your own "
            f"{human_view.piece_label(pos.rank[dst])}")
  between = _between(variant, src, dst)
  if between and piece != config.SCOUT:
    return (f"your {label} moves one square at a time (only Scouts go "
            f"further): {move} is too far")
  for sq in between:
    if config.lake_mask(variant)[sq] or pos.owner[sq] >= 0:
      what = "a lake" if config.lake_mask(variant)[sq] else "a piece"
      return f"the way from {name(src)} to {name(dst)} is blocked by " \
             f"{what} on {name(sq)}"
  two, more = rules_on
  if two and action in _rules(variant, False, more, deploy).legal_actions(pos):
    return (f"two-square rule: your {label} has gone back and forth on this "
            f"line three times and may not go back again ({move})")
  if more and action in _rules(variant, two, False, deploy).legal_actions(pos):
    return (f"more-squares rule: {move} would repeat a position of your "
            "chase")
  return f"{move} is not legal here"


def deployment_plan(variant: config.Variant, seat: int,
                    setup_half: str | None, rng: np.random.Generator
                    ) -> list[int]:
  """The squares of the human's pieces, in the game's deployment order.

  Without `setup_half`, a uniformly random arrangement of the army on the
  home squares (consumes `rng`).

  Raises:
    ValueError: `setup_half` is malformed, leaves the home ranks or is not
      exactly the variant's army.
  """
  order = [int(c) for c in tables_lib.get_tables(variant).deploy_order]
  home = config.home_squares(variant, seat)
  if setup_half is None:
    return [int(s) for s in rng.permutation(home)[:len(order)]]
  rank, owner = config.parse_setup(
      variant, setup_half + "/" if seat == 0 else "/" + setup_half)
  mine = [int(s) for s in np.flatnonzero(owner == seat)]
  outside = sorted(set(mine) - set(int(s) for s in home))
  if outside:
    raise ValueError(f"setup puts a piece on "
                     f"{config.square_name(variant, outside[0])}, "
                     "outside your home ranks")
  for code in range(1, config.NUM_PIECE_TYPES + 1):
    have, need = int(np.sum(rank[mine] == code)), variant.army[code]
    if have != need:
      raise ValueError(f"setup has {have} x {human_view.PIECE_NAMES[code]}; "
                       f"the {variant.name} army has {need}")
  left = {code: [s for s in mine if rank[s] == code] for code in set(order)}
  return [left[code].pop(0) for code in order]
