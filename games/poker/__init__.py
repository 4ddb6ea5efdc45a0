"""Kuhn and Leduc poker as pure JAX games.

Importing this package registers them as "kuhn_poker" and "leduc_poker".
"""

from games import registry
from games.poker.kuhn import KuhnPoker, KuhnState
from games.poker.leduc import LeducPoker, LeducState

__all__ = ["KuhnPoker", "KuhnState", "LeducPoker", "LeducState"]

registry.register(KuhnPoker.name, KuhnPoker)
registry.register(LeducPoker.name, LeducPoker)
