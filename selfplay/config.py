"""Experiment configs, as config files import them.

The config types live with what they configure: the settings every
experiment shares in `agents.core.experiment`, each agent's experiment type
in its package (`agents.rnad.RNaDExperiment`, `agents.d4pg.D4PGExperiment`),
and loading, `--set` overrides and JSON in `agents.core.configs`. This module
gathers them under the names config files have always imported
(`from selfplay.config import GameConfig, RNaDExperiment, RunConfig`).
"""

from agents.core.configs import apply_overrides, from_json, load, to_json
from agents.core.experiment import (ControlEvalConfig, EvalConfig,
                                    GameConfig, LeagueConfig, ReplayConfig,
                                    RunConfig, RuntimeConfig, WarmStartConfig)
from agents.d4pg.config import D4PGExperiment
from agents.rnad.config import RNaDExperiment

__all__ = [
    "ControlEvalConfig", "D4PGExperiment", "EvalConfig", "GameConfig",
    "LeagueConfig", "RNaDExperiment", "ReplayConfig", "RunConfig",
    "RuntimeConfig", "WarmStartConfig", "apply_overrides",
    "from_json", "load", "to_json",
]
