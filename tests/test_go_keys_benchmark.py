"""`benchmarks/go_keys.py`, the real keys of the index benchmark: every
entry is its position's key under its symmetry, the queries are test-split
positions absent from the entries, and a cut run resumes."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from agents.go_retrieval import data as data_lib
from agents.go_retrieval import retrieval

_PATH = pathlib.Path(__file__).parent.parent / "benchmarks" / "go_keys.py"


@pytest.fixture(scope="module")
def go_keys():
  spec = importlib.util.spec_from_file_location("go_keys", _PATH)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_keys_groups_and_queries_and_resume(go_keys, go_positions, tmp_path,
                                            capsys):
  out = tmp_path / "keys"
  argv = ["--positions", str(go_positions), "--out", str(out),
          "--num-queries", "20", "--chunk", "256", "--symmetries", "2",
          "--no-progress"]
  assert go_keys.main(argv) == 0
  summary = json.loads(capsys.readouterr().out)
  data = data_lib.PositionData(go_positions)
  rows, syms, groups = go_keys._layout(data, 20, 2, 0)  # pylint: disable=protected-access
  keys = np.load(out / "keys.npy")
  assert summary["entries"] == len(rows) - 20 == len(keys) - 20
  # Queries: test positions as played; none of them among the entries.
  assert (np.asarray(data.arrays["split"])[rows[-20:]] ==
          np.asarray(data.arrays["split"])[data.rows["test"][0]]).all()
  assert (syms[-20:] == 0).all()
  assert not set(rows[-20:]) & set(rows[:-20])
  # Every entry and query is its position's key under its symmetry.
  key_net = retrieval.KeyNetwork("go9-plain")
  pick = np.random.default_rng(0).choice(len(rows), 64, replace=False)
  np.testing.assert_allclose(keys[pick], key_net.keys(
      data.batch(rows[pick], syms[pick])), atol=1e-5)
  np.testing.assert_array_equal(np.load(out / "groups.npy"), groups)
  # A cut run (chunks not marked done) redoes exactly those chunks.
  done = (out / "done-0.txt").read_text().split()
  (out / "done-0.txt").write_text("\n".join(done[:2]) + "\n")
  kept = np.load(out / "keys.npy").copy()
  np.lib.format.open_memmap(out / "keys.npy", "r+")[2 * 256:] = 0
  assert go_keys.main(argv) == 0
  np.testing.assert_array_equal(np.load(out / "keys.npy"), kept)
  # Another recipe in the same directory is refused with a message.
  with pytest.raises(SystemExit, match="another recipe"):
    go_keys.main(argv[:-1] + ["--seed", "3", "--no-progress"])
