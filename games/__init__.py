"""Games as pure JAX functions, with a registry: `games.make(name, **kwargs)`.

Each game also declares its bots (`bot_policy`, `spiel_bot`, `bots`), the
parameters a policy may be played under other values of (`free_params`) and
its human-play view (`spec(name).human_view`); see `games.registry`.
"""

from games.api import Game, TaskEnvironment
from games.match import MatchResult, Policy, play_games, summarize
from games.registry import (Bot, GameSpec, NoParams, available_games,
                            bot_policy, bots, free_params, make, make_params,
                            register, spec, spiel_bot)

import games.go  # registers go  # noqa: E402,F401
import games.poker  # registers kuhn_poker, leduc_poker  # noqa: E402,F401
import games.stratego  # registers stratego (also with pyspiel)  # noqa: E402,F401

__all__ = ["Bot", "Game", "GameSpec", "MatchResult", "NoParams", "Policy",
           "TaskEnvironment",
           "available_games", "bot_policy", "bots", "free_params", "make",
           "make_params", "play_games", "register", "spec", "spiel_bot",
           "summarize"]
