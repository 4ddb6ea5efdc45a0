"""Stratego variants, board geometry and the setup notation.

Everything here is static (plain Python and numpy): it is computed once per
variant and baked into the jitted rules as constants.

Piece codes (int8 in the state): 0 empty, 1 Spy, 2 Scout, 3 Miner, 4 Sergeant,
5 Lieutenant, 6 Captain, 7 Major, 8 Colonel, 9 General, 10 Marshal, 11 Bomb,
12 Flag. Squares are indexed row-major, `square = (rank - 1) * width + file`,
so rank 1 (row 0) is the first player's back rank.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

EMPTY = 0
SPY = 1
SCOUT = 2
MINER = 3
MARSHAL = 10
BOMB = 11
FLAG = 12
NUM_PIECE_TYPES = 12  # codes 1..12

#: Rough material value of each piece code (index 0: empty), for reward
#: shaping only (`Stratego.potential`): a Marshal is worth most, a Spy more
#: than its rank (it takes the Marshal), a Miner more than its rank (it clears
#: Bombs). The Flag counts nothing: taking it ends the game.
PIECE_VALUES = (0.0, 3.0, 1.0, 2.5, 1.0, 1.5, 2.0, 3.0, 4.5, 6.0, 8.0, 1.0,
                0.0)

#: Setup / board characters by piece code (index 0 is an empty square).
PIECE_CHARS = ".S2345678" + "9MBF"
_CHAR_TO_CODE = {c: i for i, c in enumerate(PIECE_CHARS)}

#: Direction unit steps (d_rank, d_file): up (towards the second player),
#: down, left (towards file a), right.
DIRECTIONS = ((1, 0), (-1, 0), (0, -1), (0, 1))
OPPOSITE = (1, 0, 3, 2)


@dataclasses.dataclass(frozen=True)
class Variant:
  """A board and an army.

  Attributes:
    name: registry name of the variant.
    height: number of ranks.
    width: number of files.
    lakes: (rank, file) zero-based coordinates of the lake squares.
    home_rows: ranks each player deploys in, counted from its back rank.
    army: number of pieces of each code 1..12 (index 0 unused).
    default_max_plies: ply limit (a draw) when none is given.
  """

  name: str
  height: int
  width: int
  lakes: tuple[tuple[int, int], ...]
  home_rows: int
  army: tuple[int, ...]
  default_max_plies: int

  def __post_init__(self):
    if not 2 <= self.width <= 16:
      raise ValueError(f"Board width must be 2..16 (one 16-bit word a rank), "
                       f"got {self.width}")

  @property
  def num_squares(self) -> int:
    return self.height * self.width

  @property
  def max_distance(self) -> int:
    """Longest straight move, L; actions are [4 directions, L, squares]."""
    return max(self.height, self.width) - 1

  @property
  def num_pieces(self) -> int:
    return sum(self.army)


def _army(**counts: int) -> tuple[int, ...]:
  names = ("spy", "scout", "miner", "sergeant", "lieutenant", "captain",
           "major", "colonel", "general", "marshal", "bomb", "flag")
  return (0,) + tuple(counts.get(n, 0) for n in names)


_CLASSIC_LAKES = tuple((r, f) for r in (4, 5) for f in (2, 3, 6, 7))

VARIANTS: dict[str, Variant] = {
    "classic": Variant(
        name="classic", height=10, width=10, lakes=_CLASSIC_LAKES,
        home_rows=4,
        army=_army(spy=1, scout=8, miner=5, sergeant=4, lieutenant=4,
                   captain=4, major=3, colonel=2, general=1, marshal=1,
                   bomb=6, flag=1),
        default_max_plies=2000),
    "barrage": Variant(
        name="barrage", height=10, width=10, lakes=_CLASSIC_LAKES,
        home_rows=4,
        army=_army(spy=1, scout=2, miner=1, general=1, marshal=1, bomb=1,
                   flag=1),
        default_max_plies=2000),
    # 6x6, two 1x2 lakes on files b and e, two home ranks of 6 squares.
    "small": Variant(
        name="small", height=6, width=6, lakes=((2, 1), (3, 1), (2, 4),
                                                (3, 4)),
        home_rows=2,
        army=_army(spy=1, scout=2, miner=2, sergeant=1, general=1, marshal=1,
                   bomb=3, flag=1),
        default_max_plies=300),
}


def get_variant(name: str) -> Variant:
  """Returns the variant `name`.

  Raises:
    ValueError: for an unknown name.
  """
  if name not in VARIANTS:
    raise ValueError(
        f"Unknown Stratego variant {name!r}; valid: {', '.join(VARIANTS)}")
  return VARIANTS[name]


def square_name(variant: Variant, square: int) -> str:
  """'e4'-style name of a square index."""
  row, col = divmod(int(square), variant.width)
  return f"{chr(ord('a') + col)}{row + 1}"


def parse_square(variant: Variant, name: str) -> int:
  """Inverse of `square_name`.

  Raises:
    ValueError: for a malformed or off-board name.
  """
  try:
    col = ord(name[0]) - ord("a")
    row = int(name[1:]) - 1
  except (IndexError, ValueError) as e:
    raise ValueError(f"Bad square name {name!r}") from e
  if not (0 <= col < variant.width and 0 <= row < variant.height):
    raise ValueError(f"Square {name!r} is off the {variant.name} board")
  return row * variant.width + col


def home_squares(variant: Variant, player: int) -> np.ndarray:
  """[home_rows * width] int32: a player's home squares in setup order.

  The order is the setup-string order: from the player's own back rank
  forward, each rank from file a to the last file.
  """
  rows = np.arange(variant.home_rows * variant.width) // variant.width
  cols = np.arange(variant.home_rows * variant.width) % variant.width
  if player == 1:
    rows = variant.height - 1 - rows
  return (rows * variant.width + cols).astype(np.int32)


def setup_squares(variant: Variant, player: int, length: int) -> np.ndarray:
  """Squares named by the first `length` characters of a setup string."""
  idx = np.arange(length)
  rows, cols = idx // variant.width, idx % variant.width
  if player == 1:
    rows = variant.height - 1 - rows
  return (rows * variant.width + cols).astype(np.int32)


@functools.lru_cache(maxsize=None)
def lake_mask(variant: Variant) -> np.ndarray:
  """[S] bool, True on lake squares."""
  mask = np.zeros(variant.num_squares, bool)
  for r, f in variant.lakes:
    mask[r * variant.width + f] = True
  return mask


def parse_setup(variant: Variant, setup: str) -> tuple[np.ndarray, np.ndarray]:
  """Parses a `first/second` setup string into a board.

  Each half lists a player's squares from its own back rank forward, each
  rank from file a on, one character a square (`M`, `9`..`2`, `S`, `B`, `F`,
  `.`). A half normally covers the home ranks; it may be shorter (the rest is
  empty) or run past them (position tests use this), but the two halves may
  not claim the same square and no piece may stand on a lake. Any army is
  accepted: a fixed setup defines the armies of the game.

  Returns:
    rank [S] int8 and owner [S] int8 (-1 empty) arrays.

  Raises:
    ValueError: naming what is wrong with `setup`.
  """
  halves = setup.split("/")
  if len(halves) != 2:
    raise ValueError(
        f"Setup must be two strings joined by '/', got {setup!r}")
  rank = np.zeros(variant.num_squares, np.int8)
  owner = np.full(variant.num_squares, -1, np.int8)
  lakes = lake_mask(variant)
  for player, half in enumerate(halves):
    if len(half) > variant.num_squares:
      raise ValueError(
          f"Setup half {player} has {len(half)} squares; the board has "
          f"{variant.num_squares}")
    for square, char in zip(setup_squares(variant, player, len(half)), half):
      if char not in _CHAR_TO_CODE:
        raise ValueError(
            f"Bad setup character {char!r}; valid: {PIECE_CHARS}")
      code = _CHAR_TO_CODE[char]
      if code == EMPTY:
        continue
      if lakes[square]:
        raise ValueError(
            f"Setup puts a piece on lake {square_name(variant, square)}")
      if owner[square] != -1:
        raise ValueError(
            f"Both setups use square {square_name(variant, square)}")
      rank[square], owner[square] = code, player
  return rank, owner


def default_setup(variant: Variant) -> str:
  """A fixed legal setup of the variant's army (the same for both players)."""
  pieces = "".join(PIECE_CHARS[c] * n for c, n in enumerate(variant.army))
  # Flag on the back rank behind bombs; the order below is arbitrary but fixed.
  order = sorted(pieces, key=lambda c: "FB3S2456789M".index(c))
  half = "".join(order).ljust(variant.home_rows * variant.width, ".")
  return f"{half}/{half}"
