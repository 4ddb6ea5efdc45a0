"""Experiment configs: loaded from Python files, overridden, stored as JSON.

`load(path, overrides)` imports `path` (a file such as `configs/kuhn_rnad.py`,
or a bare name such as `kuhn_rnad` looked up in `configs/`), calls its
`get_config()` and applies `--set key.sub=value` overrides as nested
`dataclasses.replace` calls. Values are parsed by the type of the field they
replace, and unknown keys are rejected with the valid ones named. A config is
an instance of a registered experiment type (`agents.core.registry`).

Configs round-trip through JSON (`to_json` / `from_json`), which is how the
resolved config is stored beside every checkpoint.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import importlib.util
import math
import pathlib
import types
import typing
from typing import Any, Sequence

from agents.core import registry

_CONFIG_DIR = pathlib.Path(__file__).resolve().parent.parent.parent / "configs"


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
  try:
    registry.for_config(config)
  except ValueError:
    raise ValueError(
        f"{path}: get_config() returned a {type(config).__name__}, not a "
        "registered experiment type: "
        f"{', '.join(registry.experiment_names())}") from None
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
  agent_type = registry.for_config(config)
  for item in overrides:
    key, sep, raw = item.partition("=")
    if not sep or not key:
      raise ValueError(f"override {item!r} is not of the form key=value")
    key = key.strip()
    if key in agent_type.retired_keys:
      raise ValueError(f"config key {key!r} was retired: "
                       f"{agent_type.retired_keys[key][1]}")
    key = agent_type.renamed_keys.get(key, key)
    config = _replace_path(config, key.split("."), raw.strip(), key)
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
    if dataclasses.is_dataclass(current) and hints[name] is not Any:
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
  # The module lets `from_json` import an agent registered outside the
  # suite's own packages (a plugin) before looking its type up.
  return {"type": type(config).__name__, "module": type(config).__module__,
          "config": encode(config)}


def from_json(data: dict[str, Any]) -> Any:
  """Inverse of `to_json`.

  Raises:
    ValueError: if `data` does not describe a known experiment config.
  """
  try:
    agent_type = registry.get(data["type"], module=data.get("module"))
    return _decode(agent_type.experiment,
                   _migrate(copy.deepcopy(data["config"]), agent_type))
  except (KeyError, TypeError, ValueError) as e:
    raise ValueError(f"not a valid saved experiment config: {e}") from e


def _migrate(tree: dict[str, Any], agent_type: registry.AgentType
             ) -> dict[str, Any]:
  """A saved config's nested dict with renamed keys moved to their new paths
  and retired keys dropped where they held their inert value.

  Raises:
    ValueError: a retired key holds another value (naming why it went).
  """
  def pop(path: str) -> tuple[bool, Any]:
    *parents, last = path.split(".")
    node = tree
    for part in parents:
      node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or last not in node:
      return False, None
    return True, node.pop(last)

  for old, new in agent_type.renamed_keys.items():
    found, value = pop(old)
    if found:
      *parents, last = new.split(".")
      node = tree
      for part in parents:
        node = node.setdefault(part, {})
      node[last] = value
      _drop_empty_sections(tree, old.split(".")[:-1])
  for path, (inert, reason) in agent_type.retired_keys.items():
    found, value = pop(path)
    if found and value != inert and not (
        isinstance(inert, tuple) and value == list(inert)):
      raise ValueError(f"{path}={value!r}: this setting was retired "
                       f"({reason}); the run needs an older version of "
                       "arena")
  return tree


def _drop_empty_sections(tree: dict[str, Any], path: list[str]) -> None:
  """Removes the section at `path` and its parents while they are empty (a
  section whose keys all moved elsewhere)."""
  while path:
    *parents, last = path
    node = tree
    for part in parents:
      node = node[part]
    if node.get(last) != {}:
      return
    del node[last]
    path = parents


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
