"""Stratego as an OpenSpiel Python game: `pyspiel.load_game("stratego", {...})`.

Importing this module registers the game. Parameters:

- `variant` ("classic"): "classic", "barrage" or "small".
- `max_plies` (0): moves after deployment before a draw; 0 is the variant's
  default.
- `two_square_rule`, `more_squares_rule` (True).
- `setup` (""): a fixed deployment "first/second" (see `config.parse_setup`).
- `deployment` (""): how the pieces reach the board.
  - "phase": the players deploy as part of the game, one action a piece
    (action = square id, pieces in the order Flag, Bombs, Marshal .. Scout,
    Spy), the first player's army first.
  - "random": chance nodes deploy, in the same order: each picks the next
    piece's square uniformly among its owner's empty home squares (outcome =
    square id), so each setup is a uniform random arrangement of the army
    on the home squares, as the JAX game's `deployment="random"` draws them.
  - "fixed": `setup`, or the variant's default setup when `setup` is empty.
  - "" (the default): "fixed" when a `setup` is given, else "phase".

OpenSpiel keeps one `GameType` per registered name, so "stratego" is
registered as `EXPLICIT_STOCHASTIC` (it may have chance nodes); each loaded
game reports its own chance mode (`game.get_type().chance_mode`):
`EXPLICIT_STOCHASTIC` with random deployment, `DETERMINISTIC` otherwise.

The rules run on `reference.Rules`, a plain-Python twin of the JAX rules
that the tests compare with them. Action ids are those of the JAX game.
Observation tensors are the JAX `observe` planes, flattened.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import pyspiel

from games.stratego import config
from games.stratego import env
from games.stratego import reference
from games.stratego import render
from games.stratego import state as state_lib

_DEFAULTS = {
    "variant": "classic",
    "max_plies": 0,
    "two_square_rule": True,
    "more_squares_rule": True,
    "setup": "",
    "deployment": "",
}


def _game_type(chance_mode: pyspiel.GameType.ChanceMode) -> pyspiel.GameType:
  return pyspiel.GameType(
      short_name="stratego",
      long_name="Stratego (ISF rules, arena)",
      dynamics=pyspiel.GameType.Dynamics.SEQUENTIAL,
      chance_mode=chance_mode,
      information=pyspiel.GameType.Information.IMPERFECT_INFORMATION,
      utility=pyspiel.GameType.Utility.ZERO_SUM,
      reward_model=pyspiel.GameType.RewardModel.TERMINAL,
      max_num_players=2,
      min_num_players=2,
      provides_information_state_string=False,
      provides_information_state_tensor=False,
      provides_observation_string=True,
      provides_observation_tensor=True,
      parameter_specification=_DEFAULTS)


_GAME_TYPE = _game_type(pyspiel.GameType.ChanceMode.EXPLICIT_STOCHASTIC)


def jax_game(params: dict) -> env.Stratego:
  """The JAX game equivalent to OpenSpiel parameters `params`.

  Raises:
    ValueError: for bad parameters (naming the problem).
  """
  p = {**_DEFAULTS, **params}
  return env.Stratego(
      variant_name=p["variant"], max_plies=p["max_plies"] or None,
      two_square_rule=bool(p["two_square_rule"]),
      more_squares_rule=bool(p["more_squares_rule"]),
      setup=p["setup"] or None,
      deployment=p["deployment"] or ("fixed" if p["setup"] else "phase"))


def game_string(game: env.Stratego) -> str:
  """The `pyspiel.load_game` string of the OpenSpiel twin of `game`."""
  params = {"variant": game.variant_name, "max_plies": game.max_plies,
            "two_square_rule": game.two_square_rule,
            "more_squares_rule": game.more_squares_rule,
            "deployment": game.deployment}
  if game.setup:
    params["setup"] = game.setup
  return "stratego({})".format(",".join(
      f"{k}={str(v).lower() if isinstance(v, bool) else v}"
      for k, v in sorted(params.items())))


def observation(game: env.Stratego, state: StrategoState,
                player: int) -> np.ndarray:
  """`game.observe` ([H, W, C] float32) of an OpenSpiel state of `game`."""
  return np.asarray(_observe_fn(game)(to_jax_state(game, state.position),
                                      player))


@functools.lru_cache(maxsize=None)
def _rules(game: env.Stratego) -> reference.Rules:
  return reference.Rules(game.variant, game.max_plies, game.two_square_rule,
                         game.more_squares_rule,
                         game.deployment in ("phase", "random"))


@functools.lru_cache(maxsize=None)
def _observe_fn(game: env.Stratego):
  return jax.jit(game.observe)


class StrategoGame(pyspiel.Game):
  """The OpenSpiel game; see the module docstring for its parameters."""

  def __init__(self, params: dict | None = None):
    params = {**_DEFAULTS, **(params or {})}
    self.jax_game = g = jax_game(params)  # ValueError on bad parameters.
    chance = g.deployment == "random"
    info = pyspiel.GameInfo(
        num_distinct_actions=g.num_actions,
        max_chance_outcomes=g.variant.num_squares if chance else 0,
        num_players=2,
        min_utility=-1.0,
        max_utility=1.0,
        utility_sum=0.0,
        # Decision nodes only: chance deployment steps do not count.
        max_game_length=g.max_episode_length)
    mode = pyspiel.GameType.ChanceMode
    super().__init__(
        _game_type(mode.EXPLICIT_STOCHASTIC if chance else mode.DETERMINISTIC),
        info, params)

  def new_initial_state(self) -> StrategoState:
    return StrategoState(self)

  def make_py_observer(self, iig_obs_type=None, params=None):
    if iig_obs_type is not None and iig_obs_type.perfect_recall:
      raise ValueError("stratego provides no perfect-recall observations")
    return StrategoObserver(self.jax_game, params)


class StrategoState(pyspiel.State):
  """An OpenSpiel state backed by a `reference.Position`."""

  def __init__(self, game: StrategoGame):
    super().__init__(game)
    self._game = game.jax_game
    g = self._game
    if g.deployment == "fixed":
      rank, owner = config.parse_setup(
          g.variant, g.setup or config.default_setup(g.variant))
    else:
      s = g.variant.num_squares
      rank, owner = np.zeros(s, np.int8), np.full(s, -1, np.int8)
    self.position = _rules(g).initial(rank, owner)

  def _chance_deploys(self) -> bool:
    return (self._game.deployment == "random"
            and _rules(self._game).deploying(self.position))

  def current_player(self) -> int:
    if self.position.terminated:
      return pyspiel.PlayerId.TERMINAL
    if self._chance_deploys():
      return pyspiel.PlayerId.CHANCE
    return self.position.current_player

  def _legal_actions(self, player: int) -> list[int]:
    del player
    return _rules(self._game).legal_actions(self.position)

  def chance_outcomes(self) -> list[tuple[int, float]]:
    """The next piece goes to one of its owner's empty home squares, uniformly.
    """
    squares = _rules(self._game).legal_actions(self.position)
    return [(sq, 1.0 / len(squares)) for sq in squares]

  def _apply_action(self, action: int) -> None:
    _rules(self._game).apply(self.position, action)

  def _action_to_string(self, player: int, action: int) -> str:
    del player
    return action_string(self._game, self.position, action)

  def is_terminal(self) -> bool:
    return self.position.terminated

  def returns(self) -> list[float]:
    return list(self.position.returns)

  def __str__(self) -> str:
    return board_string(self._game, self.position, None)


class StrategoObserver:
  """OpenSpiel observer: the JAX observation planes and a text board."""

  def __init__(self, game: env.Stratego, params):
    if params:
      raise ValueError(f"Observation parameters not supported; got {params}")
    self._game = game
    shape = game.observation_shape
    self.tensor = np.zeros(int(np.prod(shape)), np.float32)
    self.dict = {"observation": self.tensor.reshape(shape)}

  def set_from(self, state: StrategoState, player: int) -> None:
    self.tensor[:] = observation(self._game, state, player).reshape(-1)

  def string_from(self, state: StrategoState, player: int) -> str:
    return board_string(self._game, state.position, player)


def action_string(game: env.Stratego, pos: reference.Position,
                  action: int) -> str:
  """`e4-e5` for a move, `F@b2` for placing a piece during deployment."""
  v, t = game.variant, game.tables
  if _rules(game).deploying(pos):
    code = t.deploy_order[pos.deploy_step % v.num_pieces]
    return f"{config.PIECE_CHARS[code]}@{config.square_name(v, action)}"
  return (f"{config.square_name(v, t.action_from[action])}-"
          f"{config.square_name(v, t.action_to[action])}")


def board_string(game: env.Stratego, pos: reference.Position,
                 player: int | None) -> str:
  """The board as `player` sees it (None: everything), with a status line."""
  if pos.terminated:
    status = f"terminal, returns {pos.returns[0]:+.0f} {pos.returns[1]:+.0f}"
  else:
    phase = "deploy" if _rules(game).deploying(pos) else "play"
    status = f"{phase}, ply {pos.ply}, to move: {'rb'[pos.current_player]}"
  rows = render.board_rows(game.variant, np.asarray(pos.rank),
                           np.asarray(pos.owner), np.asarray(pos.revealed),
                           player)
  return "\n".join(rows + [status])


def to_jax_state(game: env.Stratego,
                 pos: reference.Position) -> state_lib.State:
  """The JAX state of a position (enough of it for `observe`: the legal
  moves, packed boards and chase positions are left empty)."""
  h = state_lib.HISTORY
  moves = ([(-1, -1)] * h + list(pos.history))[-h:]
  return state_lib.State(
      rank=np.asarray(pos.rank, np.int8), owner=np.asarray(pos.owner, np.int8),
      revealed=np.asarray(pos.revealed), moved=np.asarray(pos.moved),
      current_player=np.int32(pos.current_player), ply=np.int32(pos.ply),
      deploy_step=np.int32(pos.deploy_step),
      recent_from=np.asarray([m[0] for m in moves], np.int32),
      recent_to=np.asarray([m[1] for m in moves], np.int32),
      chase_square=np.int32(pos.chase_square), chaser=np.int32(pos.chaser),
      chase_hashes=np.zeros((state_lib.CHASE_HISTORY, 2), np.uint32),
      chase_len=np.int32(0), position_hash=np.zeros(2, np.uint32),
      legal=np.zeros((game.num_planes, game.variant.height), np.uint16),
      occupied=np.zeros((2, game.variant.height), np.uint16),
      movable=np.zeros((2, game.variant.height), np.uint16),
      scouts=np.zeros((2, game.variant.height), np.uint16),
      terminated=np.bool_(pos.terminated),
      returns=np.asarray(pos.returns, np.float32))


pyspiel.register_game(_GAME_TYPE, StrategoGame)
