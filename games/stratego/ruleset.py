"""`Rules`: one Stratego configuration, the input of `rules` and `observe`.

A frozen, hashable value with every default resolved (the variant's move
limit, the deployment a setup implies): `env.Stratego` builds one and passes
it to the pure functions of `rules.py` and `observe.py`, which so depend on
nothing above them. Being hashable, it is a static argument under `jax.jit`:
equal configurations compile once.
"""

from __future__ import annotations

import dataclasses

from games.stratego import config
from games.stratego import tables as tables_lib

#: How the armies reach the board (see the package docstring).
DEPLOYMENTS = ("random", "fixed", "phase")


@dataclasses.dataclass(frozen=True)
class Rules:
  """The rules of one Stratego game, defaults resolved.

  Attributes:
    variant_name: "classic", "barrage" or "small".
    max_plies: moves after deployment before a draw (> 0).
    two_square_rule: enforce the two-square rule.
    more_squares_rule: enforce the more-squares rule.
    setup: the fixed deployment ("first/second", see `config`), or None for
      the variant's default setup (with `deployment="fixed"`).
    deployment: "random", "fixed" or "phase".
  """

  variant_name: str
  max_plies: int
  two_square_rule: bool
  more_squares_rule: bool
  setup: str | None
  deployment: str

  def __post_init__(self):
    v = config.get_variant(self.variant_name)  # ValueError when unknown.
    if not isinstance(self.max_plies, int) or self.max_plies <= 0:
      raise ValueError(f"max_plies must be a positive int, got "
                       f"{self.max_plies!r}")
    if self.deployment not in DEPLOYMENTS:
      raise ValueError(f"Unknown deployment {self.deployment!r}; valid: "
                       f"{', '.join(DEPLOYMENTS)}")
    if self.setup and self.deployment != "fixed":
      raise ValueError(f"A setup needs deployment='fixed', got "
                       f"{self.deployment!r}")
    if self.setup:
      config.parse_setup(v, self.setup)  # Raises ValueError when malformed.

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
