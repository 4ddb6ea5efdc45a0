"""Round-robin tournaments between players, resumable, stored in SQLite.

The tournament file (`eval.tournament_spec`) names the game and the players.
Each pair plays `games_per_pair` games, its players (in name order) swapping
seats on odd game indices. Game `i` of a pair has its own seed (from the
tournament seed, the pair id and `i`) for chance and both players' sampling,
so any game replays alone. Results are keyed per pair (`eval.store`), a run
player also by its checkpoint step and config: a rerun plays only the games
not stored yet, so a killed tournament resumes. A player that forfeits
(`eval.players.Forfeit`: a Go engine that resigns or breaks the rules)
loses that game; players that hold processes (GTP engines) are closed when
the tournament, or a worker, ends.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import queue as queue_lib
import signal
import sys
import time
from typing import Callable, Iterator, NamedTuple, Sequence

import numpy as np
import pyspiel

from eval import players as players_lib
from eval import ratings as ratings_lib
from eval import store as store_lib
from eval import tournament_spec as spec_lib

_WORKER_EXIT_S = 30.0  # A done worker's time to close its bots and exit.


@dataclasses.dataclass(frozen=True)
class Match:
  """One scheduled game."""
  pair_id: str
  game_index: int
  seats: tuple[spec_lib.Player, spec_lib.Player]  # seat 0 first
  seed: int                     # [0, 2**32)


def pair_id(spec: spec_lib.TournamentSpec, a: spec_lib.Player,
            b: spec_lib.Player) -> str:
  """The id of the pair `(a, b)` (in name order): 16 hex digits."""
  a, b = sorted((a, b), key=lambda p: p.name)
  # Bots are keyed as they always were; run players also by their config.
  key = json.dumps([spec.game, spec.seed] + [
      [p.name, p.spec] + ([p.fingerprint] if p.fingerprint else [])
      for p in (a, b)])
  return hashlib.sha256(key.encode()).hexdigest()[:16]


def pairs(spec: spec_lib.TournamentSpec
          ) -> list[tuple[spec_lib.Player, spec_lib.Player, str]]:
  """Every pair `(a, b, pair_id)`, `a` before `b` in name order: all of
  them, or with a gauntlet those of one gauntlet player and one other."""
  players = sorted(spec.players, key=lambda p: p.name)
  return [(a, b, pair_id(spec, a, b)) for i, a in enumerate(players)
          for b in players[i + 1:]
          if not spec.gauntlet or (a.name in spec.gauntlet) != (
              b.name in spec.gauntlet)]


def schedule(spec: spec_lib.TournamentSpec) -> list[Match]:
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


class GameEnd(NamedTuple):
  """How one game ended."""

  returns: list[float]  # per seat
  plies: int  # player moves made
  state: pyspiel.State  # the last state (not terminal after a forfeit)
  forfeit: str  # why a side forfeited (`eval.players.Forfeit`), else ""


def play_out(game: pyspiel.Game, bots: Sequence[pyspiel.Bot],
             seed: int) -> GameEnd:
  """Plays one game; chance outcomes are sampled from `seed`.

  A bot that raises `eval.players.Forfeit` (from `step` on its turn, or
  from `inform_action` on the opponent's) loses: -1 for its seat, +1 for
  the other (2-player games).
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
      try:
        action = bots[player].step(state)
      except players_lib.Forfeit as e:
        return _forfeited(state, player, plies, e)
      plies += 1
    for seat, bot in enumerate(bots):
      if seat != player:
        try:
          bot.inform_action(state, player, action)
        except players_lib.Forfeit as e:
          return _forfeited(state, seat, plies, e)
    state.apply_action(action)
  return GameEnd(list(state.returns()), plies, state, "")


def _forfeited(state: pyspiel.State, seat: int, plies: int,
               reason: players_lib.Forfeit) -> GameEnd:
  returns = [1.0] * state.num_players()
  returns[seat] = -1.0
  return GameEnd(returns, plies, state, str(reason) or "forfeit")


def play_game(game: pyspiel.Game, bots: Sequence[pyspiel.Bot],
              seed: int) -> tuple[list[float], int]:
  """Plays one game (`play_out`).

  Returns:
    (returns per seat, number of player moves).
  """
  end = play_out(game, bots, seed)
  return end.returns, end.plies


def game_seeds(match: Match) -> tuple[int, int, int]:
  """(chance seed, seat 0's seed, seat 1's seed) of `match`."""
  seeds = np.random.SeedSequence(match.seed).generate_state(3)
  return int(seeds[0]), int(seeds[1]), int(seeds[2])


class _Bots:
  """Builds each (spec, seat) bot once and reseeds it for every game.

  `close()` ends what the bots hold open (GTP engines' processes).
  """

  def __init__(self, game: pyspiel.Game):
    self._game = game
    self._cache: dict[tuple[str, int], pyspiel.Bot] = {}

  def get(self, spec: str, seat: int, seed: int) -> pyspiel.Bot:
    bot = self._cache.get((spec, seat))
    # OpenSpiel's random and policy bots sample from a RandomState `_rng`;
    # reseeding it makes the game depend only on its own seed. Bots with a
    # `reseed(seed)` method (Go engines and networks) take it for the next
    # game. Other bots are built afresh with the game's seed (cheap for
    # non-checkpoint bots).
    rng = getattr(bot, "_rng", None)
    if isinstance(rng, np.random.RandomState):
      rng.seed(seed)
      return bot
    if bot is not None and hasattr(bot, "reseed"):
      bot.reseed(seed)
      return bot
    if bot is not None and hasattr(bot, "close"):
      bot.close()
    bot = players_lib.make_player(spec, self._game, seat, seed)
    self._cache[(spec, seat)] = bot
    return bot

  def play_out(self, match: Match) -> tuple[GameEnd, float]:
    """Plays `match`; returns how it ended and its wall time in seconds."""
    chance, *seat_seeds = game_seeds(match)
    bots = [self.get(p.spec, seat, seat_seeds[seat])
            for seat, p in enumerate(match.seats)]
    start = time.perf_counter()
    end = play_out(self._game, bots, chance)
    return end, time.perf_counter() - start

  def play(self, match: Match) -> tuple[list[float], int, float]:
    end, seconds = self.play_out(match)
    return end.returns, end.plies, seconds

  def close(self) -> None:
    """Closes every bot that has a `close` (idempotent)."""
    bots, self._cache = list(self._cache.values()), {}
    for bot in bots:
      if hasattr(bot, "close"):
        bot.close()


def check_players(spec: spec_lib.TournamentSpec) -> _Bots:
  """Builds every player once, so that bad players fail before any game.

  Raises:
    ValueError: a player cannot be built (unknown spec, unreadable run
      directory, a run of another game).
  """
  bots = _Bots(spec_lib.load_game(spec.game))
  for i, p in enumerate(spec.players):
    try:
      bots.get(p.spec, 0, 0)
    except (ValueError, OSError) as e:
      bots.close()
      raise ValueError(f"players[{i}] ({p.name}): {e}") from None
  return bots


def _worker(game_string: str, tasks, results, parent: int) -> None:
  """A worker process: plays matches from `tasks` until a None."""
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  absl_logging.set_verbosity(absl_logging.ERROR)
  signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's job.
  # `terminate()` unwinds the worker, so that its bots close their engines.
  signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
  bots = _Bots(spec_lib.load_game(game_string))
  try:
    for match in iter(tasks.get, None):
      if os.getppid() != parent:  # The tournament was killed: stop playing,
        results.cancel_join_thread()  # and do not wait to flush to nobody.
        return
      try:
        results.put((match, *bots.play(match)))
      except Exception as e:  # pylint: disable=broad-except
        results.put((match, f"{type(e).__name__}: {e}"))
        return
  finally:
    bots.close()


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
  finished = False
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
    finished = True
  finally:
    for p in procs:  # Done workers close their bots and exit on their own.
      p.join(timeout=_WORKER_EXIT_S if finished else 0)
      if p.is_alive():
        p.terminate()
      p.join()


def run(spec: spec_lib.TournamentSpec, *, workers: int | None = None,
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
  try:
    with store_lib.Store(spec.store) as store:
      workers = min(workers, len(todo))
      if workers == 1:
        played = ((m, *bots.play(m)) for m in todo)
      else:
        bots.close()  # The workers build their own.
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
  finally:
    bots.close()
  return len(todo), len(matches)


def stored_games(
    spec: spec_lib.TournamentSpec) -> list[store_lib.GameRecord]:
  """The stored games of `spec` (its pairs, indices < games_per_pair).

  Raises:
    ValueError: the store does not exist or is not a tournament store.
  """
  with store_lib.Store(spec.store, create=False) as store:
    records = store.records({pid for _, _, pid in pairs(spec)})
  return [r for r in records if r.game_index < spec.games_per_pair]


def ratings(spec: spec_lib.TournamentSpec,
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
