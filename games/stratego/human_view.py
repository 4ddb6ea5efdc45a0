"""What a human sees of a Stratego game: the board from one side, battles in
words, captured pieces and legal moves grouped by piece.

Pure functions of the board arrays (`rank`, `owner`, `revealed`, as in
`games.stratego.reference.Position`); each returns `rich.text.Text` lines or
plain strings, and `Screen` prints them with colours (rich) or without.

The board from a player's side (`viewer`) has the viewer's pieces at the
bottom: rank 10 on top for the first player (Red), and for the second
player (Blue) the board turned round, rank 1 on top and file a on the right,
as seen from across a real board. Cells are three characters:

   7    your Major        7*   your Major, which the opponent has seen
  [?]   an enemy piece you have not seen     [7]   an enemy Major, revealed
   .    empty              ~   lake
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Sequence, TextIO

from rich import console as rich_console
from rich.text import Text

from games import terminal
from games.stratego import config

SIDES = ("Red", "Blue")
_COLOURS = ("red", "bright_blue")
PIECE_NAMES = ("", "Spy", "Scout", "Miner", "Sergeant", "Lieutenant",
               "Captain", "Major", "Colonel", "General", "Marshal", "Bomb",
               "Flag")

LEGEND = (
    "Board: your pieces at the bottom, ' 7 ' your Major, ' 7*' one the "
    "opponent has seen, '[?]' an unseen enemy piece, '[7]' a revealed enemy "
    "Major, '.' empty, '~' lake.\n"
    "Pieces: M Marshal (10), 9 General, 8 Colonel, 7 Major, 6 Captain, "
    "5 Lieutenant, 4 Sergeant, 3 Miner, 2 Scout, S Spy, B Bomb, F Flag.")


def piece_label(code: int) -> str:
  """'Major (7)', 'Spy (S)', 'Bomb'."""
  if code >= config.BOMB:
    return PIECE_NAMES[code]
  return f"{PIECE_NAMES[code]} ({config.PIECE_CHARS[code]})"


def board_view(variant: config.Variant, rank: Sequence[int],
               owner: Sequence[int], revealed: Sequence[bool], viewer: int,
               *, reveal_all: bool = False,
               marks: frozenset[int] = frozenset()) -> list[Text]:
  """The board from `viewer`'s side, one `Text` a line.

  Args:
    variant: the board geometry.
    rank, owner, revealed: [S] the position.
    viewer: 0 or 1, the side at the bottom of the board.
    reveal_all: show every enemy piece (after the game, or in a replay).
    marks: squares to highlight (the last moves), in colour only.
  """
  lakes = config.lake_mask(variant)
  rows = range(variant.height - 1, -1, -1) if viewer == 0 else range(
      variant.height)
  cols = list(range(variant.width) if viewer == 0 else range(
      variant.width - 1, -1, -1))
  files = Text("    " + "".join(f" {chr(ord('a') + c)} " for c in cols))
  lines = [files]
  for r in rows:
    line = Text(f"{r + 1:>3} ")
    for c in cols:
      sq = r * variant.width + c
      if lakes[sq]:
        cell, style = " ~ ", "cyan"
      elif owner[sq] < 0:
        cell, style = " . ", "dim"
      elif owner[sq] == viewer:
        ch = config.PIECE_CHARS[rank[sq]]
        cell = f" {ch}*" if revealed[sq] else f" {ch} "
        style = f"bold {_COLOURS[viewer]}"
      else:
        shown = reveal_all or revealed[sq]
        cell = f"[{config.PIECE_CHARS[rank[sq]] if shown else '?'}]"
        style = _COLOURS[owner[sq]] + (" bold" if revealed[sq] else "")
      if sq in marks:
        style += " reverse"
      line.append(cell, style=style)
    line.append(f" {r + 1}")
    lines.append(line)
  lines.append(files.copy())
  return lines


@dataclasses.dataclass(frozen=True)
class Battle:
  """An attack and its outcome."""

  player: int  # the attacker's side
  attacker: int  # piece codes
  defender: int
  src: int
  dst: int
  removed: tuple[int, ...]  # sides whose piece was removed


def battle_of(before_rank: Sequence[int], before_owner: Sequence[int],
              after_owner: Sequence[int], src: int, dst: int) -> Battle | None:
  """The battle of the move `src`-`dst`, from the board before and after."""
  player = before_owner[src]
  if before_owner[dst] != 1 - player:
    return None
  survivor = after_owner[dst]
  removed = (player, 1 - player) if survivor < 0 else (1 - survivor,)
  return Battle(player=player, attacker=before_rank[src],
                defender=before_rank[dst], src=src, dst=dst, removed=removed)


def _side(side: int, viewer: int | None, capital: bool) -> str:
  if viewer is None:
    return SIDES[side] + " "
  if side == viewer:
    return "Your " if capital else "your "
  return "Enemy " if capital else ""


def describe_battle(variant: config.Variant, b: Battle,
                    viewer: int | None) -> str:
  """'Your Major (7) at e5 attacked Scout (2) at e6: Scout removed'.

  `viewer` None names the sides (Red, Blue) instead of "your"/"enemy".
  """
  name = lambda sq: config.square_name(variant, sq)
  text = (f"{_side(b.player, viewer, True)}{piece_label(b.attacker)} at "
          f"{name(b.src)} attacked {_side(1 - b.player, viewer, False)}"
          f"{piece_label(b.defender)} at {name(b.dst)}: ")
  if len(b.removed) == 2:
    return text + "both removed"
  loser = b.removed[0]
  code = b.defender if loser != b.player else b.attacker
  verb = "captured" if code == config.FLAG else "removed"
  return text + f"{_side(loser, viewer, False)}{PIECE_NAMES[code]} {verb}"


def piece_counts(rank: Sequence[int], owner: Sequence[int]) -> tuple[
    tuple[int, ...], tuple[int, ...]]:
  """Pieces of each code (index 0..12) on the board, for each side."""
  counts = [[0] * 13, [0] * 13]
  for code, side in zip(rank, owner):
    if side >= 0:
      counts[side][code] += 1
  return tuple(counts[0]), tuple(counts[1])


def _lost(army: tuple[tuple[int, ...], ...], now: tuple[tuple[int, ...], ...],
          side: int) -> str:
  lost = collections.Counter({c: army[side][c] - now[side][c]
                              for c in range(1, 13)
                              if army[side][c] > now[side][c]})
  total = sum(lost.values())
  if not total:
    return "0"
  parts = [PIECE_NAMES[c] + (f" x{n}" if n > 1 else "")
           for c, n in sorted(lost.items(), reverse=True)]
  return f"{total} ({', '.join(parts)})"


def describe_captures(army: tuple[tuple[int, ...], ...], rank: Sequence[int],
                      owner: Sequence[int], viewer: int) -> str:
  """'Captured: you took 2 (Scout x2); you lost 1 (Miner)'.

  Every removed enemy piece was revealed in its battle, so naming them tells
  the viewer nothing new. `army` is `piece_counts` at the start of play.
  """
  now = piece_counts(rank, owner)
  return (f"Captured: you took {_lost(army, now, 1 - viewer)}; "
          f"you lost {_lost(army, now, viewer)}")


def describe_moves(variant: config.Variant, rank: Sequence[int],
                   pairs: Sequence[tuple[int, int]]) -> list[str]:
  """Legal moves grouped by piece: '  Scout (2) at b2: b3 b4 a2'."""
  by_src: dict[int, list[int]] = collections.defaultdict(list)
  for src, dst in pairs:
    by_src[src].append(dst)
  name = lambda sq: config.square_name(variant, sq)
  key = lambda sq: (sq % variant.width, sq // variant.width)  # a1, a2, .., b1
  return [f"  {piece_label(rank[src])} at {name(src)}: "
          + " ".join(name(d) for d in sorted(by_src[src], key=key))
          for src in sorted(by_src, key=key)]


class Screen:
  """Writes lines and prompts, in colour (rich) or as plain text."""

  def __init__(self, out: TextIO, color: bool):
    self._out = out
    self._console = (rich_console.Console(
        file=out, force_terminal=True, highlight=False, soft_wrap=True)
                     if color else None)

  def line(self, text: str | Text = "") -> None:
    if self._console is not None:
      self._console.print(text, markup=False)
    else:
      self._out.write((text.plain if isinstance(text, Text) else text) + "\n")
    self._out.flush()

  def ask(self, prompt: str, inp: TextIO, echo: bool) -> str | None:
    """Prompts and reads a line; None at the end of the input."""
    return terminal.ask(self._out, prompt, inp, echo)
