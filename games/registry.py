"""The game registry: `make(name, **kwargs)` builds any game by name.

Each game declares, when it registers (in its package's `__init__`):

- its bots: name -> `Bot`, each both a JAX policy (`Bot.policy(game)`, an
  `(obs, legal, key) -> action` function for `games.match`) and an OpenSpiel
  player (`Bot.spiel_bot(spiel_game, player_id, seed)`). Every game also has
  "random" (`games.random_bot`), a uniformly random legal move;
- `spiel_name`: the short name of the OpenSpiel game its policies play
  (`Game.spiel_game_string` loads it), by which OpenSpiel-side callers
  (tournaments, `arena play`) find the game's bots and free parameters;
- `free_params`: the game parameters a trained policy may be played under
  other values of (e.g. Stratego's move limit);
- `human_view`: the module that shows the game to a human in the terminal
  (`arena play`), or None;
- `params`: a frozen dataclass of its parameters (the factory's keyword
  arguments, checked on construction), which experiment configs hold typed
  (`make_params`), and `retired_params`: parameters it once had, with what
  to do instead.

The registry is the one piece of module-level mutable state in the suite; it is
filled once, at import time, by the game packages themselves.
"""

from __future__ import annotations

import dataclasses
import types
from typing import TYPE_CHECKING, Any, Callable, Mapping

from games import random_bot
from games.api import Game
from games.match import Policy

if TYPE_CHECKING:
  import pyspiel

#: The bot every game has.
RANDOM = "random"


@dataclasses.dataclass(frozen=True)
class Bot:
  """A bot, as a JAX policy and as an OpenSpiel player.

  Attributes:
    policy: `policy(game) -> Policy`; return the same object for equal games
      (policies are static arguments of jitted matches).
    spiel_bot: `spiel_bot(spiel_game, player_id, seed) -> pyspiel.Bot`.
  """

  policy: Callable[[Game], Policy]
  spiel_bot: Callable[[pyspiel.Game, int, int], pyspiel.Bot]


_RANDOM_BOT = Bot(policy=random_bot.policy, spiel_bot=random_bot.spiel_bot)


@dataclasses.dataclass(frozen=True)
class GameSpec:
  """What a game declares when it registers (see the module docstring)."""

  name: str
  factory: Callable[..., Game]
  spiel_name: str | None
  bots: Mapping[str, Bot]  # "random" first, then the game's own
  free_params: tuple[str, ...]
  human_view: str | None
  params: type = dataclasses.field(default=None)  # set by `register`
  retired_params: Mapping[str, str] = dataclasses.field(
      default_factory=dict)


@dataclasses.dataclass(frozen=True)
class NoParams:
  """The parameters of a game that has none."""


_SPECS: dict[str, GameSpec] = {}
# An OpenSpiel game no registered game plays: only the random bot.
_UNREGISTERED_BOTS: Mapping[str, Bot] = types.MappingProxyType(
    {RANDOM: _RANDOM_BOT})


def register(name: str, factory: Callable[..., Game], *,
             spiel_name: str | None = None,
             bots: Mapping[str, Bot] | None = None,
             free_params: tuple[str, ...] = (),
             human_view: str | None = None,
             params: type = NoParams,
             retired_params: Mapping[str, str] | None = None) -> None:
  """Adds the game `name`. Called once per game at import time.

  Args:
    name: the registry name (`Game.name` of the games `factory` builds).
    factory: builds the game from keyword parameters (`make`).
    spiel_name: short name of the OpenSpiel game its policies play.
    bots: the game's own bots, besides "random".
    free_params: parameters a trained policy may be played under other
      values of.
    human_view: module name of its human-play view (`arena play`), or None.
    params: the frozen dataclass of its parameters (`make_params`).
    retired_params: parameter -> why it went and what to do instead.

  Raises:
    ValueError: `name` or `spiel_name` is taken, or a bot is named "random".
  """
  if name in _SPECS:
    raise ValueError(f"Game {name!r} is already registered")
  bots = dict(bots or {})
  if RANDOM in bots:
    raise ValueError(f"Game {name!r}: every game has the bot {RANDOM!r}; "
                     "declare only the game's own bots")
  if spiel_name is not None:
    for other in _SPECS.values():
      if other.spiel_name == spiel_name:
        raise ValueError(f"Game {name!r}: OpenSpiel game {spiel_name!r} is "
                         f"already played by {other.name!r}")
  _SPECS[name] = GameSpec(
      name=name, factory=factory, spiel_name=spiel_name,
      bots=types.MappingProxyType({RANDOM: _RANDOM_BOT, **bots}),
      free_params=tuple(free_params), human_view=human_view, params=params,
      retired_params=types.MappingProxyType(dict(retired_params or {})))


def available_games() -> tuple[str, ...]:
  """The registered game names, sorted."""
  return tuple(sorted(_SPECS))


def spec(name: str) -> GameSpec:
  """What the game `name` declared.

  Raises:
    ValueError: for an unknown name, naming the registered games.
  """
  if name not in _SPECS:
    raise ValueError(
        f"Unknown game {name!r}; available: {', '.join(available_games())}")
  return _SPECS[name]


def make(name: str, **kwargs: Any) -> Game:
  """Builds the game `name` with its keyword parameters.

  Raises:
    ValueError: for an unknown name or bad parameters, naming what is valid.
  """
  factory = spec(name).factory
  try:
    return factory(**kwargs)
  except TypeError as e:
    raise ValueError(f"Bad parameters for game {name!r}: {e}") from e


def bots(name: str) -> tuple[str, ...]:
  """The bot names of the game `name`: "random" first, then its own.

  Raises:
    ValueError: for an unknown game.
  """
  return tuple(spec(name).bots)


def _bot(game_name: str, table: Mapping[str, Bot], bot: str) -> Bot:
  if bot not in table:
    raise ValueError(f"no bot {bot!r} for game {game_name!r}; bots: "
                     f"{', '.join(table)}")
  return table[bot]


def bot_policy(game: Game, name: str) -> Policy:
  """The JAX policy (`games.match.Policy`) of bot `name` for `game`.

  A game that is not registered has the random bot only.

  Raises:
    ValueError: for a bot `game` does not have, naming the ones it has.
  """
  s = _SPECS.get(game.name)
  table = s.bots if s is not None else _UNREGISTERED_BOTS
  return _bot(game.name, table, name).policy(game)


def _spiel_spec(spiel_name: str) -> GameSpec | None:
  for s in _SPECS.values():
    if s.spiel_name == spiel_name:
      return s
  return None


def spiel_bot(spiel_game: pyspiel.Game, name: str, player_id: int,
              seed: int) -> pyspiel.Bot:
  """The bot `name` as an OpenSpiel player for seat `player_id`.

  The game is found by `spiel_game`'s short name (`spiel_name` at
  registration); any other OpenSpiel game has the random bot only.

  Raises:
    ValueError: for a bot the game does not have, naming the ones it has.
  """
  short = spiel_game.get_type().short_name
  s = _spiel_spec(short)
  table = s.bots if s is not None else _UNREGISTERED_BOTS
  return _bot(short, table, name).spiel_bot(spiel_game, player_id, seed)


def free_params(spiel_name: str) -> tuple[str, ...]:
  """Parameters a policy may be played under other values of.

  Args:
    spiel_name: an OpenSpiel game's short name.

  Returns:
    The `free_params` of the game registered to play it; () for any other.
  """
  s = _spiel_spec(spiel_name)
  return s.free_params if s is not None else ()


def make_params(name: str, values: Any = ()) -> Any:
  """The typed parameters of game `name` from `values`: an instance of its
  params dataclass (kept), a mapping, or (key, value) pairs (as configs
  saved before parameters were typed hold them).

  Raises:
    ValueError: an unknown game, an unknown or retired parameter (naming
      the valid ones, or what to do instead), or a bad value.
  """
  cls = spec(name).params
  if isinstance(values, cls):
    return values
  if dataclasses.is_dataclass(values):
    raise ValueError(f"game.params: {type(values).__name__} parameters do "
                     f"not belong to game {name!r}; set its own "
                     f"({cls.__name__})")
  try:
    values = dict(values)
  except (TypeError, ValueError):
    raise ValueError(f"game.params must be a mapping or (key, value) pairs, "
                     f"got {values!r}") from None
  valid = [f.name for f in dataclasses.fields(cls)]
  for key, value in values.items():
    if key in spec(name).retired_params:
      raise ValueError(f"{name}'s {key} was retired ({key}={value!r} "
                       f"given): {spec(name).retired_params[key]}")
    if key not in valid:
      raise ValueError(f"unknown parameter {key!r} of game {name!r}; valid: "
                       f"{', '.join(valid) or 'none'}")
  return cls(**values)
