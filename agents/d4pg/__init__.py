"""D4PG (Barth-Maron et al. 2018, arXiv:1804.08617) for continuous control.

Registered with the agent registry as the experiment type `D4PGExperiment`,
trained by the Sebulba driver on DeepMind Control Suite tasks.
"""

from agents.core import registry as _registry
from agents.d4pg.actor import select_action
from agents.d4pg.config import D4PGConfig, D4PGExperiment, NetworkConfig
from agents.d4pg.learner import D4PG, D4PGExtras, Transition, make_d4pg
from agents.d4pg.networks import Networks, make_networks
from agents.d4pg.policy import load_policy

__all__ = [
    "D4PG", "D4PGConfig", "D4PGExperiment", "D4PGExtras", "NetworkConfig",
    "Networks", "Transition", "build", "load_policy", "make_d4pg",
    "make_networks", "select_action",
]


def build(config: D4PGExperiment):
  """`(None, agent)`: the D4PG agent for the config's Control Suite task (the
  task is a host environment, not a `games.Game`).

  Raises:
    ValueError: for an unknown task.
  """
  from games import control  # pylint: disable=g-import-not-at-top
  obs_size, spec = control.specs(config.game.name)
  return None, make_d4pg(obs_size, spec.minimum, spec.maximum, config.agent)


# D4PG runs saved before the league and evaluation settings left `run`
# stored these at their defaults, which D4PG never read.
_NEVER_READ = {"run.eval_games": 0, "run.eval_opponents": ("random",),
               "run.eval_modes": ("sample",), "run.past_opponents": 0,
               "run.past_opponent_every": 500,
               "run.past_opponent_fraction": 0.25, "run.bot_opponents": (),
               "run.bot_opponent_fraction": 0.25, "run.reward_shaping": 0.0}

_registry.register(_registry.AgentType(
    name="d4pg", experiment=D4PGExperiment, driver="sebulba", build=build,
    renamed_keys={"run.eval_every": "evaluation.every",
                  "runtime.eval_episodes": "evaluation.episodes"},
    retired_keys={k: (v, "D4PG plays no league and no bots")
                  for k, v in _NEVER_READ.items()}))
