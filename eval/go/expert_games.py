"""Expert Go games from GNU Go self-play, written as SGF shards.

`generate` has GNU Go (over GTP, one process per worker playing both
colours) play itself from randomised openings; `read_games` (from
`eval.go.game_records`, also importable from here) reads the games back as
action ids (`games.go.coords`).

A game: k random opening moves (k uniform in `opening_moves`, inclusive),
Black first, each on a point off the first two lines drawn uniformly from
those GNU Go accepts; then GNU Go plays both sides until two passes in a
row or `max_moves` moves in all. GNU Go runs with `--chinese-rules
--positional-superko --capture-all-dead --play-out-aftermath
--never-resign`: it obeys our rules' superko (see `LEGACY_GNUGO_OPTIONS`
for directories begun without it) and captures every dead stone before
passing, so its `final_score` (the RE property) is the Tromp-Taylor area
score of the final position less komi, and every game ends scored.
(Records of games that ended by resignation, "B+R"/"W+R", are still read.)
Everything random in game i comes from `np.random.default_rng([seed, i])`, including GNU Go's
own seed (`set_random_seed`), so each game is reproducible from its index
alone, whichever worker plays it.

The files: `out_dir/manifest.json` (the arguments and GNU Go's version) and
shards `games-level{L}-seed{S}-{shard:05d}.sgf.xz`, `games_per_shard` games
each in index order, one SGF record per line. A shard is written atomically
once all its games are done, so a killed run resumes by skipping the shards
that exist; a later run with a larger `num_games` (all else equal) adds
games, replaying a last shard that the smaller run left short. The SGF of a game holds SZ, KM, RU[Tromp-Taylor], PB/PW ("GNU Go
3.8 level 5"), RE from GNU Go's `final_score` ("B+R"/"W+R" after a
resignation), GN (the game id), GC ("opening: 4 random moves; ended:
passes; gnugo seed: 123") and C[random opening move] on the random moves.
A state is a position where GNU Go chose a move (passes included; not the
random opening, not a resignation).
"""

from __future__ import annotations

import dataclasses
import json
import lzma
import math
import multiprocessing
import os
import pathlib
import queue as queue_lib
import signal
import time
from typing import NamedTuple

import numpy as np
from sgfmill import sgf

from eval.go import game_records
from eval.go import gtp_client
# The reader of these games, here too: `expert_games.read_games(out_dir)`.
from eval.go.game_records import GameRecord, read_games  # noqa: F401
from games.go import coords

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
GNUGO_OPTIONS = ("--chinese-rules", "--positional-superko",
                 "--capture-all-dead", "--play-out-aftermath", "--never-resign")
# GNU Go enforces only simple ko unless told otherwise, and 1 of the first
# 8,600 games (generated with these options) repeats a position, which our
# rules forbid (`eval.go.positions` leaves such a game out). A directory
# begun with them goes on with them, so that its games stay alike.
LEGACY_GNUGO_OPTIONS = ("--chinese-rules", "--capture-all-dead",
                        "--play-out-aftermath", "--never-resign")
MAX_GNUGO_BOARD_SIZE = 19
RULES = "Tromp-Taylor"  # The RU property; see the module docstring.
_GENMOVE_TIMEOUT_S = 600.0


class GenerateSummary(NamedTuple):
  """What one `generate` call did (skipped shards count for nothing)."""
  games: int                # games played now
  states: int               # positions where GNU Go chose a move, in those games
  seconds: float
  shards_written: int
  shards_skipped: int       # complete from an earlier run

  @property
  def states_per_hour(self) -> float:
    return self.states / self.seconds * 3600 if self.seconds > 0 else 0.0


@dataclasses.dataclass(frozen=True)
class _Settings:
  """The arguments that decide the games (kept in the manifest)."""
  num_games: int
  level: int
  seed: int
  opening_moves: tuple[int, int]
  board_size: int
  komi: float
  games_per_shard: int
  max_moves: int

  def __post_init__(self):
    def integer(name, low):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    for name, low in (("num_games", 1), ("seed", 0), ("games_per_shard", 1),
                      ("max_moves", 1)):
      integer(name, low)
    coords.check_board_size(self.board_size)
    if self.board_size > MAX_GNUGO_BOARD_SIZE:
      raise ValueError(f"GNU Go plays boards up to {MAX_GNUGO_BOARD_SIZE}x"
                       f"{MAX_GNUGO_BOARD_SIZE}, got board_size "
                       f"{self.board_size}")
    if len(self.opening_moves) != 2 or not all(
        isinstance(k, int) and not isinstance(k, bool)
        for k in self.opening_moves):
      raise ValueError(f"opening_moves must be two integers (low, high), got "
                       f"{self.opening_moves!r}")
    lo, hi = self.opening_moves
    if not 0 <= lo <= hi:
      raise ValueError(f"opening_moves must be (low, high) with 0 <= low <= "
                       f"high, got {self.opening_moves!r}")
    interior = max(0, self.board_size - 4) ** 2
    if hi > interior:
      raise ValueError(
          f"opening_moves {lo}-{hi}: a {self.board_size}x{self.board_size} "
          f"board has {interior} point{'s' if interior != 1 else ''} off the "
          f"first two lines; at most {interior} random opening moves")
    if self.max_moves <= hi:
      raise ValueError(f"max_moves ({self.max_moves}) must exceed the most "
                       f"opening moves ({hi})")
    if not math.isfinite(self.komi):
      raise ValueError(f"komi must be a finite number, got {self.komi!r}")

  @property
  def num_shards(self) -> int:
    return -(-self.num_games // self.games_per_shard)

  def shard_games(self, shard: int) -> range:
    start = shard * self.games_per_shard
    return range(start, min(start + self.games_per_shard, self.num_games))

  def shard_name(self, shard: int) -> str:
    return f"games-level{self.level}-seed{self.seed}-{shard:05d}.sgf.xz"

  def game_id(self, index: int) -> str:
    return f"gnugo-level{self.level}-seed{self.seed}-{index:07d}"


def default_max_moves(board_size: int) -> int:
  """Three moves per point: far beyond a normal game, short of a long cycle
  (GNU Go forbids only the simple ko, so a triple ko could go on for ever)."""
  return 3 * board_size * board_size


# ----------------------------------------------------------------- one game


def _other(colour: str) -> str:
  return "w" if colour == "b" else "b"


def _play_game(engine: gtp_client.GTPEngine, settings: _Settings, index: int,
               player_name: str) -> tuple[str, int]:
  """Plays game `index` on `engine`; returns (SGF on one line, states)."""
  n = settings.board_size
  rng = np.random.default_rng([settings.seed, index])
  gnugo_seed = int(rng.integers(1, 2**31 - 1))
  num_opening = int(rng.integers(settings.opening_moves[0],
                                 settings.opening_moves[1] + 1))
  engine.send(f"boardsize {n}")
  engine.send("clear_board")
  engine.send("clear_cache")  # Nothing from an earlier game may steer this one.
  engine.send(f"komi {settings.komi:g}")
  engine.send(f"set_random_seed {gnugo_seed}")
  interior = np.array([coords.from_sgfmill((r, c), n) for r in range(2, n - 2)
                       for c in range(2, n - 2)], np.int32)
  moves: list[tuple[str, int]] = []
  colour = "b"
  for _ in range(num_opening):
    # Uniform over the points GNU Go accepts: try them in a random order.
    for action in rng.permutation(interior):
      try:
        engine.send(f"play {colour} {coords.to_gtp(action, n)}")
      except gtp_client.GTPError:
        continue  # occupied, suicide or ko
      moves.append((colour, int(action)))
      break
    else:
      raise RuntimeError(f"game {index}: no legal opening move for {colour}")
    colour = _other(colour)
  passes, ended, resigned = 0, "max_moves", None
  while len(moves) < settings.max_moves:
    vertex = engine.send(f"genmove {colour}")
    if vertex.lower() == "resign":
      ended, resigned = "resign", colour
      break
    action = coords.from_gtp(vertex, n)
    moves.append((colour, action))
    passes = passes + 1 if action == coords.pass_action(n) else 0
    if passes == 2:
      ended = "passes"
      break
    colour = _other(colour)
  if resigned:
    result = f"{_other(resigned).upper()}+R"
  else:
    result = engine.send("final_score")
    game_records.parse_result(result)  # GNU Go's answer must be a valid RE.
  game = sgf.Sgf_game(n)
  root = game.get_root()
  root.set("KM", float(settings.komi))
  root.set("RU", RULES)
  root.set("PB", player_name)
  root.set("PW", player_name)
  root.set("RE", result)
  root.set("GN", settings.game_id(index))
  root.set("GC", game_records.game_comment(num_opening, ended, gnugo_seed))
  for i, (c, action) in enumerate(moves):
    node = game.extend_main_sequence()
    node.set_move(c, coords.to_sgfmill(action, n))
    if i < num_opening:
      node.set("C", game_records.OPENING_COMMENT)
  line = game.serialise(wrap=None).decode("utf-8").strip()
  return line, len(moves) - num_opening


# ------------------------------------------------------------------ workers


def _engine(argv: list[str]) -> gtp_client.GTPEngine:
  return gtp_client.GTPEngine(argv, timeout_s=_GENMOVE_TIMEOUT_S)


def _worker(settings: _Settings, argv: list[str], player_name: str, tasks,
            results, parent: int) -> None:
  """A worker process: one GNU Go; plays the game indices from `tasks` until
  a None."""
  signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's job.
  index = None
  try:
    with _engine(argv) as engine:
      for index in iter(tasks.get, None):
        if os.getppid() != parent:  # The parent was killed: stop.
          results.cancel_join_thread()
          return
        results.put((index, *_play_game(engine, settings, index, player_name)))
  except Exception as e:  # pylint: disable=broad-except
    results.put((index, f"{type(e).__name__}: {e}"))


def _play_serial(settings, argv, player_name, indices):
  with _engine(argv) as engine:
    for index in indices:
      yield (index, *_play_game(engine, settings, index, player_name))


def _play_parallel(settings, argv, player_name, indices, workers):
  ctx = multiprocessing.get_context("spawn")
  tasks, results = ctx.Queue(), ctx.Queue()
  for index in [*indices, *[None] * workers]:
    tasks.put(index)
  procs = [ctx.Process(target=_worker, daemon=True,
                       args=(settings, argv, player_name, tasks, results,
                             os.getpid()))
           for _ in range(workers)]
  for p in procs:
    p.start()
  try:
    for _ in range(len(indices)):
      while True:
        try:
          item = results.get(timeout=1.0)
          break
        except queue_lib.Empty:
          if not any(p.is_alive() for p in procs):
            raise RuntimeError("GNU Go worker processes died") from None
      if isinstance(item[1], str) and len(item) == 2:
        where = "a worker" if item[0] is None else f"game {item[0]}"
        raise RuntimeError(f"{where} failed: {item[1]}")
      yield item
  finally:
    for p in procs:
      if p.is_alive():
        p.terminate()
      p.join()


# -------------------------------------------------------------------- files


def _atomic_write(path: pathlib.Path, data: bytes) -> None:
  tmp = path.with_name(f".{path.name}.tmp")
  with open(tmp, "wb") as f:
    f.write(data)
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, path)


def _manifest(settings: _Settings, engine_version: str,
              options: tuple[str, ...]) -> dict:
  return {
      "format": FORMAT_VERSION,
      "generator": "eval.go.expert_games",
      **dataclasses.asdict(settings),
      "opening_moves": list(settings.opening_moves),
      "rules": RULES,
      "engine": engine_version,
      "engine_options": list(options),
  }


def _directory_options(out_dir: pathlib.Path) -> tuple[str, ...]:
  """GNU Go's options for `out_dir`: the legacy ones where its manifest
  records them, else `GNUGO_OPTIONS`."""
  try:
    have = json.loads((out_dir / MANIFEST).read_text())
  except (OSError, ValueError):
    return GNUGO_OPTIONS
  if (isinstance(have, dict) and
      have.get("engine_options") == list(LEGACY_GNUGO_OPTIONS)):
    return LEGACY_GNUGO_OPTIONS
  return GNUGO_OPTIONS


def _check_or_write_manifest(out_dir: pathlib.Path, settings: _Settings,
                             engine_version: str,
                             options: tuple[str, ...]) -> int | None:
  """Checks `out_dir`'s manifest against `settings` (all but `num_games`,
  which may grow) and records `settings`; returns the earlier `num_games`,
  None for a new directory."""
  want = _manifest(settings, engine_version, options)
  path = out_dir / MANIFEST
  if not path.exists():
    if any(out_dir.glob("games-*.sgf.xz")):
      raise ValueError(f"{out_dir} holds game shards but no {MANIFEST}; use "
                       "an empty or new output directory")
    _atomic_write(path, (json.dumps(want, indent=2) + "\n").encode())
    return None
  try:
    have = json.loads(path.read_text())
    if not isinstance(have, dict):
      raise ValueError("not a JSON object")
  except (ValueError, OSError) as e:
    raise ValueError(f"cannot read {path}: {e}") from None
  diffs = [f"{key} {have.get(key, 'missing')!r} there, {value!r} now"
           for key, value in want.items()
           if key != "num_games" and have.get(key) != value]
  if diffs:
    raise ValueError(
        f"{out_dir} holds games generated with other arguments ({MANIFEST}: "
        f"{'; '.join(diffs)}); use another output directory or the same "
        "arguments")
  earlier = have.get("num_games")
  if not isinstance(earlier, int) or earlier < 1:
    raise ValueError(f"{path}: num_games must be a positive integer, got "
                     f"{earlier!r}")
  if settings.num_games > earlier:
    _atomic_write(path, (json.dumps(want, indent=2) + "\n").encode())
  return earlier


def _engine_version(argv: list[str]) -> str:
  with gtp_client.GTPEngine(argv, timeout_s=30) as engine:
    return f"{engine.send('name')} {engine.send('version')}"


class _Progress:
  """A rich progress bar on stderr: games, states, states per hour."""

  def __init__(self, enabled: bool, level: int, total: int, done: int):
    self._bar = None
    if not enabled:
      return
    from rich import console, progress  # pylint: disable=g-import-not-at-top
    self._bar = progress.Progress(
        progress.TextColumn(f"[bold]GNU Go level {level}"),
        progress.BarColumn(), progress.MofNCompleteColumn(),
        progress.TextColumn("games  {task.fields[states]:,} states  "
                            "{task.fields[rate]:,.0f} states/h"),
        progress.TimeElapsedColumn(), progress.TimeRemainingColumn(),
        console=console.Console(stderr=True))
    self._task = self._bar.add_task("games", total=total, completed=done,
                                    states=0, rate=0.0)
    self._bar.start()

  def update(self, games: int, states: int, seconds: float) -> None:
    if self._bar is not None:
      self._bar.update(self._task, advance=games, states=states,
                       rate=states / max(seconds, 1e-9) * 3600)

  def close(self) -> None:
    if self._bar is not None:
      self._bar.stop()


def generate(out_dir: str | os.PathLike, *, num_games: int, level: int,
             seed: int, workers: int = 1,
             opening_moves: tuple[int, int] = (2, 6), board_size: int = 9,
             komi: float = 7.5, games_per_shard: int = 100,
             max_moves: int | None = None,
             progress: bool = True) -> GenerateSummary:
  """Has GNU Go play `num_games` games against itself into `out_dir`.

  Resumable: shards already in `out_dir` are skipped. See the module
  docstring for the games and the files.

  Args:
    out_dir: the output directory (created if missing).
    num_games: games in all (those of earlier runs included).
    level: GNU Go's level, 0 to 10.
    seed: seeds every game (>= 0); game i is reproducible from (seed, i).
    workers: parallel processes, each with its own GNU Go.
    opening_moves: (low, high): each game starts with k random moves, k
      uniform in [low, high].
    board_size: 2 to 19; random openings need points off the first two lines.
    komi: added to White's score.
    games_per_shard: games per file.
    max_moves: moves in all (random ones and passes included) after which a
      game stops unfinished (ended "max_moves"; RE is still GNU Go's
      final_score); default `default_max_moves(board_size)`.
    progress: show a rich progress bar on stderr.

  Returns:
    What this call did.

  Raises:
    ValueError: bad arguments, or `out_dir` holds games made with other
      arguments (the message names each difference).
    GnuGoNotFoundError: GNU Go is not installed.
    GTPEngineError, RuntimeError: GNU Go failed; complete shards are kept.
  """
  if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
    raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
  settings = _Settings(
      num_games=num_games, level=level, seed=seed,
      opening_moves=tuple(opening_moves), board_size=board_size,
      komi=float(komi), games_per_shard=games_per_shard,
      max_moves=(default_max_moves(board_size) if max_moves is None
                 else max_moves))
  out = pathlib.Path(out_dir)
  if out.exists() and not out.is_dir():
    raise ValueError(f"output directory {out} is a file")
  options = _directory_options(out)
  argv = gtp_client.gnugo_argv(level, extra=options)
  engine_version = _engine_version(argv)
  out.mkdir(parents=True, exist_ok=True)
  earlier = _check_or_write_manifest(out, settings, engine_version, options)
  if earlier is not None and earlier > settings.num_games:
    settings = dataclasses.replace(settings, num_games=earlier)
  # A last shard that a smaller run left short is played again, whole.
  short = (earlier // settings.games_per_shard
           if earlier is not None and earlier < settings.num_games
           and earlier % settings.games_per_shard else None)
  todo = [s for s in range(settings.num_shards)
          if s == short or not (out / settings.shard_name(s)).exists()]
  indices = [i for s in todo for i in settings.shard_games(s)]
  start = time.monotonic()
  if not indices:
    return GenerateSummary(0, 0, 0.0, 0, settings.num_shards)
  player_name = f"{engine_version} level {level}"
  workers = min(workers, len(indices))
  if workers == 1:
    played = _play_serial(settings, argv, player_name, indices)
  else:
    played = _play_parallel(settings, argv, player_name, indices, workers)
  pending = {s: {} for s in todo}
  shard_of = {i: s for s in todo for i in settings.shard_games(s)}
  games = states = written = 0
  bar = _Progress(progress, level, settings.num_games,
                  settings.num_games - len(indices))
  try:
    for index, line, game_states in played:
      shard = shard_of[index]
      pending[shard][index] = line
      games, states = games + 1, states + game_states
      if len(pending[shard]) == len(settings.shard_games(shard)):
        lines = pending.pop(shard)
        text = "".join(lines[i] + "\n" for i in settings.shard_games(shard))
        _atomic_write(out / settings.shard_name(shard),
                      lzma.compress(text.encode("utf-8")))
        written += 1
      bar.update(1, states, time.monotonic() - start)
  finally:
    bar.close()
    played.close()
  return GenerateSummary(games, states, time.monotonic() - start, written,
                         settings.num_shards - len(todo))
