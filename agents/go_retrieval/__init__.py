"""Retrieval-augmented Go (Humphreys et al. 2022, arXiv:2206.05314).

Registered with the agent registry as the experiment type
`GoRetrievalExperiment`, trained by the offline driver (`selfplay.offline`)
on expert positions (`arena go positions`).
"""

from agents.core import registry as _registry
from agents.go_retrieval.config import (DataConfig, GoRetrievalConfig,
                                        GoRetrievalExperiment, NetworkConfig,
                                        RetrievalConfig)
from agents.go_retrieval.learner import GoAgent, make_agent, observations

__all__ = ["DataConfig", "GoAgent", "GoRetrievalConfig",
           "GoRetrievalExperiment", "NetworkConfig", "RetrievalConfig",
           "build", "make_agent", "observations"]


def build(config: GoRetrievalExperiment):
  """The game and the agent an experiment config describes."""
  import games  # pylint: disable=g-import-not-at-top
  return games.make("go", **config.game.kwargs), make_agent(config)


_RETIRED_KEYS = {
    "agent.retrieval.key_run": (
        "", "the index names its key network (its retrieval.json); set "
        "agent.retrieval.index"),
}

_registry.register(_registry.AgentType(
    name="go_retrieval", experiment=GoRetrievalExperiment, driver="offline",
    build=build, retired_keys=_RETIRED_KEYS))
