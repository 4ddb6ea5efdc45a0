"""Go in JAX: Tromp-Taylor rules with positional superko; `games.make("go")`.

Modules: `coords` (action ids, GTP and sgfmill coordinates), `rules` (the
pure rules over a flat board: groups, liberties, legal points, capture,
area scoring), `env` (the `Game`), `symmetry` (the eight symmetries of the
board) and `replay` (whole recorded games replayed in one jitted program).
See `games.go.rules` for the rules as implemented.
"""

from games.go.env import Go, GoParams, GoState, make_go, replay_state

__all__ = ["Go", "GoParams", "GoState", "make_go", "replay_state"]

from games import registry as _registry  # noqa: E402

# GNU Go and other engines play as GTP players (`eval.go`), not as bots:
# a bot here is a JAX policy. A policy may play to another move limit.
_registry.register("go", make_go, spiel_name="go", params=GoParams,
                   free_params=("max_moves",), human_view="games.go.human_view")

import pathlib as _pathlib  # noqa: E402

# Expert games (GNU Go self-play, xz-compressed SGF shards) that ship with
# the suite: what a bundled retrieval agent indexes when it first plays.
EXPERT_GAMES_DIR = _pathlib.Path(__file__).resolve().parent / "expert_games"
