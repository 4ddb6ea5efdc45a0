"""The layers, bottom up: games < agents < selfplay < eval < arena.

A module may import only its own layer or those below, so that a new agent
or game plugs in without edits above it and nothing below knows what sits on
top. Walks every import statement (including those inside functions) of
every module of the five packages.
"""

import ast
import pathlib

import pytest

LAYERS = ("games", "agents", "selfplay", "eval", "arena")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _imports(path: pathlib.Path) -> list[tuple[int, str]]:
  """(line, absolute module name) of every import in the file at `path`."""
  out = []
  for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
    if isinstance(node, ast.Import):
      out += [(node.lineno, alias.name) for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      out.append((node.lineno, node.module))
  return out


def _violations(layer: str) -> list[str]:
  rank = {name: i for i, name in enumerate(LAYERS)}
  found = []
  for path in sorted((ROOT / layer).rglob("*.py")):
    for line, module in _imports(path):
      top = module.split(".")[0]
      if top in rank and rank[top] > rank[layer]:
        found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
  return found


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_imports_a_layer_above_its_own(layer):
  assert (ROOT / layer).is_dir()
  assert not _violations(layer)


def test_the_walk_finds_a_back_edge(tmp_path, monkeypatch):
  """The check itself: a module of `games` importing `eval` is caught."""
  (tmp_path / "games").mkdir()
  (tmp_path / "games" / "bad.py").write_text(
      "def f():\n  from eval import players\n")
  monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT",
                      tmp_path)
  assert _violations("games") == ["games/bad.py:2 imports eval"]
