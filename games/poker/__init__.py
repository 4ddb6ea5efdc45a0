"""Kuhn and Leduc poker as pure JAX games.

Importing this package registers them as "kuhn_poker" and "leduc_poker"
(playing the OpenSpiel games of those names; the random bot only).
"""

from games import registry
from games.poker.kuhn import KuhnPoker, KuhnState
from games.poker.leduc import LeducPoker, LeducState

__all__ = ["KuhnPoker", "KuhnState", "LeducPoker", "LeducState"]

registry.register(KuhnPoker.name, KuhnPoker,
                  spiel_name=KuhnPoker.spiel_game_string)
registry.register(LeducPoker.name, LeducPoker,
                  spiel_name=LeducPoker.spiel_game_string)
