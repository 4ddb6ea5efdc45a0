"""Go evaluation tools that talk to engines over GTP.

- `GTPEngine`, `GTPError`, `GTPEngineError`, `GTPTimeoutError`: a GTP
  version 2 client for any engine command line (`eval.go.gtp_client`).
- `gnugo_argv`, `GnuGoNotFoundError`: GNU Go's command line.
- `generate`, `GenerateSummary`: expert games from GNU Go self-play,
  written as xz-compressed SGF shards (`eval.go.expert_games`;
  `arena go games`).
- `read_games`, `GameRecord`, `parse_result`: those games (or any SGF games,
  one per line) read back as action ids (`eval.go.game_records`).

Also (imported on use): `eval.go.spiel_players`, GTP engines ("gnugo:5",
"gtp:COMMAND") and our Go network as `pyspiel.Bot`s for tournaments
(`eval.players.make_player`), and `eval.go.human`, a person against any of
them in the terminal (`arena play go`), and `eval.go.index_cache`, the
index a retrieval agent builds from its recipe when it first plays.
"""

from eval.go.expert_games import GenerateSummary, generate
from eval.go.game_records import GameRecord, parse_result, read_games
from eval.go.gtp_client import (GnuGoNotFoundError, GTPEngine, GTPEngineError,
                                GTPError, GTPTimeoutError, gnugo_argv)

__all__ = [
    "GTPEngine", "GTPEngineError", "GTPError", "GTPTimeoutError",
    "GameRecord", "GenerateSummary", "GnuGoNotFoundError", "generate",
    "gnugo_argv", "parse_result", "read_games",
]
