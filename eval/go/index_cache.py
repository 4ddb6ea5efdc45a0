"""The index a retrieval network plays with, built on first use.

A retrieval network reads its neighbours from an index of expert positions
(`retrieval.build_index`), hundreds of MB that do not ship with the suite.
A run (or bundled agent) may instead carry a recipe, `index_recipe.json`:
which key network, which games, how many symmetries, which backend. The
first time the agent plays, `index_for` replays those games into positions
and indexes them in the user's cache (`cache_root()`), with a progress bar;
later starts reuse it. When games have been added since (more shards under
the recipe's games), the new games' positions are added to the cached index
without rebuilding it or retraining anything (Humphreys et al. 2022: new
data is used by adding it to the retrieval set).

The recipe's `games` is a directory, or "shipped" for the expert games that
ship with the suite (`games.go.EXPERT_GAMES_DIR`); `key` is a run directory
or a bundled agent's name. Relative directories are relative to the run.
`max_games` pins the retrieval set: only the first files of `games`, in path
order, that hold at least that many games are indexed, so that a bundled
agent's first start (replaying and indexing every game: minutes and GB that
grow with the games) stays the one it was measured with while more expert
games ship; 0 indexes every game.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import sys
import tempfile
from typing import Any, Iterator

from agents.core import ann, configs, runs
from agents.core.checkpoint import CONFIG_FILE, write_json_atomic
from agents.go_retrieval import retrieval

RECIPE_FILE = "index_recipe.json"
SHIPPED = "shipped"
_STAMP_FILE = "games.json"  # the shards the cached positions were made from


@dataclasses.dataclass(frozen=True)
class Recipe:
  """How to build a run's index (see the module docstring)."""

  key: str
  games: str = SHIPPED
  symmetries: int = 8
  backend: str = "hnsw"
  max_games: int = 0

  def __post_init__(self):
    if not self.key:
      raise ValueError("an index recipe names its key network (key)")
    if isinstance(self.max_games, bool) or not isinstance(
        self.max_games, int) or self.max_games < 0:
      raise ValueError(f"an index recipe's max_games must be an integer >= 0 "
                       f"(0: every game), got {self.max_games!r}")
    if not 1 <= self.symmetries <= 8:
      raise ValueError(f"an index recipe's symmetries must be 1..8, got "
                       f"{self.symmetries}")
    ann.IndexConfig(backend=self.backend)  # raises on an unknown backend


def cache_root() -> pathlib.Path:
  """Where built indexes go: $ARENA_CACHE_DIR, else $XDG_CACHE_HOME/arena,
  else ~/.cache/arena."""
  if os.environ.get("ARENA_CACHE_DIR"):
    return pathlib.Path(os.environ["ARENA_CACHE_DIR"])
  base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
  return pathlib.Path(base) / "arena"


def write_recipe(run: str | os.PathLike[str], recipe: Recipe) -> pathlib.Path:
  """Saves `recipe` in a run directory (or bundled agent)."""
  path = runs.resolve_run_dir(run) / RECIPE_FILE
  write_json_atomic(path, dataclasses.asdict(recipe))
  return path


def read_recipe(run: str | os.PathLike[str]) -> Recipe | None:
  """A run's recipe, or None when it has none."""
  path = runs.resolve_run_dir(run) / RECIPE_FILE
  if not path.exists():
    return None
  try:
    fields = json.loads(path.read_text())
    return Recipe(**fields)
  except (OSError, ValueError, TypeError) as e:
    raise ValueError(f"cannot read the index recipe {path}: {e}") from None


def bundle(run: str | os.PathLike[str], name: str, recipe: Recipe, *,
           dest: str | os.PathLike[str] = runs.BUNDLED_DIR) -> pathlib.Path:
  """Bundles a retrieval network (`runs.bundle_run`) with the recipe of its
  index instead of the index: the config names no index or neighbour table
  of this machine, and the agent builds its index on first use.

  Raises:
    ValueError: `run` reads no neighbours, or as `runs.bundle_run`.
  """
  config = runs.read_config(run)
  retrieval_cfg = getattr(getattr(config, "agent", None), "retrieval", None)
  if retrieval_cfg is None or not retrieval_cfg.num_neighbours:
    raise ValueError(f"{run} is no Go network with retrieval")
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{name}.", dir=dest))
  try:
    out = runs.bundle_run(run, name, dest=staging)
    config = dataclasses.replace(config, agent=dataclasses.replace(
        config.agent, retrieval=dataclasses.replace(
            retrieval_cfg, index="", neighbours="")))
    write_json_atomic(out / CONFIG_FILE, configs.to_json(config))
    write_recipe(out, recipe)
    final = pathlib.Path(dest) / name
    if final.exists():
      raise ValueError(f"{str(final)!r} already exists")
    os.rename(out, final)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  return final


def games_dir(run: str | os.PathLike[str], recipe: Recipe) -> pathlib.Path:
  if recipe.games == SHIPPED:
    from games.go import EXPERT_GAMES_DIR  # pylint: disable=g-import-not-at-top
    return EXPERT_GAMES_DIR
  path = pathlib.Path(recipe.games)
  return path if path.is_absolute() else runs.resolve_run_dir(run) / path


def key_run(run: str | os.PathLike[str], recipe: Recipe) -> str:
  """The recipe's key network: a directory (relative to the run) or a
  bundled name."""
  beside = runs.resolve_run_dir(run) / recipe.key
  return str(beside) if beside.is_dir() else recipe.key


def cache_dir(run: str | os.PathLike[str], recipe: Recipe) -> pathlib.Path:
  """The cache directory of a run's index: one per run and recipe."""
  run_dir = runs.resolve_run_dir(run).resolve()
  digest = hashlib.sha256(json.dumps(
      [str(run_dir), dataclasses.asdict(recipe)]).encode()).hexdigest()[:12]
  return cache_root() / "go-index" / f"{run_dir.name}-{digest}"


def _shards(directory: pathlib.Path, max_games: int = 0) -> list[list[Any]]:
  """[relative path, size] of each game file under `directory` that the
  index holds: all of them, or with `max_games` the first ones (path order)
  that hold at least `max_games` games."""
  from eval.go import game_records  # pylint: disable=g-import-not-at-top
  if not directory.is_dir():
    raise ValueError(f"the index recipe's games {directory} is no directory")
  files = game_records.game_files(directory)
  if not files:
    raise ValueError(f"no game records (*.sgf, *.sgf.xz) under {directory}")
  if max_games:
    count = 0
    for n, path in enumerate(files):
      count += game_records.count_games(path)
      if count >= max_games:
        files = files[:n + 1]
        break
  return [[str(p.relative_to(directory)), p.stat().st_size] for p in files]


@contextlib.contextmanager
def _locked(directory: pathlib.Path) -> Iterator[None]:
  """One builder at a time (two engines of a tournament may start
  together)."""
  directory.mkdir(parents=True, exist_ok=True)
  with open(directory / ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)


def index_for(run: str | os.PathLike[str], index: str = "", *,
              progress: bool | None = None) -> pathlib.Path:
  """The index directory a retrieval network plays with.

  Args:
    run: the network's run directory or bundled name.
    index: its config's `agent.retrieval.index`; used when it holds an index.
    progress: show progress bars (on stderr: stdout may be a GTP channel);
      None: when stderr is a terminal (not in a tournament's log).

  Returns:
    `index` when it is an index; else the run's recipe's index in the cache,
    built or brought up to date first.

  Raises:
    ValueError: no index and no recipe, or a recipe that cannot be built.
  """
  if index and (pathlib.Path(index) / retrieval.META_FILE).exists():
    return pathlib.Path(index)
  recipe = read_recipe(run)
  if recipe is None:
    raise ValueError(
        f"the index of {run} ({index or 'none named'}) is not on this "
        "machine and the run has no index recipe; build it with `arena go "
        "index --key RUN --positions DIR --out DIR` and pass "
        "agent.retrieval.index")
  if progress is None:
    progress = sys.stderr.isatty()
  where = cache_dir(run, recipe)
  games = games_dir(run, recipe)
  with _locked(where), contextlib.redirect_stdout(sys.stderr):
    shards = _shards(games, recipe.max_games)
    stamp = where / _STAMP_FILE
    have = json.loads(stamp.read_text()) if stamp.exists() else None
    built = (where / "index" / retrieval.META_FILE).exists()
    if have != shards or not built:
      from eval.go import positions  # pylint: disable=g-import-not-at-top
      name = runs.resolve_run_dir(run).name
      which = (f"the first {recipe.max_games:,} expert games (its recipe's "
               f"max_games) of {games}" if recipe.max_games else
               f"the expert games of {games}")
      print(f"arena: adding the new games of {which} to {name}'s index "
            f"(cache {where})" if built else
            f"arena: indexing {which} for {name} (once; cache {where})",
            flush=True)
      store = positions.build_positions(
          [games / path for path, _ in shards], where / "positions",
          progress=progress)
      if positions.skipped_message(store.meta):
        print(f"arena: {positions.skipped_message(store.meta)}", flush=True)
      if built:
        added, entries = retrieval.add_new_games(where / "index",
                                                 where / "positions")
        print(f"arena: added {added} games ({entries} entries) to the index",
              flush=True)
      else:
        retrieval.build_index(
            key_run(run, recipe), where / "positions", where / "index",
            symmetries=recipe.symmetries,
            config=ann.IndexConfig(backend=recipe.backend),
            progress=progress, overwrite=True)
      write_json_atomic(stamp, shards)
  return where / "index"
