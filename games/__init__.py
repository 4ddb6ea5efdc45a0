"""Games as pure JAX functions, with a registry: `games.make(name, **kwargs)`."""

from games.api import Game
from games.registry import available_games, make, register

import games.poker  # registers kuhn_poker, leduc_poker  # noqa: E402,F401
import games.stratego  # registers stratego (also with pyspiel)  # noqa: E402,F401

__all__ = ["Game", "available_games", "make", "register"]
