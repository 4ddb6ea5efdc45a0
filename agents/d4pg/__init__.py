"""D4PG (Barth-Maron et al. 2018, arXiv:1804.08617) for continuous control."""

from agents.d4pg.actor import select_action
from agents.d4pg.config import D4PGConfig, NetworkConfig
from agents.d4pg.learner import D4PG, D4PGExtras, Transition, make_d4pg
from agents.d4pg.networks import Networks, make_networks
from agents.d4pg.policy import load_policy

__all__ = [
    "D4PG", "D4PGConfig", "D4PGExtras", "NetworkConfig", "Networks",
    "Transition", "load_policy", "make_d4pg", "make_networks",
    "select_action",
]
