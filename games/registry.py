"""The game registry: `make(name, **kwargs)` builds any game by name.

The registry is the one piece of module-level mutable state in the suite; it is
filled once, at import time, by the game packages themselves.
"""

from __future__ import annotations

from typing import Any, Callable

from games.api import Game

_FACTORIES: dict[str, Callable[..., Game]] = {}


def register(name: str, factory: Callable[..., Game]) -> None:
  """Adds `factory` under `name`. Called once per game at import time."""
  if name in _FACTORIES:
    raise ValueError(f"Game {name!r} is already registered")
  _FACTORIES[name] = factory


def available_games() -> tuple[str, ...]:
  """The registered game names, sorted."""
  return tuple(sorted(_FACTORIES))


def make(name: str, **kwargs: Any) -> Game:
  """Builds the game `name` with its keyword parameters.

  Raises:
    ValueError: for an unknown name or bad parameters, naming what is valid.
  """
  if name not in _FACTORIES:
    raise ValueError(
        f"Unknown game {name!r}; available: {', '.join(available_games())}")
  try:
    return _FACTORIES[name](**kwargs)
  except TypeError as e:
    raise ValueError(f"Bad parameters for game {name!r}: {e}") from e
