"""Ratings from game results: Elo with bootstrap intervals, and Nash averaging.

- Elo: OpenSpiel's `elo.compute_ratings_from_matrices` (a Bradley-Terry fit by
  Hunter's MM algorithm, Ann. Statist. 32(1), 2004,
  https://doi.org/10.1214/aos/1079120141) on the win and draw matrices. The
  ratings are shifted to mean 0 (OpenSpiel puts the lowest at 0); only
  differences mean anything.
- Intervals: a bootstrap (Efron 1979) stratified by pair: each resample
  redraws every pair's games with replacement, refits Elo, and the interval is
  the central `confidence` quantile range of each player's rating.
- Nash averaging (Balduzzi et al. 2018, https://arxiv.org/abs/1806.02643):
  OpenSpiel's `nash_averaging` on the antisymmetric payoff matrix
  `P[i, j] = (wins_ij - losses_ij) / games_ij` (the mean score of i against j,
  with win = 1, draw = 0, loss = -1); it gives the maximum-entropy Nash
  mixture and each player's payoff against it (the Nash rating).
"""

from __future__ import annotations

import dataclasses
import os
import textwrap
from typing import Sequence

import numpy as np
import pyspiel
from open_spiel.python.algorithms import elo as spiel_elo

from agents.core.checkpoint import write_atomic


@dataclasses.dataclass(frozen=True)
class Result:
  """One game between players `a` and `b` (indices into the player list)."""
  a: int
  b: int
  score: float  # for a: 1 win, 0.5 draw, 0 loss


@dataclasses.dataclass(frozen=True)
class Ratings:
  """Per-player summary; every array is [N], in player order, except the
  [N, N] pair matrices the per-player counts are summed from."""
  names: tuple[str, ...]
  score: np.ndarray        # float, (wins + draws / 2) / games; nan if none
  elo: np.ndarray          # float, mean 0
  elo_low: np.ndarray      # float, lower end of the confidence interval
  elo_high: np.ndarray     # float, upper end
  nash_rating: np.ndarray  # float, mean payoff against the Nash mixture
  nash_weight: np.ndarray  # float, the player's Nash mixture probability
  confidence: float
  pair_wins: np.ndarray    # [N, N] int, pair_wins[i, j] = games i won from j
  pair_draws: np.ndarray   # [N, N] int, symmetric

  @property
  def wins(self) -> np.ndarray:
    return self.pair_wins.sum(1)

  @property
  def draws(self) -> np.ndarray:
    return self.pair_draws.sum(1)

  @property
  def losses(self) -> np.ndarray:
    return self.pair_wins.sum(0)

  @property
  def games(self) -> np.ndarray:
    return self.wins + self.draws + self.losses


def result_from_returns(a: int, b: int,
                        returns_ab: Sequence[float]) -> Result:
  """The result for `a` of a game whose returns were `(a's, b's)`."""
  ra, rb = returns_ab
  return Result(a, b, 1.0 if ra > rb else 0.0 if ra < rb else 0.5)


def outcome_matrices(num_players: int, results: Sequence[Result]
                     ) -> tuple[np.ndarray, np.ndarray]:
  """Win and draw counts.

  Returns:
    wins: [N, N] int, wins[i, j] = games i won against j.
    draws: [N, N] int, symmetric, draws[i, j] = draws between i and j.
  """
  wins = np.zeros((num_players, num_players), np.int64)
  draws = np.zeros((num_players, num_players), np.int64)
  for r in results:
    if r.a == r.b:
      raise ValueError(f"a player cannot play itself: {r}")
    if r.score == 1.0:
      wins[r.a, r.b] += 1
    elif r.score == 0.0:
      wins[r.b, r.a] += 1
    else:
      draws[r.a, r.b] += 1
      draws[r.b, r.a] += 1
  return wins, draws


def elo(wins: np.ndarray, draws: np.ndarray) -> np.ndarray:
  """Elo ratings [N] (mean 0) from [N, N] win and draw matrices (OpenSpiel)."""
  ratings = spiel_elo.compute_ratings_from_matrices(
      np.asarray(wins, np.int64), np.asarray(draws, np.int64))
  return ratings - ratings.mean()


def bootstrap_elo(wins: np.ndarray, draws: np.ndarray,
                  rng: np.random.Generator, num_resamples: int = 200,
                  confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
  """Bootstrap interval of each player's Elo, resampling games within pairs.

  Args:
    wins: [N, N] win counts (see `outcome_matrices`).
    draws: [N, N] draw counts.
    rng: the source of the resampling; consumed.
    num_resamples: bootstrap resamples.
    confidence: the interval's coverage, in (0, 1).

  Returns:
    (low [N], high [N]): the interval ends.
  """
  if not 0.0 < confidence < 1.0:
    raise ValueError(f"confidence must be in (0, 1), got {confidence}")
  if num_resamples < 1:
    raise ValueError(f"num_resamples must be >= 1, got {num_resamples}")
  num_players = len(wins)
  # Redrawing a pair's n games with replacement draws its (wins, draws,
  # losses) counts from a multinomial(n, their frequencies): same law, and
  # no per-game work.
  rows, cols = np.triu_indices(num_players, k=1)
  counts = np.stack([wins[rows, cols], draws[rows, cols], wins[cols, rows]], 1)
  played = counts.sum(1)
  rows, cols, counts, played = (rows[played > 0], cols[played > 0],
                                counts[played > 0], played[played > 0])
  samples = np.empty((num_resamples, num_players))
  for k in range(num_resamples):
    drawn = rng.multinomial(played, counts / played[:, None])
    w = np.zeros((num_players, num_players), np.int64)
    d = np.zeros((num_players, num_players), np.int64)
    w[rows, cols], d[rows, cols], w[cols, rows] = drawn.T
    d[cols, rows] = d[rows, cols]
    samples[k] = elo(w, d)
  tail = (1.0 - confidence) / 2.0
  return (np.quantile(samples, tail, axis=0),
          np.quantile(samples, 1.0 - tail, axis=0))


def payoff_matrix(wins: np.ndarray, draws: np.ndarray) -> np.ndarray:
  """[N, N] exactly antisymmetric mean score of row against column in [-1, 1].

  Pairs without games score 0.
  """
  games = wins + wins.T + draws
  upper = np.triu(np.divide(wins - wins.T, games, where=games > 0,
                            out=np.zeros(wins.shape)), k=1)
  return upper - upper.T  # Exact antisymmetry, which OpenSpiel asserts.


def nash_average(payoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Maximum-entropy Nash averaging of an antisymmetric payoff matrix.

  Args:
    payoff: [N, N], payoff[i, j] = -payoff[j, i].

  Returns:
    (weights [N], ratings [N]): the Nash mixture and each player's expected
    payoff against it.
  """
  payoff = np.asarray(payoff, np.float64)
  if not np.array_equal(payoff, -payoff.T):
    raise ValueError("the payoff matrix must be antisymmetric")
  # Imported here: it loads cvxpy and scipy.stats (seconds), needed only now.
  from open_spiel.python.algorithms import nash_averaging as spiel_nash  # pylint: disable=g-import-not-at-top
  game = pyspiel.create_matrix_game(payoff.tolist(), (-payoff).tolist())
  weights, ratings = spiel_nash.nash_averaging(game)
  weights = np.clip(np.asarray(weights, np.float64).reshape(-1), 0.0, None)
  return weights / weights.sum(), np.asarray(ratings, np.float64).reshape(-1)


def compute_ratings(names: Sequence[str], results: Sequence[Result], *,
                    rng: np.random.Generator, num_resamples: int = 200,
                    confidence: float = 0.95) -> Ratings:
  """Every rating of `names` from `results` (see the module docstring)."""
  n = len(names)
  if n < 2:
    raise ValueError(f"ratings need at least 2 players, got {n}")
  wins, draws = outcome_matrices(n, results)
  won, drawn, lost = wins.sum(1), draws.sum(1), wins.sum(0)
  games = won + drawn + lost
  score = np.divide(won + 0.5 * drawn, games, where=games > 0,
                    out=np.full(n, np.nan))
  if results:
    low, high = bootstrap_elo(wins, draws, rng, num_resamples, confidence)
  else:
    low = high = np.zeros(n)
  weights, nash = nash_average(payoff_matrix(wins, draws))
  return Ratings(names=tuple(names), score=score, elo=elo(wins, draws),
                 elo_low=low, elo_high=high, nash_rating=nash,
                 nash_weight=weights,
                 confidence=confidence, pair_wins=wins, pair_draws=draws)


def ratings_table(r: Ratings, title: str | None = None):
  """A `rich.table.Table` of `r`, best Elo first."""
  from rich.table import Table  # pylint: disable=g-import-not-at-top
  table = Table(title=title)
  for header in ("player", "games", "score", "W/D/L",
                 f"Elo [{r.confidence:.0%} CI]", "Nash rating", "Nash weight"):
    table.add_column(header, justify="left" if header == "player" else "right")
  for i in np.argsort(-r.elo, kind="stable"):
    score = "-" if np.isnan(r.score[i]) else f"{100 * r.score[i]:.1f}%"
    table.add_row(
        r.names[i], str(r.games[i]), score,
        f"{r.wins[i]}/{r.draws[i]}/{r.losses[i]}",
        f"{r.elo[i]:+.0f} [{r.elo_low[i]:+.0f}, {r.elo_high[i]:+.0f}]",
        f"{r.nash_rating[i]:+.3f}", f"{r.nash_weight[i]:.3f}")
  return table


def head_to_head_table(r: Ratings, title: str | None = None):
  """A `rich.table.Table` of every pair's W-D-L, for the row's player.

  Rows and columns are in the order of `ratings_table` (best Elo first); a
  pair that has played no game shows "-".
  """
  from rich.table import Table  # pylint: disable=g-import-not-at-top
  order = np.argsort(-r.elo, kind="stable")
  table = Table(title=title)
  table.add_column("player", justify="left")
  for j in order:
    table.add_column(r.names[j], justify="right")
  for i in order:
    cells = []
    for j in order:
      won, drawn, lost = (r.pair_wins[i, j], r.pair_draws[i, j],
                          r.pair_wins[j, i])
      cells.append("" if i == j else "-" if won + drawn + lost == 0 else
                   f"{won}-{drawn}-{lost}")
    table.add_row(r.names[i], *cells)
  return table


def _wrap_title(title: str, width: int = 60) -> str:
  """`title` in lines of at most `width` characters, broken after commas
  where it has no spaces (a game string such as
  "stratego(variant=small,deployment=phase,max_plies=200)"), so a long title
  shows whole instead of cropped at both ends."""
  return "\n".join(textwrap.wrap(title.replace(",", ", "), width,
                                 break_long_words=True)) or title


def write_plot(r: Ratings, path: str | os.PathLike[str], title: str) -> None:
  """Writes a PNG of the Elo ratings with their intervals, atomically."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  order = np.argsort(r.elo, kind="stable")
  y = np.arange(len(order))
  fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * len(order)))
  try:
    ax.errorbar(r.elo[order], y,
                xerr=[r.elo[order] - r.elo_low[order],
                      r.elo_high[order] - r.elo[order]],
                fmt="o", capsize=4)
    ax.set_yticks(y, [r.names[i] for i in order])
    ax.axvline(0.0, color="grey", linewidth=0.5)
    ax.set_xlabel(f"Elo (mean 0), {r.confidence:.0%} bootstrap interval")
    ax.set_title(_wrap_title(title), fontsize=10)
    fig.tight_layout()
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=120))
  finally:
    plt.close(fig)
