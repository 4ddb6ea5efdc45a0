"""Settings every experiment shares, whatever its agent.

An experiment config (e.g. `agents.rnad.RNaDExperiment`) nests these next to
its agent's own settings: which game (`GameConfig`), how long to run and how
often to log, evaluate and checkpoint (`RunConfig`), an optional imitation
warm start (`WarmStartConfig`), and where host-side actors run
(`RuntimeConfig`, with its `ReplayConfig`). They are plain frozen
dataclasses, so `agents.core.configs` can parse `--set` overrides into them
and store them as JSON beside every checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any


@dataclasses.dataclass(frozen=True)
class GameConfig:
  """Which game, with its parameters typed by the game.

  `params` is the game's parameter dataclass (`games.make_params`, e.g.
  `games.stratego.StrategoParams`: `--set game.params.variant=barrage`); a
  mapping or (key, value) pairs given instead (as configs saved before
  parameters were typed hold them) are converted, and unknown or retired
  parameters are refused with the valid ones named. Environments outside
  the games registry (dm_control tasks) take none.
  """

  name: str = "kuhn_poker"
  params: Any = ()

  def __post_init__(self):
    object.__setattr__(self, "params", _game_params(self.name, self.params))

  @property
  def kwargs(self) -> dict[str, Any]:
    """The parameters that differ from the game's defaults, as keyword
    arguments of `games.make` (and of `pyspiel.load_game`)."""
    if not dataclasses.is_dataclass(self.params):
      return dict(self.params)
    default = type(self.params)()
    return {f.name: getattr(self.params, f.name)
            for f in dataclasses.fields(self.params)
            if getattr(self.params, f.name) != getattr(default, f.name)}


def _game_params(name: str, params: Any) -> Any:
  import games  # pylint: disable=g-import-not-at-top
  if name in games.available_games():
    return games.make_params(name, params)
  if params:
    raise ValueError(f"game {name!r} takes no game.params, got {params!r}")
  return ()


@dataclasses.dataclass(frozen=True)
class RunConfig:
  """How long to train, and how often to log and checkpoint."""

  seed: int = 0
  num_steps: int = 100_000  # learner steps in total
  steps_per_call: int = 50  # learner steps per compiled call (K)
  # Unroll the K steps (see agents.core.make_update): for convolutional
  # networks on CPU, where a loop around the rollout loop is slow; or use K=1.
  unroll_steps: bool = False
  time_limit_s: float = 0.0  # 0: no limit
  # Learner steps between records; a record holds the mean of each learner
  # metric over the steps since the one before (`logging.MetricsMean`).
  log_every: int = 1_000
  checkpoint_every: int = 10_000  # learner steps
  checkpoint_every_s: float = 300.0  # also checkpoint at least this often
  keep_checkpoints: int = 3
  num_devices: int = 0  # 0: every local device
  # A run directory or bundled agent whose latest network starts a new run
  # (fine-tuning: its parameters and the agent's extras; the optimiser, the
  # step count and the key start fresh; `agents.core.runs.init_from`). "":
  # a freshly initialised network. A resumed run continues from its own
  # checkpoint whatever this says.
  init_from: str = ""

  def __post_init__(self):
    for name in ("num_steps", "steps_per_call", "log_every",
                 "checkpoint_every", "keep_checkpoints"):
      if getattr(self, name) <= 0:
        raise ValueError(f"run.{name} must be > 0, got {getattr(self, name)}")
    for name in ("time_limit_s", "checkpoint_every_s", "num_devices"):
      if getattr(self, name) < 0:
        raise ValueError(f"run.{name} must be >= 0, got {getattr(self, name)}")
    if not isinstance(self.init_from, str):
      raise ValueError(f"run.init_from must be a run directory or a bundled "
                       f"agent's name, got {self.init_from!r}")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
  """Evaluation during training on a two-player game
  (`selfplay.evaluation`): exact NashConv where the game is small enough,
  else games against the game's bots."""

  every: int = 5_000  # learner steps between evaluations; 0: none
  # Games too large for exact NashConv: games against each bot per evaluation
  # (0: none), seats alternated.
  games: int = 0
  opponents: tuple[str, ...] = ("random",)
  # How the agent plays those games: "sample" (its policy, logged as
  # `vs_<bot>/...`) and/or "greedy" (its most likely move, `vs_<bot>_greedy/`).
  modes: tuple[str, ...] = ("sample",)

  def __post_init__(self):
    if not self.modes or set(self.modes) - {"sample", "greedy"}:
      raise ValueError("evaluation.modes must name \"sample\" and/or "
                       f"\"greedy\", got {self.modes!r}")
    for name in ("every", "games"):
      if getattr(self, name) < 0:
        raise ValueError(
            f"evaluation.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class LeagueConfig:
  """Who the training games are played against, and their reward shaping
  (the Anakin driver). The defaults are plain self-play."""

  # Opponents from the past: a pool of up to `past_opponents` snapshots of
  # the parameters (the initial ones, then one every `past_opponent_every`
  # learner steps, oldest dropped first). Each compiled call draws one from
  # the pool, and it plays one seat (chosen at random) of a
  # `past_opponent_fraction` of the games; the rest is pure self-play. The
  # rollout then evaluates both networks on the whole batch (about twice the
  # acting cost). 0 (the default): self-play only.
  past_opponents: int = 0
  past_opponent_every: int = 500
  past_opponent_fraction: float = 0.25
  # Fixed opponents: the bots named here (bots the game declares,
  # `games.bot_policy`, e.g. "heuristic") play one seat (chosen at random)
  # of a `bot_opponent_fraction` of the games, the bots taking those games
  # in turn; games against past opponents come out of the rest. The learner
  # treats a bot's moves as the environment's (it learns to beat the bot,
  # not to play like it) and learns only at its own decisions. The bots then
  # run on the whole batch at every step. () (the default): none.
  bot_opponents: tuple[str, ...] = ()
  bot_opponent_fraction: float = 0.25
  # Potential-based reward shaping (`selfplay.rollout`) with the game's
  # `potential` (e.g. Stratego's material lead) times this scale; it leaves
  # the game's objective unchanged. 0 (the default): none.
  reward_shaping: float = 0.0

  def __post_init__(self):
    for name in ("past_opponent_fraction", "bot_opponent_fraction"):
      if not 0.0 <= getattr(self, name) <= 1.0:
        raise ValueError(f"league.{name} must be in [0, 1], got "
                         f"{getattr(self, name)}")
    if (self.past_opponents and self.bot_opponents and
        self.past_opponent_fraction + self.bot_opponent_fraction > 1.0):
      raise ValueError(
          "league.past_opponent_fraction + league.bot_opponent_fraction must "
          f"be at most 1, got {self.past_opponent_fraction} + "
          f"{self.bot_opponent_fraction}")
    if self.past_opponents < 0:
      raise ValueError(
          f"league.past_opponents must be >= 0, got {self.past_opponents}")
    if self.past_opponent_every <= 0:
      raise ValueError("league.past_opponent_every must be > 0, got "
                       f"{self.past_opponent_every}")
    if not 0.0 <= self.reward_shaping < float("inf"):
      raise ValueError("league.reward_shaping must be a finite number >= 0, "
                       f"got {self.reward_shaping}")


# Where the league and evaluation settings used to be (in `run`), for the
# agent types' `renamed_keys`: old run directories and `--set` commands keep
# working.
LEAGUE_AND_EVAL_RENAMES = {
    "run.eval_every": "evaluation.every",
    "run.eval_games": "evaluation.games",
    "run.eval_opponents": "evaluation.opponents",
    "run.eval_modes": "evaluation.modes",
    **{f"run.{k}": f"league.{k}" for k in (
        "past_opponents", "past_opponent_every", "past_opponent_fraction",
        "bot_opponents", "bot_opponent_fraction", "reward_shaping")},
}


@dataclasses.dataclass(frozen=True)
class WarmStartConfig:
  """Imitation of a bot before self-play (`selfplay.warm_start`).

  `steps` > 0 clones `bot` (a bot the game declares, `games.bot_policy`) for
  that many supervised steps, each on `batch_size` fresh bot-against-bot
  games in which a share `epsilon` of the moves is uniformly random. 0 (the
  default): self-play starts from the random initial network.
  """

  bot: str = "heuristic"
  steps: int = 0
  batch_size: int = 16
  learning_rate: float = 3e-3
  epsilon: float = 0.3
  value_weight: float = 0.5
  # The reward shaping the clone's value is trained under; None: the
  # self-play's (`league.reward_shaping`).
  reward_shaping: float | None = None
  log_every: int = 100

  def __post_init__(self):
    if self.steps < 0:
      raise ValueError(f"warm_start.steps must be >= 0, got {self.steps}")
    for name in ("batch_size", "learning_rate", "log_every"):
      if getattr(self, name) <= 0:
        raise ValueError(
            f"warm_start.{name} must be > 0, got {getattr(self, name)}")
    if not 0.0 <= self.epsilon <= 1.0:
      raise ValueError(
          f"warm_start.epsilon must be in [0, 1], got {self.epsilon}")
    if self.value_weight < 0:
      raise ValueError(
          f"warm_start.value_weight must be >= 0, got {self.value_weight}")
    if self.reward_shaping is not None and not (
        0.0 <= self.reward_shaping < float("inf")):
      raise ValueError("warm_start.reward_shaping must be None or a finite "
                       f"number >= 0, got {self.reward_shaping}")


@dataclasses.dataclass(frozen=True)
class ReplayConfig:
  """Replay buffer and rate limiter settings."""

  capacity: int = 1_000_000  # transitions
  min_size: int = 1_000  # transitions inserted before the first sample
  samples_per_insert: float = 32.0  # sampled transitions per inserted one
  error_buffer: float = 0.0  # allowed drift, in samples; 0: automatic
  prioritized: bool = False
  priority_exponent: float = 0.6  # alpha
  importance_exponent: float = 0.2  # beta
  # Save the contents with each checkpoint, so that a resumed run samples
  # from them at once (no refill).
  checkpoint: bool = True

  def __post_init__(self):
    for name in ("capacity", "min_size", "samples_per_insert"):
      if getattr(self, name) <= 0:
        raise ValueError(
            f"runtime.replay.{name} must be > 0, got {getattr(self, name)}")
    if self.min_size > self.capacity:
      raise ValueError(f"runtime.replay.min_size ({self.min_size}) must not "
                       f"exceed capacity ({self.capacity})")
    for name in ("error_buffer", "priority_exponent", "importance_exponent"):
      if getattr(self, name) < 0:
        raise ValueError(
            f"runtime.replay.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
  """Where and how the Sebulba actors run, and the replay between them."""

  backend: str = "local"  # "local" (processes) or "ray"
  ray_address: str = ""  # ray.init address; "" starts or joins a local one
  num_actors: int = 0  # 0: one per CPU core of this machine
  send_every: int = 25  # transitions per message from an actor
  queue_size: int = 0  # messages in flight; 0: 2 per actor
  max_env_steps: int = 0  # stop after this many env steps; 0: no limit
  replay: ReplayConfig = dataclasses.field(default_factory=ReplayConfig)

  def __post_init__(self):
    if self.backend not in ("local", "ray"):
      raise ValueError(
          f"runtime.backend must be local or ray, got {self.backend!r}")
    for name in ("send_every",):
      if getattr(self, name) <= 0:
        raise ValueError(
            f"runtime.{name} must be > 0, got {getattr(self, name)}")
    for name in ("num_actors", "queue_size", "max_env_steps"):
      if getattr(self, name) < 0:
        raise ValueError(
            f"runtime.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class ControlEvalConfig:
  """Evaluation during training on a control task: the mean return of the
  noiseless policy."""

  every: int = 5_000  # learner steps between evaluations; 0: none
  episodes: int = 5  # noiseless episodes per evaluation

  def __post_init__(self):
    for name in ("every", "episodes"):
      if getattr(self, name) < 0:
        raise ValueError(
            f"evaluation.{name} must be >= 0, got {getattr(self, name)}")


CURRICULUM_KINDS = ("uniform", "noop_filter", "plr")
CURRICULUM_SCORES = ("learnability", "value_loss")


@dataclasses.dataclass(frozen=True)
class CurriculumConfig:
  """Which tasks of a pool the training episodes play
  (`selfplay.curriculum`): "uniform" (every task alike); "noop_filter"
  (AdA's no-op filtering: train only on tasks that new episodes found the
  agent neither solves in every trial nor fails in all, each passing task
  trained on once); "plr" (prioritised level replay,
  Jiang et al. 2021, arXiv:2010.03934, scored by `score`). The buffer's
  defaults are JaxUED's (`examples/maze_plr.py`; Coward et al. 2024,
  arXiv:2403.13091). `robust` (Robust PLR, Jiang et al. 2021,
  arXiv:2110.02439): episodes of new, unscored tasks are played to score
  them but not trained on.
  """
  kind: str = "uniform"  # one of CURRICULUM_KINDS
  score: str = "learnability"  # plr: "learnability" p(1-p), or "value_loss"
  buffer_size: int = 4000         # tasks the buffer holds (plr, noop_filter)
  replay_prob: float = 0.8        # chance a slot replays, once min_fill full
  staleness_coef: float = 0.3     # weight of P_staleness in the mixture (plr)
  temperature: float = 0.3        # rank prioritisation: (1/rank)^(1/T) (plr)
  min_fill: float = 0.5           # fraction of buffer_size before replaying
  robust: bool = True             # train only on replayed tasks
  noop_low: float = 0.0           # noop_filter keeps noop_low < p < noop_high
  noop_high: float = 1.0
  # noop_filter: keep passing tasks and replay them until an episode fails
  # the test (this suite's first filter), not train on each once (AdA).
  noop_keep: bool = False

  def __post_init__(self):
    if self.kind not in CURRICULUM_KINDS:
      raise ValueError(f"curriculum.kind must be one of "
                       f"{', '.join(CURRICULUM_KINDS)}, got {self.kind!r}")
    if self.score not in CURRICULUM_SCORES:
      raise ValueError(f"curriculum.score must be one of "
                       f"{', '.join(CURRICULUM_SCORES)}, got {self.score!r}")
    if (isinstance(self.buffer_size, bool)
        or not isinstance(self.buffer_size, int) or self.buffer_size <= 0):
      raise ValueError(f"curriculum.buffer_size must be an integer > 0, got "
                       f"{self.buffer_size!r}")
    for name in ("replay_prob", "staleness_coef", "min_fill"):
      value = getattr(self, name)
      if not 0.0 <= value <= 1.0:
        raise ValueError(f"curriculum.{name} must be in [0, 1], got "
                         f"{value!r}")
    if not self.temperature > 0.0:
      raise ValueError(f"curriculum.temperature must be > 0, got "
                       f"{self.temperature!r}")
    if not isinstance(self.robust, bool):
      raise ValueError(f"curriculum.robust must be a bool, got "
                       f"{self.robust!r}")
    if not 0.0 <= self.noop_low < 1.0:
      raise ValueError(f"curriculum.noop_low must be in [0, 1), got "
                       f"{self.noop_low!r}")
    if not self.noop_low < self.noop_high <= 1.0:
      raise ValueError(f"curriculum.noop_high must be in (noop_low="
                       f"{self.noop_low!r}, 1], got {self.noop_high!r}")
    if not isinstance(self.noop_keep, bool):
      raise ValueError(f"curriculum.noop_keep must be a bool, got "
                       f"{self.noop_keep!r}")

  @property
  def trains_once(self) -> bool:
    """Whether queued tasks leave once trained on (AdA's no-op filter)."""
    return self.kind == "noop_filter" and not self.noop_keep

  @property
  def min_replay_size(self) -> int:
    """Entries the buffer needs before any slot may replay (at least 1).

    `min_fill` does not apply to AdA's no-op filter (not `noop_keep`): its
    training episodes take whatever tasks have passed, as AdA's learners
    take what its task-evaluation workers accept.
    """
    if self.trains_once:
      return 1
    # round() first: 0.3 * 10 is 3.0000000000000004 in floating point.
    return max(1, math.ceil(round(self.min_fill * self.buffer_size, 6)))
