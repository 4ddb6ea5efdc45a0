"""Go game records: SGF, one game per line, read back as action ids.

The format `eval.go.expert_games` writes, readable by any SGF tool: a plain
SGF game per line (files ending `.xz` are xz-compressed), moves alternating
from Black, no setup stones. Besides SZ, KM and RE, the generator's records
say in GC how many of the first moves were random and how the game ended
("opening: 4 random moves; ended: passes; ..."; `game_comment`), and mark
those moves C[random opening move]. Other SGF games, one per line, read too:
with no such GC, as games without a random opening that ended "unknown".
"""

from __future__ import annotations

import lzma
import math
import os
import pathlib
import re
from typing import Iterable, Iterator, NamedTuple

import numpy as np
from sgfmill import sgf

from games.go import coords

ENDINGS = ("passes", "resign", "max_moves")
OPENING_COMMENT = "random opening move"  # the C property of a random move
_GC_RE = re.compile(r"opening: (\d+) random moves?; ended: (\w+)")


class GameRecord(NamedTuple):
  """One game as read back by `read_games`."""
  game_id: str              # GN, else "<file name>:<line>"
  board_size: int
  komi: float
  actions: np.ndarray       # [T] int32, `games.go.coords` action ids, Black first
  black_score: float        # from RE: + for Black; +-inf for a win without a
  #                           score (resignation), nan for no result
  num_opening_moves: int    # the first actions that were random, not GNU Go's
  ended: str                # one of ENDINGS, "unknown" without the GC


def game_comment(num_opening_moves: int, ended: str, gnugo_seed: int) -> str:
  """The GC property of a generated game."""
  if ended not in ENDINGS:
    raise ValueError(f"ended must be one of {ENDINGS}, got {ended!r}")
  return (f"opening: {num_opening_moves} random moves; ended: {ended}; "
          f"gnugo seed: {gnugo_seed}")




def parse_result(text: str) -> float:
  """Black's score from an RE value: "B+3.5" 3.5, "W+R" -inf, "0" 0, "?" nan.

  Raises:
    ValueError: `text` is no SGF result.
  """
  t = text.strip()
  if t in ("0", "Draw", "Jigo", "D"):
    return 0.0
  if t in ("?", "Void", ""):
    return math.nan
  if len(t) >= 2 and t[0] in "BW" and t[1] == "+":
    sign = 1.0 if t[0] == "B" else -1.0
    rest = t[2:]
    if rest in ("", "R", "Resign", "T", "Time", "F", "Forfeit"):
      return sign * math.inf
    try:
      value = float(rest)
    except ValueError:
      pass
    else:
      if math.isfinite(value) and value >= 0:
        return sign * value
  raise ValueError(f"RE {text!r} is not a result (B+3.5, W+R, 0, ...)")


def _parse_record(line: str, default_id: str) -> GameRecord:
  try:
    game = sgf.Sgf_game.from_string(line)
  except ValueError as e:
    raise ValueError(f"not SGF: {e}") from None
  root = game.get_root()
  n = game.get_size()
  if n > coords.MAX_BOARD_SIZE:
    raise ValueError(f"SZ {n} is larger than {coords.MAX_BOARD_SIZE}")
  try:
    komi = game.get_komi()
  except ValueError:
    raw = root.get_raw("KM").decode("utf-8", errors="replace")
    raise ValueError(f"KM {raw!r} is not a number") from None
  if root.has_setup_stones():
    raise ValueError("setup stones (AB/AW/AE) are not supported")
  black_score = parse_result(root.get("RE")) if root.has_property(
      "RE") else math.nan
  actions = []
  for ply, node in enumerate(game.get_main_sequence()[1:], 1):
    try:
      colour, move = node.get_move()
    except ValueError:
      raise ValueError(f"move {ply} is not a point of a {n}x{n} "
                       "board") from None
    if colour is None:
      raise ValueError(f"node {ply} holds no move")
    if colour != ("b" if ply % 2 else "w"):
      raise ValueError(f"move {ply} is by {colour.upper()}; moves must "
                       "alternate, Black first")
    actions.append(coords.from_sgfmill(move, n))
  num_opening, ended = 0, "unknown"
  if root.has_property("GC"):
    match = _GC_RE.search(root.get("GC"))
    if match:
      num_opening, ended = int(match.group(1)), match.group(2)
      if num_opening > len(actions):
        raise ValueError(f"GC says {num_opening} opening moves, the game has "
                         f"{len(actions)} moves")
  game_id = root.get("GN") if root.has_property("GN") else default_id
  return GameRecord(game_id=game_id, board_size=n, komi=float(komi),
                    actions=np.asarray(actions, np.int32),
                    black_score=black_score, num_opening_moves=num_opening,
                    ended=ended)


def game_files(source) -> list[pathlib.Path]:
  """The game record files (*.sgf, *.sgf.xz) of directories or files."""
  sources = ([source] if isinstance(source, (str, os.PathLike))
             else list(source))
  files = []
  for s in sources:
    path = pathlib.Path(s)
    if path.is_dir():
      # Shards of every generation run below it (one folder per run).
      files += sorted(p for p in path.rglob("*") if p.is_file() and (
          p.name.endswith(".sgf.xz") or p.name.endswith(".sgf")))
    elif path.is_file():
      files.append(path)
    else:
      raise FileNotFoundError(f"no game file or directory {path}")
  return files


def count_games(path: str | os.PathLike) -> int:
  """The number of game records in one file (its non-blank lines), without
  parsing them.

  Raises:
    FileNotFoundError: no such file.
    ValueError: an unreadable file, naming it.
  """
  path = pathlib.Path(path)
  opener = lzma.open if path.name.endswith(".xz") else open
  try:
    with opener(path, "rt", encoding="utf-8") as f:
      return sum(1 for line in f if line.strip())
  except (lzma.LZMAError, EOFError, UnicodeDecodeError) as e:
    raise ValueError(f"{path}: unreadable: {type(e).__name__}: {e}") from None


def read_games(dir_or_files: str | os.PathLike | Iterable[str | os.PathLike]
               ) -> Iterator[GameRecord]:
  """The games in a directory of shards, in files, or both, one per line.

  Files ending in `.xz` are xz-compressed; a directory gives the `*.sgf.xz`
  and `*.sgf` files in it and in its subdirectories, in path order (for
  `generate`'s shards: game order within a run).

  Raises:
    FileNotFoundError: a path does not exist.
    ValueError: a malformed record or file, naming the file and line.
  """
  for path in game_files(dir_or_files):
    opener = lzma.open if path.name.endswith(".xz") else open
    lineno = 0
    try:
      with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
          if not line.strip():
            continue
          try:
            record = _parse_record(line, default_id=f"{path.name}:{lineno}")
          except ValueError as e:
            raise ValueError(
                f"{path}:{lineno}: malformed game record: {e}") from None
          yield record
    # (A ValueError from a record passes these: none is a ValueError but
    # UnicodeDecodeError, which a record's parse never raises.)
    except (lzma.LZMAError, EOFError, UnicodeDecodeError) as e:
      raise ValueError(f"{path}: unreadable after line {lineno}: "
                       f"{type(e).__name__}: {e}") from None
