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
from games.stratego import rules
from games.stratego import state as state_lib
from games.stratego import tables as tables_lib

DEPLOYMENTS = ("random", "fixed", "phase")


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
    flag_danger: weight of the threat to each Flag in `potential` (reward
      shaping only; the rules ignore it), in shares of one army: 0 counts
      material alone.
  """

  variant_name: str = "classic"
  max_plies: int | None = None
  two_square_rule: bool = True
  more_squares_rule: bool = True
  setup: str | None = None
  deployment: str | None = None
  flag_danger: float = 0.0
  name: ClassVar[str] = "stratego"

  def __post_init__(self):
    v = config.get_variant(self.variant_name)
    if self.max_plies is None:
      object.__setattr__(self, "max_plies", v.default_max_plies)
    if not isinstance(self.max_plies, int) or self.max_plies <= 0:
      raise ValueError(f"max_plies must be a positive int, got "
                       f"{self.max_plies!r}")
    if self.deployment is None:
      object.__setattr__(self, "deployment",
                         "fixed" if self.setup else "random")
    if self.deployment not in DEPLOYMENTS:
      raise ValueError(f"Unknown deployment {self.deployment!r}; valid: "
                       f"{', '.join(DEPLOYMENTS)}")
    if self.setup and self.deployment != "fixed":
      raise ValueError(f"A setup needs deployment='fixed', got "
                       f"{self.deployment!r}")
    if self.setup:
      config.parse_setup(v, self.setup)  # Raises ValueError when malformed.
    if (isinstance(self.flag_danger, bool)
        or not isinstance(self.flag_danger, (int, float))
        or not 0.0 <= self.flag_danger < float("inf")):
      raise ValueError(f"flag_danger must be a number >= 0, got "
                       f"{self.flag_danger!r}")

  @property
  def variant(self) -> config.Variant:
    return config.get_variant(self.variant_name)

  @property
  def tables(self) -> tables_lib.Tables:
    return tables_lib.get_tables(self.variant)

  @property
  def deploy_total(self) -> int:
    """Deployment steps (both players), 0 unless deployment is "phase"."""
    return 2 * self.variant.num_pieces if self.deployment == "phase" else 0

  @property
  def num_planes(self) -> int:
    """4 * L (direction, distance) planes of S squares."""
    return 4 * self.variant.max_distance

  @property
  def num_actions(self) -> int:
    return tables_lib.num_actions(self.variant)

  @property
  def observation_shape(self) -> tuple[int, ...]:
    return observe_lib.observation_shape(self.variant)

  @property
  def max_episode_length(self) -> int:
    return self.deploy_total + self.max_plies

  def init(self, key: chex.PRNGKey) -> state_lib.State:
    return rules.init(self, key)

  def init_from_board(self, rank: jax.Array,
                      owner: jax.Array) -> state_lib.State:
    """The state before the first move on board `rank`/`owner` ([S] int8)."""
    return rules.init_from_board(self, rank, owner)

  def step(self, state: state_lib.State,
           action: jax.Array) -> state_lib.State:
    """Applies `action`. An illegal action loses the game for its player."""
    return rules.step(self, state, action)

  def legal_action_mask(self, state: state_lib.State) -> jax.Array:
    # All True once terminated (set by the rules).
    return bitboard.unpack(self.variant, state.legal)

  def observe(self, state: state_lib.State,
              player: jax.Array | int) -> jax.Array:
    return observe_lib.observe(self, state, jnp.asarray(player, jnp.int32))

  def potential(self, state: state_lib.State) -> jax.Array:
    """[2] float32: each player's lead, in shares of one army's value.

    Material counts `config.PIECE_VALUES` over the pieces on the board: +-1
    would be one whole army up. With `flag_danger` w > 0 the lead also
    counts w * (danger to the opponent's Flag - danger to one's own), where
    a Flag's danger is 1 with an enemy piece that can move next to it, 2/3
    at two squares (Manhattan distance), 1/3 at three, else 0: so bringing
    a piece up to the enemy Flag pays, and so does driving one away from
    (or taking one next to) one's own. The lead is 0 until deployment ends,
    and zero-sum. Without a deployment phase the danger term can be nonzero
    at the first move; its shaping then sums to a constant of the setup,
    which no move changes. For reward shaping (`games.api.Game.potential`).
    """
    v = self.variant
    rank = state.rank.astype(jnp.int32)
    values = jnp.asarray(config.PIECE_VALUES, jnp.float32)[rank]
    material = jnp.stack([jnp.sum(jnp.where(state.owner == p, values, 0.0))
                          for p in (0, 1)])
    army = float(np.dot(v.army, config.PIECE_VALUES))
    lead = (material[0] - material[1]) / army
    if self.flag_danger:
      danger = _flag_danger(v, rank, state.owner)
      lead += self.flag_danger * (danger[1] - danger[0])
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


#: Manhattan distance at which an enemy piece stops endangering a Flag.
_DANGER_RADIUS = 4


def _flag_danger(variant: config.Variant, rank: jax.Array,
                 owner: jax.Array) -> jax.Array:
  """[2] float32: the threat to each player's Flag (see `potential`).

  1 - (d - 1) / 3 for the nearest enemy piece that can move, at Manhattan
  distance d (lakes ignored), floored at 0; 0 without a Flag or movers.
  """
  squares = np.arange(variant.height * variant.width)
  rows, cols = squares // variant.width, squares % variant.width
  dist = jnp.asarray(np.abs(rows[:, None] - rows[None, :])
                     + np.abs(cols[:, None] - cols[None, :]), jnp.float32)
  mover = (rank >= 1) & (rank < config.BOMB)
  out = []
  for p in (0, 1):
    flag = (rank == config.FLAG) & (owner == p)
    enemy = mover & (owner == 1 - p)
    # [flag square, enemy square] distances of the pairs present.
    d = jnp.where(flag[:, None] & enemy[None, :], dist, float(_DANGER_RADIUS))
    out.append(jnp.maximum(0.0, 1.0 - (jnp.min(d) - 1.0) /
                           (_DANGER_RADIUS - 1)))
  return jnp.stack(out)


def make_stratego(variant: str = "classic", max_plies: int | None = None,
                  two_square_rule: bool = True, more_squares_rule: bool = True,
                  setup: str | None = None,
                  deployment: str | None = None,
                  flag_danger: float = 0.0) -> Stratego:
  """Registry factory: `games.make("stratego", variant="barrage")`."""
  return Stratego(variant_name=variant, max_plies=max_plies,
                  two_square_rule=two_square_rule,
                  more_squares_rule=more_squares_rule, setup=setup,
                  deployment=deployment, flag_danger=flag_danger)


@functools.lru_cache(maxsize=None)
def jitted(game: Stratego):
  """(init, init_from_board, step) jitted for one game (tests, interactive)."""
  return (jax.jit(game.init), jax.jit(game.init_from_board),
          jax.jit(game.step))
