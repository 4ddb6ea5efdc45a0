"""`Stratego`: the `games.api.Game` for every Stratego variant."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games import api
from games.stratego import bitboard
from games.stratego import config
from games.stratego import observe as observe_lib
from games.stratego import render
from games.stratego import rules as rules_lib
from games.stratego import ruleset
from games.stratego import state as state_lib
from games.stratego import tables as tables_lib

DEPLOYMENTS = ruleset.DEPLOYMENTS

#: Parameters that were removed, with why and what to do instead.
RETIRED_PARAMS = {
    "flag_danger": "the shaping for the threat to each Flag showed no gain "
                   "(benchmarks/stratego_small_results.md); train without it "
                   "(drop it from game.params: it shaped rewards only, so a "
                   "run trained with it plays the same game without it)",
}


@dataclasses.dataclass(frozen=True)
class Stratego(api.Game):
  """Stratego with the ISF rules (see the package docstring).

  Attributes:
    variant: "classic", "barrage" or "small".
    max_plies: moves after deployment before a draw; None: the variant's.
    two_square_rule: enforce the two-square rule.
    more_squares_rule: enforce the more-squares rule.
    setup: fixed deployment ("first/second" strings, see `config`); implies
      `deployment="fixed"`.
    deployment: "random" (uniform setups sampled by `init`), "fixed" (`setup`,
      or the variant's default setup) or "phase" (the players place their
      pieces as actions).

  The rules and `observe` take `rules` (a `ruleset.Rules`, built once).
  """

  variant_name: str = "classic"
  max_plies: int | None = None
  two_square_rule: bool = True
  more_squares_rule: bool = True
  setup: str | None = None
  deployment: str | None = None
  name: ClassVar[str] = "stratego"

  def __post_init__(self):
    v = config.get_variant(self.variant_name)
    if self.max_plies is None:
      object.__setattr__(self, "max_plies", v.default_max_plies)
    if self.deployment is None:
      object.__setattr__(self, "deployment",
                         "fixed" if self.setup else "random")
    _ = self.rules  # Built once, now: it checks the rest (ValueError).

  @functools.cached_property
  def rules(self) -> ruleset.Rules:
    """The configuration the rules and `observe` take (hashable, static)."""
    return ruleset.Rules(
        variant_name=self.variant_name, max_plies=self.max_plies,
        two_square_rule=self.two_square_rule,
        more_squares_rule=self.more_squares_rule, setup=self.setup,
        deployment=self.deployment)

  @property
  def variant(self) -> config.Variant:
    return self.rules.variant

  @property
  def tables(self) -> tables_lib.Tables:
    return self.rules.tables

  @property
  def deploy_total(self) -> int:
    """Deployment steps (both players), 0 unless deployment is "phase"."""
    return self.rules.deploy_total

  @property
  def num_planes(self) -> int:
    """4 * L (direction, distance) planes of S squares."""
    return self.rules.num_planes

  @property
  def num_actions(self) -> int:
    return self.rules.num_actions

  @property
  def observation_shape(self) -> tuple[int, ...]:
    return observe_lib.observation_shape(self.variant)

  @property
  def max_episode_length(self) -> int:
    return self.deploy_total + self.max_plies

  def init(self, key: chex.PRNGKey) -> state_lib.State:
    return rules_lib.init(self.rules, key)

  def init_from_board(self, rank: jax.Array,
                      owner: jax.Array) -> state_lib.State:
    """The state before the first move on board `rank`/`owner` ([S] int8)."""
    return rules_lib.init_from_board(self.rules, rank, owner)

  def step(self, state: state_lib.State,
           action: jax.Array) -> state_lib.State:
    """Applies `action`. An illegal action loses the game for its player."""
    return rules_lib.step(self.rules, state, action)

  def legal_action_mask(self, state: state_lib.State) -> jax.Array:
    # All True once terminated (set by the rules).
    return bitboard.unpack(self.variant, state.legal)

  def observe(self, state: state_lib.State,
              player: jax.Array | int) -> jax.Array:
    return observe_lib.observe(self.rules, state,
                               jnp.asarray(player, jnp.int32))

  def potential(self, state: state_lib.State) -> jax.Array:
    """[2] float32: each player's lead, in shares of one army's value.

    Material counts `config.PIECE_VALUES` over the pieces on the board: +-1
    would be one whole army up. The lead is 0 until deployment ends, and
    zero-sum. For reward shaping (`games.api.Game.potential`).
    """
    v = self.variant
    rank = state.rank.astype(jnp.int32)
    values = jnp.asarray(config.PIECE_VALUES, jnp.float32)[rank]
    material = jnp.stack([jnp.sum(jnp.where(state.owner == p, values, 0.0))
                          for p in (0, 1)])
    army = float(np.dot(v.army, config.PIECE_VALUES))
    lead = (material[0] - material[1]) / army
    lead = jnp.where(state.deploy_step >= self.deploy_total, lead, 0.0)
    return jnp.stack([lead, -lead])

  @property
  def spiel_game_string(self) -> str:
    """`pyspiel.load_game` string of this game's OpenSpiel twin (`spiel`).

    Same parameters and action ids; with `deployment="random"` the twin
    deploys with chance nodes, which draw setups from the same distribution
    as `init`.
    """
    from games.stratego import spiel  # pylint: disable=g-import-not-at-top
    return spiel.game_string(self)

  def spiel_observation(self, spiel_state: Any, player: int) -> np.ndarray:
    """`observe` ([H, W, C] float32) of a state of `spiel_game_string`."""
    from games.stratego import spiel  # pylint: disable=g-import-not-at-top
    return spiel.observation(self, spiel_state, player)

  def render(self, state: state_lib.State, player: int | None = None) -> str:
    """A text board; `player` None shows everything, else that player's view."""
    return render.render(self.variant, state, player)

  def action_to_string(self, state: state_lib.State, action: int) -> str:
    """`e4-e5` for a move; `F@b2` for placing a piece during deployment."""
    t = self.tables
    step = int(state.deploy_step)
    if step < self.deploy_total:
      code = t.deploy_order[step % self.variant.num_pieces]
      square = config.square_name(self.variant, action)
      return f"{config.PIECE_CHARS[code]}@{square}"
    return (f"{config.square_name(self.variant, t.action_from[action])}-"
            f"{config.square_name(self.variant, t.action_to[action])}")


@dataclasses.dataclass(frozen=True)
class StrategoParams:
  """Stratego's parameters as an experiment config holds them
  (`--set game.params.variant=barrage`): the keyword arguments of
  `make_stratego`, checked when the config is built."""

  variant: str = "classic"
  max_plies: int | None = None  # None: the variant's
  two_square_rule: bool = True
  more_squares_rule: bool = True
  setup: str | None = None
  deployment: str | None = None  # None: "fixed" with a setup, else "random"

  def __post_init__(self):
    try:
      make_stratego(**dataclasses.asdict(self))
    except (TypeError, ValueError) as e:
      raise ValueError(f"game.params: {e}") from None


def make_stratego(variant: str = "classic", max_plies: int | None = None,
                  two_square_rule: bool = True, more_squares_rule: bool = True,
                  setup: str | None = None,
                  deployment: str | None = None,
                  **retired: Any) -> Stratego:
  """Registry factory: `games.make("stratego", variant="barrage")`.

  Raises:
    ValueError: for bad parameters, and for a retired one (`RETIRED_PARAMS`,
      e.g. in the saved config of an old run), saying what to do instead.
    TypeError: for an unknown parameter.
  """
  for key, value in retired.items():
    if key in RETIRED_PARAMS:
      raise ValueError(f"Stratego's {key} was retired ({key}={value!r} "
                       f"given): {RETIRED_PARAMS[key]}")
  if retired:
    raise TypeError(f"make_stratego() got an unexpected keyword argument "
                    f"{next(iter(retired))!r}")
  return Stratego(variant_name=variant, max_plies=max_plies,
                  two_square_rule=two_square_rule,
                  more_squares_rule=more_squares_rule, setup=setup,
                  deployment=deployment)


@functools.lru_cache(maxsize=None)
def jitted(game: Stratego):
  """(init, init_from_board, step) jitted for one game (tests, interactive)."""
  return (jax.jit(game.init), jax.jit(game.init_from_board),
          jax.jit(game.step))
