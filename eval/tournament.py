"""Round-robin tournaments between players, resumable, stored in SQLite.

A tournament file (TOML) names the game and the players:

  game = "kuhn_poker"         # any 2-player turn-based pyspiel game string
  games_per_pair = 100        # default 10
  seed = 0                    # default 0; every game's seed derives from it
  workers = 1                 # parallel processes; 1 plays in-process
  store = "runs/kuhn.sqlite"  # default: beside the file, <file>.sqlite
  plot = "runs/kuhn.png"      # default: beside the file, <file>.png
  bootstrap = 200             # Elo bootstrap resamples (default 200)
  confidence = 0.95           # Elo interval coverage (default 0.95)
  [[players]]
  name = "random"
  spec = "random"             # or "heuristic", RUN_DIR, RUN_DIR@STEP, and
                              # either with ":greedy" (`eval.players`)

Relative paths (store, plot, run directories) are relative to the working
directory. A run directory without `@STEP` means its latest checkpoint when
the file is read: the player is pinned to that step for the whole tournament,
and results are keyed by the step and the run's config, so a run that has
trained further (or was retrained) plays its pairs afresh instead of reusing
another network's results. Each pair plays `games_per_pair` games, its
players (in name order) swapping seats on odd game indices. Game `i` of a
pair has its own seed (from the tournament seed, the pair id and `i`) for
chance and both players' sampling, so any game replays alone. Results are
keyed per pair (`eval.store`): a rerun plays only the games not stored yet,
so a killed tournament resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import pathlib
import queue as queue_lib
import signal
import time
import tomllib
from typing import Callable, Iterator, Sequence

import numpy as np
import pyspiel

from eval import players as players_lib
from eval import ratings as ratings_lib
from eval import store as store_lib

_KEYS = ("game", "players", "games_per_pair", "seed", "workers", "store",
         "plot", "bootstrap", "confidence")
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


@dataclasses.dataclass(frozen=True)
class Match:
  """One scheduled game."""
  pair_id: str
  game_index: int
  seats: tuple[Player, Player]  # seat 0 first
  seed: int                     # [0, 2**32)


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
  game = str(load_game(_get(raw, "game", str, where)))
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
    if not pathlib.Path(players_lib.parse_run_spec(spec)[0]).is_dir():
      raise ValueError(f"{at} ({name}): spec {spec!r} is not one of "
                       f"{', '.join(players_lib.BUILTIN)} nor a run directory")
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
  out = {}
  for key, ext in (("store", "sqlite"), ("plot", "png")):
    value = _get(raw, key, str, where, "")  # Empty: beside the file.
    out[key] = pathlib.Path(value) if value else path.with_suffix(f".{ext}")
  return TournamentSpec(game=game, players=tuple(players), **values,
                        confidence=confidence, **out)


def _pin_run(name: str, spec: str, at: str) -> Player:
  """The run-directory player `spec`, pinned to a checkpoint step.

  Raises:
    ValueError: no readable config or no such checkpoint in the run.
  """
  # Imported here: reading a spec of bots only needs no JAX.
  from agents.core import checkpoint  # pylint: disable=g-import-not-at-top
  run_dir, step, mode = players_lib.parse_run_spec(spec)
  try:
    config = json.dumps(checkpoint.read_run_config(run_dir), sort_keys=True)
    checkpointer = checkpoint.Checkpointer(run_dir, read_only=True)
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


def pair_id(spec: TournamentSpec, a: Player, b: Player) -> str:
  """The id of the pair `(a, b)` (in name order): 16 hex digits."""
  a, b = sorted((a, b), key=lambda p: p.name)
  # Bots are keyed as they always were; run players also by their config.
  key = json.dumps([spec.game, spec.seed] + [
      [p.name, p.spec] + ([p.fingerprint] if p.fingerprint else [])
      for p in (a, b)])
  return hashlib.sha256(key.encode()).hexdigest()[:16]


def pairs(spec: TournamentSpec) -> list[tuple[Player, Player, str]]:
  """Every pair `(a, b, pair_id)`, `a` before `b` in name order."""
  players = sorted(spec.players, key=lambda p: p.name)
  return [(a, b, pair_id(spec, a, b)) for i, a in enumerate(players)
          for b in players[i + 1:]]


def schedule(spec: TournamentSpec) -> list[Match]:
  """Every game of the round robin, round by round (game index, then pair).

  Game `i` of pair `(a, b)` seats `a` first when `i` is even, `b` when odd.
  """
  matches = []
  for index in range(spec.games_per_pair):
    for a, b, pid in pairs(spec):
      seed = np.random.SeedSequence([spec.seed, int(pid, 16), index])
      matches.append(Match(pid, index, (a, b) if index % 2 == 0 else (b, a),
                           int(seed.generate_state(1)[0])))
  return matches


def play_game(game: pyspiel.Game, bots: Sequence[pyspiel.Bot],
              seed: int) -> tuple[list[float], int]:
  """Plays one game; chance outcomes are sampled from `seed`.

  Returns:
    (returns per seat, number of player moves).
  """
  rng = np.random.default_rng(seed)
  state = game.new_initial_state()
  for bot in bots:
    bot.restart_at(state)
  plies = 0
  while not state.is_terminal():
    if state.is_chance_node():
      outcomes, probs = zip(*state.chance_outcomes())
      action = int(rng.choice(outcomes, p=probs))
      player = pyspiel.PlayerId.CHANCE
    else:
      player = state.current_player()
      action = bots[player].step(state)
      plies += 1
    for seat, bot in enumerate(bots):
      if seat != player:
        bot.inform_action(state, player, action)
    state.apply_action(action)
  return list(state.returns()), plies


class _Bots:
  """Builds each (spec, seat) bot once and reseeds it for every game."""

  def __init__(self, game: pyspiel.Game):
    self._game = game
    self._cache: dict[tuple[str, int], pyspiel.Bot] = {}

  def get(self, spec: str, seat: int, seed: int) -> pyspiel.Bot:
    bot = self._cache.get((spec, seat))
    # OpenSpiel's random and policy bots sample from a RandomState `_rng`;
    # reseeding it makes the game depend only on its own seed. Other bots are
    # built afresh with the game's seed (cheap for non-checkpoint bots).
    rng = getattr(bot, "_rng", None)
    if isinstance(rng, np.random.RandomState):
      rng.seed(seed)
      return bot
    bot = players_lib.make_player(spec, self._game, seat, seed)
    self._cache[(spec, seat)] = bot
    return bot

  def play(self, match: Match) -> tuple[list[float], int, float]:
    seeds = np.random.SeedSequence(match.seed).generate_state(3)
    bots = [self.get(p.spec, seat, int(seeds[seat + 1]))
            for seat, p in enumerate(match.seats)]
    start = time.perf_counter()
    returns, plies = play_game(self._game, bots, int(seeds[0]))
    return returns, plies, time.perf_counter() - start


def check_players(spec: TournamentSpec) -> _Bots:
  """Builds every player once, so that bad players fail before any game.

  Raises:
    ValueError: a player cannot be built (unknown spec, unreadable run
      directory, a run of another game).
  """
  bots = _Bots(load_game(spec.game))
  for i, p in enumerate(spec.players):
    try:
      bots.get(p.spec, 0, 0)
    except (ValueError, OSError) as e:
      raise ValueError(f"players[{i}] ({p.name}): {e}") from None
  return bots


def _worker(game_string: str, tasks, results, parent: int) -> None:
  """A worker process: plays matches from `tasks` until a None."""
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  absl_logging.set_verbosity(absl_logging.ERROR)
  signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's job.
  bots = _Bots(load_game(game_string))
  for match in iter(tasks.get, None):
    if os.getppid() != parent:  # The tournament was killed: stop playing,
      results.cancel_join_thread()  # and do not wait to flush to nobody.
      return
    try:
      results.put((match, *bots.play(match)))
    except Exception as e:  # pylint: disable=broad-except
      results.put((match, f"{type(e).__name__}: {e}"))
      return


def _play_parallel(game_string: str, matches: Sequence[Match],
                   workers: int) -> Iterator[tuple]:
  ctx = multiprocessing.get_context("spawn")
  tasks, results = ctx.Queue(), ctx.Queue()
  for m in [*matches, *[None] * workers]:
    tasks.put(m)
  procs = [ctx.Process(target=_worker, daemon=True,
                       args=(game_string, tasks, results, os.getpid()))
           for _ in range(workers)]
  for p in procs:
    p.start()
  try:
    for _ in range(len(matches)):
      while True:
        try:
          item = results.get(timeout=1.0)
          break
        except queue_lib.Empty:
          if not any(p.is_alive() for p in procs):
            raise RuntimeError("tournament workers died") from None
      if isinstance(item[1], str):
        m = item[0]
        raise RuntimeError(f"game {m.game_index} of {m.seats[0].name} vs "
                           f"{m.seats[1].name} failed: {item[1]}")
      yield item
  finally:
    for p in procs:
      if p.is_alive():
        p.terminate()
      p.join()


def run(spec: TournamentSpec, *, workers: int | None = None,
        on_game: Callable[[int, int, store_lib.GameRecord], None] | None = None
        ) -> tuple[int, int]:
  """Plays every game of `spec` not yet in its store, storing each at once.

  Args:
    spec: the tournament.
    workers: overrides `spec.workers`.
    on_game: called as `on_game(done, total, record)` after each game is
      stored, with the counts of this run.

  Returns:
    (games played now, games of the tournament).
  """
  workers = spec.workers if workers is None else workers
  if workers < 1:
    raise ValueError(f"workers must be >= 1, got {workers}")
  matches = schedule(spec)
  stored = set()
  if spec.store.exists():
    with store_lib.Store(spec.store) as store:
      stored = store.done({m.pair_id for m in matches})
  todo = [m for m in matches if (m.pair_id, m.game_index) not in stored]
  if not todo:
    return 0, len(matches)
  bots = check_players(spec)  # Before creating the store: bad players fail.
  with store_lib.Store(spec.store) as store:
    workers = min(workers, len(todo))
    if workers == 1:
      played = ((m, *bots.play(m)) for m in todo)
    else:
      played = _play_parallel(spec.game, todo, workers)
    for done, (m, returns, plies, seconds) in enumerate(played, 1):
      record = store_lib.GameRecord(
          pair_id=m.pair_id, game_index=m.game_index, game=spec.game,
          seats=(m.seats[0].name, m.seats[1].name),
          seat_specs=(m.seats[0].spec, m.seats[1].spec),
          returns=tuple(returns), plies=plies, seconds=seconds)
      store.add(record)
      if on_game is not None:
        on_game(done, len(todo), record)
  return len(todo), len(matches)


def stored_games(spec: TournamentSpec) -> list[store_lib.GameRecord]:
  """The stored games of `spec` (its pairs, indices < games_per_pair).

  Raises:
    ValueError: the store does not exist or is not a tournament store.
  """
  with store_lib.Store(spec.store, create=False) as store:
    records = store.records({pid for _, _, pid in pairs(spec)})
  return [r for r in records if r.game_index < spec.games_per_pair]


def ratings(spec: TournamentSpec,
            records: Sequence[store_lib.GameRecord]) -> ratings_lib.Ratings:
  """Elo, intervals and Nash averaging of `spec`'s players from `records`.

  The bootstrap is seeded by the tournament seed, so a report is repeatable.
  """
  names = [p.name for p in spec.players]
  index = {name: i for i, name in enumerate(names)}
  results = [ratings_lib.result_from_returns(
      index[r.seats[0]], index[r.seats[1]], r.returns) for r in records]
  return ratings_lib.compute_ratings(
      names, results, rng=np.random.default_rng(spec.seed),
      num_resamples=spec.bootstrap, confidence=spec.confidence)
