"""Evaluation of trained agents: players, tournaments, ratings,
exploitability; Stratego-only evaluation and human play in `eval.stratego`.

Public API:
- `make_player(spec, game, player_id, seed)`: a bot, run directory or
  bundled agent as an OpenSpiel bot (`eval.players`).
- `load_spec`, `run_tournament`, `stored_games`, `tournament_ratings`:
  resumable round robins stored in SQLite (`eval.tournament_spec`,
  `eval.tournament`).
- `compute_ratings`, `ratings_table`, `head_to_head_table`, `write_plot`:
  Elo with bootstrap intervals and Nash averaging (`eval.ratings`).
- `nash_conv`, `nash_conv_of_run`: exploitability (`eval.exploitability`).
"""

from eval.exploitability import nash_conv, nash_conv_of_run
from eval.players import PlayerSpecError, make_player
from eval.ratings import compute_ratings, head_to_head_table, ratings_table, write_plot
from eval.tournament import ratings as tournament_ratings
from eval.tournament import run as run_tournament
from eval.tournament import stored_games
from eval.tournament_spec import load_spec

__all__ = [
    "PlayerSpecError", "compute_ratings", "head_to_head_table", "load_spec",
    "make_player", "nash_conv", "nash_conv_of_run", "ratings_table",
    "run_tournament", "stored_games", "tournament_ratings", "write_plot",
]
