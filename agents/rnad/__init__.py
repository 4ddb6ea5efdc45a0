"""R-NaD (Perolat et al. 2022, arXiv:2206.15378): the learning rule of DeepNash.

Registered with the agent registry as the experiment type `RNaDExperiment`,
trained by the Anakin driver on the games of `games`.
"""

from agents.core import experiment as _experiment
from agents.core import registry as _registry
from agents.rnad.config import (AdamConfig, FinetuneConfig, NetworkConfig,
                                PolicyLossConfig, RNaDConfig, RNaDExperiment)
from agents.rnad.learner import EntropySchedule, RNaD, RNaDExtras, make_rnad
from agents.rnad.policy import load_policy, openspiel_policy_for

__all__ = [
    "AdamConfig", "EntropySchedule", "FinetuneConfig", "NetworkConfig",
    "PolicyLossConfig", "RNaD", "RNaDConfig", "RNaDExperiment", "RNaDExtras",
    "build", "load_policy", "make_rnad", "openspiel_policy_for",
]


def build(config: RNaDExperiment):
  """The game and the R-NaD agent an experiment config describes.

  Raises:
    ValueError: for an unknown game or bad game parameters.
  """
  import games  # pylint: disable=g-import-not-at-top
  game = games.make(config.game.name, **config.game.kwargs)
  return game, make_rnad(game, config.agent)


# R-NaD settings that moved or went: saved configs and `--set` overrides that
# use them are translated or refused (`agents.core.configs`).
_RENAMED_KEYS = {
    "agent.policy_loss": "agent.policy.loss",
    "agent.neurd.beta": "agent.policy.neurd_beta",
    "agent.neurd.clip": "agent.policy.clip",
}
_RETIRED_KEYS = {
    "agent.network.q_head": (
        False, "no gain over the value baseline; the plain small-Stratego "
        "agent beat the Q-head one 76-22 (benchmarks/stratego_small_results"
        ".md, 'Q head probes')"),
    "agent.q_sampled_correction": (
        True, "it only applied to the retired Q head (agent.network.q_head)"),
    "agent.network.shared_torso": (
        True, "a separate value torso gave no clear gain in the small "
        "Stratego probes (benchmarks/stratego_small_results.md)"),
    "agent.finetune.from_learner_steps": (
        -1, "no config used the fine-tuning phase during learning; the "
        "test-time post-processing (agent.finetune.at_test_time) stays"),
}

_registry.register(_registry.AgentType(
    name="rnad", experiment=RNaDExperiment, driver="anakin", build=build,
    renamed_keys={**_experiment.LEAGUE_AND_EVAL_RENAMES, **_RENAMED_KEYS},
    retired_keys=_RETIRED_KEYS))
