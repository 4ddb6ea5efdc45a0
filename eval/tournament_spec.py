"""Tournament files: the TOML that names a tournament's game and players.

A tournament file (TOML) names the game and the players:

  game = "kuhn_poker"         # any 2-player turn-based pyspiel game string
  games_per_pair = 100        # default 10
  seed = 0                    # default 0; every game's seed derives from it
  workers = 1                 # parallel processes; 1 plays in-process
  store = "runs/kuhn.sqlite"  # default: beside the file, <file>.sqlite
  plot = "runs/kuhn.png"      # default: beside the file, <file>.png
  bootstrap = 200             # Elo bootstrap resamples (default 200)
  confidence = 0.95           # Elo interval coverage (default 0.95)
  gauntlet = ["random"]       # default none (a round robin): only pairs
                              # of one of these against one of the others
                              # (Nash averaging then counts an unplayed
                              # pair as even)
  [[players]]
  name = "random"
  spec = "random"             # or "heuristic", RUN_DIR, RUN_DIR@STEP, and
                              # either with ":greedy" (`eval.players`)

For Go (`game = "go(board_size=9,komi=7.5)"`, OpenSpiel's go: Tromp-Taylor
area scoring, simple ko, a repeated position a draw) players may also be
GTP engines, "gnugo:5" or
"gtp:COMMAND LINE", and Go agents take ":sims=N" (tree-search simulations a
move) besides ":greedy" (`eval.players`). An engine player is keyed by its
spec alone: results stay valid while the engine does not change.

Relative paths (store, plot, run directories) are relative to the working
directory. A run directory without `@STEP` means its latest checkpoint when
the file is read: the player is pinned to that step for the whole tournament,
and results are keyed by the step and the run's config (`Player.fingerprint`),
so a run that has trained further (or was retrained) plays its pairs afresh
instead of reusing another network's results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import tomllib

import pyspiel

from eval import players as players_lib

_KEYS = ("game", "players", "games_per_pair", "seed", "workers", "store",
         "plot", "bootstrap", "confidence", "gauntlet")
_PLAYER_KEYS = ("name", "spec")
_TYPE_NAMES = {str: "a string", int: "an integer", (int, float): "a number",
               list: "an array of tables"}


@dataclasses.dataclass(frozen=True)
class Player:
  name: str
  spec: str  # an `eval.players.make_player` spec; runs as RUN_DIR@STEP[:MODE]
  fingerprint: str = ""  # run dirs: hash of the run's config


@dataclasses.dataclass(frozen=True)
class TournamentSpec:
  """A validated tournament file."""
  game: str  # canonical pyspiel game string, e.g. "kuhn_poker()"
  players: tuple[Player, ...]
  games_per_pair: int = 10
  seed: int = 0
  workers: int = 1
  store: pathlib.Path = pathlib.Path("tournament.sqlite")
  plot: pathlib.Path = pathlib.Path("tournament.png")
  bootstrap: int = 200
  confidence: float = 0.95
  gauntlet: tuple[str, ...] = ()  # empty: a round robin


def _get(table: dict, key: str, kind, where: str, default=None):
  """`table[key]`, checked to be a `kind`; `default` if absent (None: must)."""
  if key not in table:
    if default is None:
      raise ValueError(f"{where}: missing key {key!r}")
    return default
  value = table[key]
  if not isinstance(value, kind) or isinstance(value, bool):
    raise ValueError(
        f"{where}: {key} must be {_TYPE_NAMES[kind]}, got {value!r}")
  return value


def load_game(game_string: str) -> pyspiel.Game:
  """Loads a 2-player, turn-based pyspiel game (ours registered by `games`).

  Raises:
    ValueError: the string names no such game.
  """
  import games  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  try:
    game = pyspiel.load_game(game_string)
  except (pyspiel.SpielError, ValueError) as e:
    first = str(e).replace("OpenSpiel exception: ", "").splitlines()[0]
    raise ValueError(f"game {game_string!r}: {first}") from None
  kind = game.get_type()
  if (game.num_players() != 2 or
      kind.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL):
    raise ValueError(f"game {game_string!r}: tournaments need a 2-player "
                     "turn-based game")
  return game


def parse_spec(text: str, path: pathlib.Path) -> TournamentSpec:
  """Validates the TOML `text` of the tournament file at `path`.

  Raises:
    ValueError: one line naming the file, the key and the problem.
  """
  where = str(path)
  try:
    raw = tomllib.loads(text)
  except tomllib.TOMLDecodeError as e:
    raise ValueError(f"{where}: not valid TOML: {e}") from None
  unknown = sorted(set(raw) - set(_KEYS))
  if unknown:
    raise ValueError(
        f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(_KEYS)}")
  spiel_game = load_game(_get(raw, "game", str, where))
  game = str(spiel_game)
  entries = _get(raw, "players", list, where)
  players = []
  for i, entry in enumerate(entries):
    at = f"{where}: players[{i}]"
    if not isinstance(entry, dict):
      raise ValueError(f"{at}: expected a [[players]] table")
    bad = sorted(set(entry) - set(_PLAYER_KEYS))
    if bad:
      raise ValueError(f"{at}: unknown key {bad[0]!r}; valid: name, spec")
    name = _get(entry, "name", str, at).strip()
    spec = _get(entry, "spec", str, at).strip()
    if not name or not spec:
      raise ValueError(f"{at}: name and spec must not be empty")
    if name in (p.name for p in players):
      raise ValueError(f"{at}: duplicate player name {name!r}")
    if spec in players_lib.BUILTIN:
      players.append(Player(name, spec))
      continue
    if players_lib.is_engine_spec(spec):
      short = spiel_game.get_type().short_name
      if short != "go":
        raise ValueError(f"{at} ({name}): spec {spec!r} is a Go engine "
                         f"(GTP); this tournament plays {short}")
      try:
        players_lib.check_engine_spec(spec)
      except players_lib.PlayerSpecError as e:
        raise ValueError(f"{at} ({name}): {e}") from None
      players.append(Player(name, spec))
      continue
    from agents.core import runs  # pylint: disable=g-import-not-at-top
    try:
      run_dir = players_lib.parse_run_spec(spec)[0]
    except players_lib.PlayerSpecError as e:
      raise ValueError(f"{at} ({name}): {e}") from None
    if not runs.resolve_run_dir(run_dir).is_dir():
      raise ValueError(f"{at} ({name}): spec {spec!r} is not one of "
                       f"{', '.join(players_lib.BUILTIN)}, a bundled agent "
                       f"({', '.join(runs.bundled_agents()) or 'none'}) nor "
                       "a run directory")
    players.append(_pin_run(name, spec, f"{at} ({name})"))
  if len(players) < 2:
    raise ValueError(f"{where}: players: need at least 2, got {len(players)}")
  values = {k: _get(raw, k, int, where, d) for k, d in
            (("games_per_pair", 10), ("seed", 0), ("workers", 1),
             ("bootstrap", 200))}
  for key, low in (("games_per_pair", 1), ("seed", 0), ("workers", 1),
                   ("bootstrap", 1)):
    if values[key] < low:
      raise ValueError(f"{where}: {key} must be >= {low}, got {values[key]}")
  confidence = float(_get(raw, "confidence", (int, float), where, 0.95))
  if not 0.0 < confidence < 1.0:
    raise ValueError(f"{where}: confidence must be in (0, 1), got {confidence}")
  out = {"gauntlet": _gauntlet(raw, [p.name for p in players], where)}
  for key, ext in (("store", "sqlite"), ("plot", "png")):
    value = _get(raw, key, str, where, "")  # Empty: beside the file.
    out[key] = pathlib.Path(value) if value else path.with_suffix(f".{ext}")
  return TournamentSpec(game=game, players=tuple(players), **values,
                        confidence=confidence, **out)


def _gauntlet(raw: dict, names: list[str], where: str) -> tuple[str, ...]:
  """The file's `gauntlet` (player names), checked; () when absent."""
  value = raw.get("gauntlet", [])
  if isinstance(value, str):
    value = [value]
  if not isinstance(value, list) or not all(
      isinstance(v, str) for v in value):
    raise ValueError(f"{where}: gauntlet must be a player name or an array "
                     f"of them, got {value!r}")
  unknown = [v for v in value if v not in names]
  if unknown:
    raise ValueError(f"{where}: gauntlet names {unknown[0]!r}, not a player "
                     f"of the file ({', '.join(names)})")
  if value and len(set(value)) == len(names):
    raise ValueError(f"{where}: gauntlet names every player: no pair is "
                     "left to play")
  return tuple(dict.fromkeys(value))


def _pin_run(name: str, spec: str, at: str) -> Player:
  """The run-directory player `spec`, pinned to a checkpoint step.

  Raises:
    ValueError: no readable config or no such checkpoint in the run.
  """
  # Imported here: reading a spec of bots only needs no JAX.
  from agents.core import checkpoint, runs  # pylint: disable=g-import-not-at-top
  run_dir, step, mode = players_lib.parse_run_spec(spec)
  try:
    directory = runs.resolve_run_dir(run_dir)
    config = json.dumps(checkpoint.read_run_config(directory), sort_keys=True)
    with runs.quiet_orbax():
      checkpointer = checkpoint.Checkpointer(directory, read_only=True)
      try:
        steps = sorted(checkpointer.all_steps())
      finally:
        checkpointer.close()
  except (checkpoint.CheckpointError, OSError, ValueError) as e:
    raise ValueError(f"{at}: {e}") from None
  if not steps:
    raise ValueError(f"{at}: run directory {run_dir!r} has no checkpoint")
  if step is None:
    step = steps[-1]
  elif step not in steps:
    raise ValueError(f"{at}: {run_dir!r} has no checkpoint at step {step}; "
                     f"it has {', '.join(map(str, steps))}")
  fingerprint = hashlib.sha256(config.encode()).hexdigest()[:12]
  return Player(name, players_lib.format_run_spec(run_dir, step, mode),
                fingerprint)


def load_spec(path: str | os.PathLike[str]) -> TournamentSpec:
  """Reads and validates the tournament file `path` (see `parse_spec`)."""
  path = pathlib.Path(path)
  try:
    text = path.read_text(encoding="utf-8")
  except (OSError, UnicodeDecodeError) as e:
    raise ValueError(f"cannot read tournament file {str(path)!r}: "
                     f"{getattr(e, 'strerror', None) or e}") from None
  return parse_spec(text, path)
