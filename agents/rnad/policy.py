"""R-NaD policies as OpenSpiel policies, and `load_policy(run_dir)`.

The network is evaluated on observations computed from OpenSpiel states by
the game's `spiel_observation` (`agents.core.spiel_policy`), so the exported
policy plays OpenSpiel's own game and any OpenSpiel tool (exploitability,
bots, evaluators) can measure it independently of our game code.
"""

from __future__ import annotations

import os

from open_spiel.python import policy as openspiel_policy

from agents.core import runs, spiel_policy
from agents.core.checkpoint import CheckpointError
from agents.core.types import Params
from agents.rnad import actor
from agents.rnad.config import FinetuneConfig, RNaDExperiment
from agents.rnad.networks import Networks
from games.api import Game


def openspiel_policy_for(game: Game, networks: Networks, params: Params,
                         finetune: FinetuneConfig, *,
                         post_process: bool) -> openspiel_policy.Policy:
  """An OpenSpiel policy for `game.spiel_game_string` playing `params`.

  Raises:
    ValueError: if the game has no OpenSpiel counterpart.
  """
  def probs(params, obs, legal):
    return actor.policy_probs(networks, params, obs, legal, finetune,
                              post_process)
  return spiel_policy.openspiel_policy(game, params, probs)


def load_policy(run_dir: str | os.PathLike[str], step: int | None = None,
                *, post_process: bool | None = None) -> openspiel_policy.Policy:
  """The policy of a training run or a bundled agent, as an OpenSpiel policy.

  Args:
    run_dir: a directory written by `arena train`, or the name of an agent
      shipped with the suite (`agents.core.runs.bundled_agents()`, e.g.
      "deepnash-small").
    step: which checkpoint (the latest when None).
    post_process: apply the test-time post-processing (threshold and
      discretisation); defaults to the run's `finetune.at_test_time`.

  Returns:
    An `open_spiel.python.policy.Policy` over the run's game as registered
    with OpenSpiel (`policy.game`).

  Raises:
    agents.core.CheckpointError: for a missing or unreadable run directory,
      or one that is not an R-NaD run.
  """
  run = runs.read_run(run_dir, step=step)
  if not isinstance(run.config, RNaDExperiment):
    raise CheckpointError(f"{str(run_dir)!r} holds a "
                          f"{type(run.config).__name__} run, not an R-NaD one")
  finetune = run.config.agent.finetune
  if post_process is None:
    post_process = finetune.at_test_time
  return openspiel_policy_for(run.game, run.agent.networks,
                              run.agent.test_params(run.state), finetune,
                              post_process=post_process)
