"""The agent registry: each experiment type names its agent and its driver.

An experiment config is a frozen dataclass (e.g. `agents.rnad.RNaDExperiment`)
whose class name is stored as the `type` of every run directory's
`config.json`. Registering it here, once, tells the whole suite how to build
its game and agent (`AgentType.build`) and which self-play driver trains it
(`AgentType.driver`, a name that `selfplay.drivers` resolves). `arena train`,
`eval`, `play`, `tournament` and `average` and the evaluator find agents only
through this registry, so a new agent plugs in with one `register` call and
never needs an edit of a driver:

  register(AgentType(name="tabular", experiment=TabularExperiment,
                     driver="anakin", build=build_tabular))

The agents of the suite register themselves when their package is imported;
`get` and `for_config` import them on first use.

What a driver needs of the agent it builds:
- every driver: `init(key) -> TrainState`, `optimizer`, `loss_fn`,
  `after_update(state) -> state` and `test_params(state) -> params` (the
  parameters to evaluate and export);
- the Anakin driver (games in JAX): `make_policy_fn(state) -> PolicyFn`, the
  batch policy that plays the self-play games, and `policy_probs(params, obs,
  legal, raw=False) -> probs [N, A]`, the test-time policy that evaluation,
  tournaments, human play and `load_policy` use (`raw=True`: without any
  test-time post-processing); optionally `imitation_loss` and `from_clone`
  for the imitation warm start (`selfplay.warm_start`) and
  `with_test_params(state, params) -> state` for checkpoint averaging;
- the Sebulba driver (host environments): `priorities` for prioritised
  replay, and its actors' side: `actor_params(params)`, `act(actor_params,
  obs, key, explore)`, `n_step`, `discount`, `n_step_target` and
  `make_batch(items, weights)` (see `selfplay.sebulba`);
- the offline driver (supervised learning from recorded data):
  `dataset(config)`, `batch_size`, `augment` and `evaluate(params, batch)`
  (see `selfplay.offline`).
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable, Mapping

# Agents shipped with the suite; imported (so registered) on first lookup.
_BUILTIN_PACKAGES = ("agents.rnad", "agents.d4pg", "agents.go_retrieval",
                     "agents.ada")

DRIVERS = ("anakin", "sebulba", "offline")


@dataclasses.dataclass(frozen=True)
class AgentType:
  """One kind of experiment: its config type, its agent and its driver.

  Attributes:
    name: a short name for messages, e.g. "rnad".
    experiment: the experiment config dataclass; it has a `game` field (a
      `GameConfig`), an `agent` field and a `run` field (a `RunConfig`).
    driver: the driver that trains it: "anakin" (game and update compiled
      together), "sebulba" (host environments, actor processes) or
      "offline" (supervised learning from recorded data).
    build: `build(config) -> (game, agent)`; the game is None for
      environments outside `games` (e.g. dm_control tasks).
    renamed_keys: config keys that moved, old dotted path -> new one; saved
      configs and `--set` overrides that use an old path are read at the new
      one (`agents.core.configs`), so old run directories and commands keep
      working.
    retired_keys: config keys that were removed, dotted path -> (the value
      at which it did nothing, why it went); a saved config holding that
      value loads without it, any other value (or a `--set` of the key) is
      refused with the reason.
  """

  name: str
  experiment: type
  driver: str
  build: Callable[[Any], tuple[Any, Any]]
  renamed_keys: Mapping[str, str] = dataclasses.field(default_factory=dict)
  retired_keys: Mapping[str, tuple[Any, str]] = dataclasses.field(
      default_factory=dict)

  def __post_init__(self):
    if not dataclasses.is_dataclass(self.experiment):
      raise TypeError(f"agent type {self.name!r}: experiment must be a "
                      f"dataclass, got {self.experiment!r}")
    if self.driver not in DRIVERS:
      raise ValueError(f"agent type {self.name!r}: unknown driver "
                       f"{self.driver!r}; drivers: {', '.join(DRIVERS)}")


_TYPES: dict[str, AgentType] = {}  # by experiment class name


def register(agent_type: AgentType, *, replace: bool = False) -> AgentType:
  """Adds `agent_type`, keyed by its experiment class's name.

  Raises:
    ValueError: that name is taken by another class (unless `replace`).
  """
  key = agent_type.experiment.__name__
  old = _TYPES.get(key)
  if (old is not None and old.experiment is not agent_type.experiment
      and not replace):
    raise ValueError(f"experiment type {key!r} is already registered (agent "
                     f"{old.name!r})")
  _TYPES[key] = agent_type
  return agent_type


def unregister(experiment_name: str) -> None:
  """Removes a registered experiment type (tests use it to clean up)."""
  _TYPES.pop(experiment_name, None)


def _load_builtins() -> None:
  for package in _BUILTIN_PACKAGES:
    importlib.import_module(package)


def experiment_names() -> tuple[str, ...]:
  """The registered experiment class names, sorted."""
  _load_builtins()
  return tuple(sorted(_TYPES))


def get(experiment_name: str, module: str | None = None) -> AgentType:
  """The agent type of an experiment class name (a config.json's `type`).

  Args:
    experiment_name: the experiment class's name.
    module: the module that defines it (a config.json's `module`); imported
      when the name is not registered yet, so that an agent registered by
      its own module (a plugin) is found in a fresh process too.

  Raises:
    ValueError: nothing is registered under that name.
  """
  if experiment_name not in _TYPES:
    _load_builtins()
  if experiment_name not in _TYPES and module and not module.startswith(
      "_arena_config_"):  # config files are not importable by name
    try:
      importlib.import_module(module)
    except ImportError:
      pass  # reported below as an unknown type
  try:
    return _TYPES[experiment_name]
  except KeyError:
    raise ValueError(
        f"unknown experiment type {experiment_name!r}; registered: "
        f"{', '.join(sorted(_TYPES))}") from None


def for_config(config: Any) -> AgentType:
  """The agent type of an experiment config object.

  Raises:
    ValueError: its class is not registered.
  """
  agent_type = get(type(config).__name__)
  if not isinstance(config, agent_type.experiment):
    raise ValueError(f"{type(config).__name__} is not the registered "
                     f"experiment class of agent {agent_type.name!r}")
  return agent_type
