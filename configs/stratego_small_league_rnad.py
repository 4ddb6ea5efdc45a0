"""Small Stratego: R-NaD self-play plus games against the heuristic bot.

The small config (`stratego_small_rnad`) with two additions aimed at beating
the bots within two hours on a 2-core CPU:

* a warm start: 800 supervised steps cloning the heuristic bot
  (`selfplay.warm_start`), so self-play starts from a policy that plays;
* the heuristic bot as a fixed opponent in half of every batch's games
  (`league.bot_opponents`), as AlphaStar's league keeps fixed opponents next to
  self-play (Vinyals et al. 2019, Nature 575). The learner treats the bot's
  moves as the environment's and learns only at its own decisions, so those
  games teach it to beat the bot; the other half stays R-NaD self-play.

A run evaluated against the heuristic bot has trained against it: report
its win rate as such, next to plain self-play's. This did not help on a
2-core CPU from an 800-step clone, with `agent.neurd.beta=10` too: the run
did worse against both bots than the same warm start followed by self-play
only (measured: `benchmarks/stratego_small_results.md`, section "Bots as
training opponents").
"""

import dataclasses

from agents.core.experiment import WarmStartConfig
from agents.rnad.config import RNaDExperiment
from configs import stratego_small_rnad


def get_config() -> RNaDExperiment:
  config = stratego_small_rnad.get_config()
  return dataclasses.replace(
      config,
      league=dataclasses.replace(config.league, bot_opponents=("heuristic",),
                                 bot_opponent_fraction=0.5),
      warm_start=WarmStartConfig(steps=800))
