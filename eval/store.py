"""Tournament results in SQLite: one row per finished game, written as it ends.

Each game is inserted in its own transaction (the database is in WAL mode), so
a tournament killed at any moment, SIGKILL included, keeps every game it
finished and loses only the games in play; the next run skips the stored ones.

Rows are keyed by `(pair_id, game_index)`. A pair id is a hash of the game
string, the tournament seed and the two players' names and specs (see
`eval.tournament.pair_id`), so a store can hold several tournaments: adding a
player to a spec plays only the new pairs, and changing the game, the seed or
a player's spec starts those pairs afresh, leaving the old rows in place.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import sqlite3
from typing import Iterable

_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
  pair_id     TEXT    NOT NULL,  -- hash of game, seed and the pair's players
  game_index  INTEGER NOT NULL,  -- 0 .. games_per_pair - 1 within the pair
  game        TEXT    NOT NULL,  -- the pyspiel game string
  seat0       TEXT    NOT NULL,  -- player name in seat 0
  seat1       TEXT    NOT NULL,  -- player name in seat 1
  seat0_spec  TEXT    NOT NULL,
  seat1_spec  TEXT    NOT NULL,
  returns     TEXT    NOT NULL,  -- JSON list, one return per seat
  plies       INTEGER NOT NULL,  -- player moves (chance outcomes excluded)
  seconds     REAL    NOT NULL,  -- wall time of the game
  finished_at TEXT    NOT NULL,  -- ISO 8601, UTC
  PRIMARY KEY (pair_id, game_index)
)
"""


@dataclasses.dataclass(frozen=True)
class GameRecord:
  """One finished game."""
  pair_id: str
  game_index: int
  game: str
  seats: tuple[str, str]        # player names, seat 0 first
  seat_specs: tuple[str, str]   # their player specs
  returns: tuple[float, ...]    # one per seat
  plies: int
  seconds: float
  finished_at: str = ""         # filled in by `Store.add` when empty


def now_utc() -> str:
  """The current time, ISO 8601 in UTC, to the second."""
  return datetime.datetime.now(datetime.timezone.utc).isoformat(
      timespec="seconds")


class Store:
  """A tournament store (an SQLite file). Use as a context manager.

  Raises (on opening):
    ValueError: the file exists but is not a tournament store.
  """

  def __init__(self, path: str | os.PathLike[str], *, create: bool = True):
    self.path = pathlib.Path(path)
    if not create and not self.path.is_file():
      raise ValueError(f"no tournament store at {str(self.path)!r}; "
                       "play the tournament first")
    self.path.parent.mkdir(parents=True, exist_ok=True)
    self._conn = sqlite3.connect(self.path, timeout=30.0)
    try:
      self._init_schema()
    except sqlite3.DatabaseError as e:
      self._conn.close()
      raise ValueError(
          f"{str(self.path)!r} is not a tournament store: {e}") from e

  def _init_schema(self) -> None:
    version = self._conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in self._conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version not in (0, _SCHEMA_VERSION) or (version == 0 and tables):
      raise sqlite3.DatabaseError(
          f"unexpected schema (version {version}, tables {sorted(tables)})")
    # WAL: a reader (`--report`) never blocks the writer. NORMAL sync keeps
    # every committed game through a crash of the process (not of the OS).
    self._conn.execute("PRAGMA journal_mode=WAL")
    self._conn.execute("PRAGMA synchronous=NORMAL")
    with self._conn:
      self._conn.execute(_SCHEMA)
      self._conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

  def close(self) -> None:
    self._conn.close()

  def __enter__(self) -> Store:
    return self

  def __exit__(self, *exc) -> None:
    self.close()

  def add(self, record: GameRecord) -> None:
    """Inserts one finished game and commits.

    Raises:
      sqlite3.IntegrityError: the game `(pair_id, game_index)` is stored
        already (a game is never stored twice).
    """
    finished_at = record.finished_at or now_utc()
    with self._conn:
      self._conn.execute(
          "INSERT INTO games VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          (record.pair_id, record.game_index, record.game, *record.seats,
           *record.seat_specs, json.dumps(list(record.returns)), record.plies,
           record.seconds, finished_at))

  def records(self, pair_ids: Iterable[str] | None = None) -> list[GameRecord]:
    """The stored games of `pair_ids` (all when None), by pair and index."""
    rows = self._conn.execute(
        "SELECT pair_id, game_index, game, seat0, seat1, seat0_spec, "
        "seat1_spec, returns, plies, seconds, finished_at FROM games "
        "ORDER BY pair_id, game_index").fetchall()
    wanted = None if pair_ids is None else set(pair_ids)
    return [GameRecord(pair_id=r[0], game_index=r[1], game=r[2],
                       seats=(r[3], r[4]), seat_specs=(r[5], r[6]),
                       returns=tuple(json.loads(r[7])), plies=r[8],
                       seconds=r[9], finished_at=r[10])
            for r in rows if wanted is None or r[0] in wanted]

  def done(self, pair_ids: Iterable[str]) -> set[tuple[str, int]]:
    """`(pair_id, game_index)` of the stored games of `pair_ids`."""
    wanted = set(pair_ids)
    rows = self._conn.execute("SELECT pair_id, game_index FROM games")
    return {(p, i) for p, i in rows if p in wanted}
