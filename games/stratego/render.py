"""Text boards for humans.

Each square is two characters: the owner (`r` for the first player, red, `b`
for the second, blue) and the piece (`M`, `9`..`2`, `S`, `B`, `F`, or `?` for
an enemy piece the viewer has not seen); `..` is empty and `~~` a lake.
Rank 10 (the second player's back rank) is drawn at the top in every view.
"""

from __future__ import annotations

import numpy as np

from games.stratego import config
from games.stratego import state as state_lib

_OWNERS = "rb"


def board_rows(variant: config.Variant, rank: np.ndarray, owner: np.ndarray,
               revealed: np.ndarray, player: int | None) -> list[str]:
  """The rows of the board, top (last rank) first, with rank labels."""
  lakes = config.lake_mask(variant)
  rows = []
  for r in range(variant.height - 1, -1, -1):
    cells = []
    for c in range(variant.width):
      sq = r * variant.width + c
      if lakes[sq]:
        cells.append("~~")
      elif owner[sq] < 0:
        cells.append("..")
      elif player is None or owner[sq] == player or revealed[sq]:
        cells.append(_OWNERS[owner[sq]] + config.PIECE_CHARS[rank[sq]])
      else:
        cells.append(_OWNERS[owner[sq]] + "?")
    rows.append(f"{r + 1:>2} " + " ".join(cells))
  files = " ".join(f"{chr(ord('a') + c)} " for c in range(variant.width))
  rows.append("   " + files.rstrip())
  return rows


def render(variant: config.Variant, st: state_lib.State,
           player: int | None = None) -> str:
  """The board of `st` as text; `player` None shows every piece."""
  rank, owner, revealed = (np.asarray(x) for x in (st.rank, st.owner,
                                                   st.revealed))
  return "\n".join(board_rows(variant, rank, owner, revealed, player))
