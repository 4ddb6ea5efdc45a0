"""Experiment configs: typed frozen dataclasses, loaded from Python files.

`load(path, overrides)` imports `path` (a file such as `configs/kuhn_rnad.py`,
or a bare name such as `kuhn_rnad` looked up in `configs/`), calls its
`get_config()` and applies `--set key.sub=value` overrides as nested
`dataclasses.replace` calls. Values are parsed by the type of the field they
replace, and unknown keys are rejected with the valid ones named.

Configs round-trip through JSON (`to_json` / `from_json`), which is how the
resolved config is stored beside every checkpoint.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import importlib
import importlib.util
import math
import pathlib
import types
import typing
from typing import Any, Sequence

from agents.d4pg.config import D4PGConfig
from agents.rnad.config import RNaDConfig
from selfplay.replay import ReplayConfig

_CONFIG_DIR = pathlib.Path(__file__).resolve().parent.parent / "configs"


@dataclasses.dataclass(frozen=True)
class GameConfig:
  """Which game, with the keyword arguments of `games.make`."""

  name: str = "kuhn_poker"
  params: tuple[tuple[str, Any], ...] = ()

  @property
  def kwargs(self) -> dict[str, Any]:
    return dict(self.params)


@dataclasses.dataclass(frozen=True)
class RunConfig:
  """How long to train and how often to log, evaluate and checkpoint."""

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
  eval_every: int = 5_000  # learner steps; 0 disables evaluation
  # Games too large for exact NashConv: games against each bot per evaluation
  # (0: none), seats alternated.
  eval_games: int = 0
  eval_opponents: tuple[str, ...] = ("random",)
  # How the agent plays those games: "sample" (its policy, logged as
  # `vs_<bot>/...`) and/or "greedy" (its most likely move, `vs_<bot>_greedy/`).
  eval_modes: tuple[str, ...] = ("sample",)
  checkpoint_every: int = 10_000  # learner steps
  checkpoint_every_s: float = 300.0  # also checkpoint at least this often
  keep_checkpoints: int = 3
  num_devices: int = 0  # 0: every local device
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
  # Fixed opponents: the bots named here (those of
  # `selfplay.evaluation.bot_policy`, e.g. "heuristic") play one seat (chosen
  # at random) of a `bot_opponent_fraction` of the games, the bots taking
  # those games in turn; games against past opponents come out of the rest.
  # The learner treats a bot's moves as the environment's (it learns to beat
  # the bot, not to play like it) and learns only at its own decisions. The
  # bots then run on the whole batch at every step. () (the default): none.
  bot_opponents: tuple[str, ...] = ()
  bot_opponent_fraction: float = 0.25
  # Potential-based reward shaping (`selfplay.rollout`) with the game's
  # `potential` (e.g. Stratego's material lead) times this scale; it leaves
  # the game's objective unchanged. 0 (the default): none.
  reward_shaping: float = 0.0

  def __post_init__(self):
    for name in ("past_opponent_fraction", "bot_opponent_fraction"):
      if not 0.0 <= getattr(self, name) <= 1.0:
        raise ValueError(f"run.{name} must be in [0, 1], got "
                         f"{getattr(self, name)}")
    if (self.past_opponents and self.bot_opponents and
        self.past_opponent_fraction + self.bot_opponent_fraction > 1.0):
      raise ValueError(
          "run.past_opponent_fraction + run.bot_opponent_fraction must be at "
          f"most 1, got {self.past_opponent_fraction} + "
          f"{self.bot_opponent_fraction}")
    if not self.eval_modes or set(self.eval_modes) - {"sample", "greedy"}:
      raise ValueError("run.eval_modes must name \"sample\" and/or "
                       f"\"greedy\", got {self.eval_modes!r}")
    if self.past_opponents < 0:
      raise ValueError(
          f"run.past_opponents must be >= 0, got {self.past_opponents}")
    for name in ("num_steps", "steps_per_call", "log_every",
                 "checkpoint_every", "keep_checkpoints",
                 "past_opponent_every"):
      if getattr(self, name) <= 0:
        raise ValueError(f"run.{name} must be > 0, got {getattr(self, name)}")
    for name in ("time_limit_s", "checkpoint_every_s", "eval_every",
                 "num_devices", "eval_games", "reward_shaping"):
      if getattr(self, name) < 0:
        raise ValueError(f"run.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class WarmStartConfig:
  """Imitation of a bot before self-play (`selfplay.warm_start`).

  `steps` > 0 clones `bot` (a bot of `selfplay.evaluation.bot_policy`) for
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


@dataclasses.dataclass(frozen=True)
class RNaDExperiment:
  """R-NaD self-play on a JAX game (the Anakin driver)."""

  game: GameConfig = dataclasses.field(default_factory=GameConfig)
  agent: RNaDConfig = dataclasses.field(default_factory=RNaDConfig)
  run: RunConfig = dataclasses.field(default_factory=RunConfig)
  warm_start: WarmStartConfig = dataclasses.field(
      default_factory=WarmStartConfig)


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
  """Where and how the Sebulba actors run, and the replay between them."""

  backend: str = "local"  # "local" (processes) or "ray"
  ray_address: str = ""  # ray.init address; "" starts or joins a local one
  num_actors: int = 0  # 0: one per CPU core of this machine
  send_every: int = 25  # transitions per message from an actor
  queue_size: int = 0  # messages in flight; 0: 2 per actor
  eval_episodes: int = 5  # noiseless episodes per evaluation
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
    for name in ("num_actors", "queue_size", "eval_episodes", "max_env_steps"):
      if getattr(self, name) < 0:
        raise ValueError(
            f"runtime.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class D4PGExperiment:
  """D4PG on a Control Suite task (the Sebulba driver)."""

  game: GameConfig = dataclasses.field(
      default_factory=lambda: GameConfig(name="cartpole_swingup"))
  agent: D4PGConfig = dataclasses.field(default_factory=D4PGConfig)
  runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)
  run: RunConfig = dataclasses.field(default_factory=RunConfig)


EXPERIMENT_TYPES = {cls.__name__: cls for cls in (RNaDExperiment,
                                                  D4PGExperiment)}


# ---------------------------------------------------------------- loading


def _resolve_path(path_or_name: str) -> pathlib.Path:
  path = pathlib.Path(path_or_name)
  if path.suffix != ".py":
    path = _CONFIG_DIR / f"{path_or_name}.py"
  if not path.is_file():
    known = sorted(p.stem for p in _CONFIG_DIR.glob("*.py")
                   if not p.stem.startswith("_"))
    raise ValueError(f"config file {str(path_or_name)!r} not found; "
                     f"bundled configs: {', '.join(known)}")
  return path


def load(path_or_name: str, overrides: Sequence[str] = ()) -> Any:
  """Imports a config file, calls `get_config()` and applies overrides.

  Raises:
    ValueError: for a missing or broken file, or a bad override.
  """
  path = _resolve_path(path_or_name)
  spec = importlib.util.spec_from_file_location(f"_arena_config_{path.stem}",
                                                path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
    get_config = getattr(module, "get_config")
  except AttributeError as e:
    raise ValueError(f"{path} defines no get_config()") from e
  except Exception as e:
    raise ValueError(f"cannot load config {path}: {type(e).__name__}: {e}") from e
  config = get_config()
  if type(config).__name__ not in EXPERIMENT_TYPES:
    raise ValueError(f"{path}: get_config() returned a {type(config).__name__}, "
                     f"not one of {', '.join(EXPERIMENT_TYPES)}")
  return apply_overrides(config, overrides)


def apply_overrides(config: Any, overrides: Sequence[str]) -> Any:
  """Applies `key.sub=value` strings in order, then checks the result.

  Each value is parsed as its key's type on the spot; the settings' checks
  (`__post_init__`) run once all are applied, so settings that must agree
  (e.g. `agent.entropy_schedule_sizes` and `agent.entropy_schedule_repeats`)
  can be changed together.

  Raises:
    ValueError: naming the bad key or value.
  """
  if not overrides:
    return config
  for item in overrides:
    key, sep, raw = item.partition("=")
    if not sep or not key:
      raise ValueError(f"override {item!r} is not of the form key=value")
    config = _replace_path(config, key.strip().split("."), raw.strip(),
                           key.strip())
  try:
    return _checked(config)
  except ValueError as e:
    raise ValueError(f"{' '.join(overrides)}: {e}") from e


def _checked(obj: Any) -> Any:
  """`obj` rebuilt bottom-up, so every dataclass runs its checks again."""
  if not dataclasses.is_dataclass(obj):
    return obj
  return dataclasses.replace(obj, **{
      f.name: _checked(getattr(obj, f.name)) for f in dataclasses.fields(obj)
      if f.init})


def _replace_path(obj: Any, parts: list[str], raw: str, full_key: str) -> Any:
  """`obj` with the value at `parts` replaced, unchecked (see `_checked`)."""
  fields = {f.name: f for f in dataclasses.fields(obj)}
  name = parts[0]
  if name not in fields:
    prefix = full_key[:len(full_key) - len(".".join(parts))]
    raise ValueError(f"unknown config key {full_key!r}; valid keys here: "
                     f"{', '.join(prefix + f for f in fields)}")
  hints = typing.get_type_hints(type(obj))
  current = getattr(obj, name)
  if len(parts) > 1:
    if not dataclasses.is_dataclass(current):
      raise ValueError(f"config key {full_key!r}: {name!r} has no sub-keys")
    value = _replace_path(current, parts[1:], raw, full_key)
  else:
    if dataclasses.is_dataclass(current):
      raise ValueError(f"config key {full_key!r} is a section; set one of its "
                       f"keys, e.g. {full_key}.{dataclasses.fields(current)[0].name}")
    value = _parse(raw, hints[name], full_key)
  unchecked = copy.copy(obj)
  object.__setattr__(unchecked, name, value)  # frozen dataclasses
  return unchecked


def _parse(raw: str, hint: Any, key: str) -> Any:
  """Parses `raw` as a value of type `hint`."""
  if hint is str:
    return raw
  try:
    value = ast.literal_eval(raw)
  except (ValueError, SyntaxError):
    if raw.lower() in ("inf", "+inf", "-inf", "nan"):
      value = float(raw)
    elif raw.lower() in ("true", "false"):
      value = raw.lower() == "true"
    else:
      value = raw
  try:
    return _coerce(value, hint)
  except (TypeError, ValueError) as e:
    raise ValueError(f"bad value for {key!r}: {raw!r} ({e})") from e


def _coerce(value: Any, hint: Any) -> Any:
  origin = typing.get_origin(hint)
  if hint is Any:
    return value
  if hint is bool:
    if isinstance(value, bool):
      return value
    raise TypeError("expected true or false")
  if hint is int:
    if isinstance(value, bool) or not isinstance(value, int):
      raise TypeError("expected an integer")
    return value
  if hint is float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
      raise TypeError("expected a number")
    return float(value)
  if hint is str:
    if not isinstance(value, str):
      raise TypeError("expected a string")
    return value
  if origin is tuple:
    args = typing.get_args(hint)
    if not isinstance(value, (tuple, list)):
      value = (value,)
    if len(args) == 2 and args[1] is Ellipsis:
      return tuple(_coerce(v, args[0]) for v in value)
    if len(args) != len(value):
      raise TypeError(f"expected {len(args)} items")
    return tuple(_coerce(v, a) for v, a in zip(value, args))
  if origin in (typing.Union, types.UnionType):
    for arg in typing.get_args(hint):
      try:
        return _coerce(value, arg)
      except (TypeError, ValueError):
        continue
    raise TypeError(f"expected {hint}")
  if hint is type(None):
    if value is None:
      return None
    raise TypeError("expected None")
  raise TypeError(f"unsupported field type {hint}")


# ---------------------------------------------------------------- JSON


def to_json(config: Any) -> dict[str, Any]:
  """A JSON-ready dict that `from_json` turns back into `config`."""
  def encode(x):
    if dataclasses.is_dataclass(x):
      return {f.name: encode(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, tuple):
      return [encode(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
      return str(x)
    return x
  return {"type": type(config).__name__, "config": encode(config)}


def from_json(data: dict[str, Any]) -> Any:
  """Inverse of `to_json`.

  Raises:
    ValueError: if `data` does not describe a known experiment config.
  """
  try:
    cls = EXPERIMENT_TYPES[data["type"]]
    return _decode(cls, data["config"])
  except (KeyError, TypeError, ValueError) as e:
    raise ValueError(f"not a valid saved experiment config: {e}") from e


def _decode(hint: Any, value: Any) -> Any:
  if dataclasses.is_dataclass(hint):
    hints = typing.get_type_hints(hint)
    unknown = set(value) - set(hints)
    if unknown:
      raise ValueError(f"unknown keys {sorted(unknown)} for {hint.__name__}")
    return hint(**{k: _decode(hints[k], v) for k, v in value.items()})
  if hint is float and isinstance(value, str):
    return float(value)
  if typing.get_origin(hint) is tuple:
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
      return tuple(_decode(args[0], v) for v in value)
    return tuple(_decode(a, v) for a, v in zip(args, value))
  return _coerce(value, hint)
