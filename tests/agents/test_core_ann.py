"""The nearest-neighbour index store: exact answers, recall, add, exclusion,
crash safety, memory-mapped payload and clear errors."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from agents.core import ann, ann_backends, ann_store

ROOT = pathlib.Path(__file__).resolve().parents[2]
N, D = 20_000, 32
SMALL_IVFPQ = ann.IVFPQParams(nlist=64, pq_m=8, nprobe=16, train_size=10_000)


def _clustered(num: int, key_seed: int, num_clusters: int = 100) -> np.ndarray:
  """[num, D] float32 keys: Gaussian blobs around fixed random centres."""
  centres = np.random.default_rng(0).standard_normal((num_clusters, D))
  rng = np.random.default_rng(key_seed)
  labels = rng.integers(0, num_clusters, num)
  return (centres[labels] + 0.5 * rng.standard_normal((num, D))).astype(np.float32)


def _payload(start: int, num: int) -> dict[str, np.ndarray]:
  """Entry i: group i // 50, tag [3] int16 (i % 30000, 1, 2), flag bool."""
  i = np.arange(start, start + num)
  tag = np.stack([i % 30_000, np.ones_like(i), 2 * np.ones_like(i)], axis=1)
  return {"group": i // 50, "tag": tag.astype(np.int16), "flag": i % 2 == 0}


def _build(directory, keys, config, batch=6_000, payload_start=0, **kwargs):
  starts = range(0, len(keys), batch)
  return ann.build(directory, (keys[s:s + batch] for s in starts),
                   (_payload(payload_start + s, min(batch, len(keys) - s))
                    for s in starts), config, progress=False, **kwargs)


def _config(backend: str, metric: str = "l2") -> ann.IndexConfig:
  return ann.IndexConfig(backend=backend, metric=metric, ivfpq=SMALL_IVFPQ,
                         hnsw=ann.HNSWParams(m=16, ef_construction=64,
                                             ef_search=64))


def _backends():
  out = ["exact", "hnsw", "ivfpq"]
  try:
    import scann  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
    out.append("scann")
  except ImportError:
    pass
  return out


BACKENDS = _backends()
APPROXIMATE = [b for b in BACKENDS if b != "exact"]


@pytest.fixture(scope="module")
def keys():
  return _clustered(N, key_seed=1)


@pytest.fixture(scope="module")
def queries():
  return _clustered(300, key_seed=2)  # held out: not in the store


@pytest.fixture(scope="module")
def stores(tmp_path_factory, keys):
  """backend -> path of a built 20k-entry store (copy it before mutating)."""
  root = tmp_path_factory.mktemp("stores")
  return {b: _build(root / b, keys, _config(b)).directory for b in BACKENDS}


# ------------------------------------------------------------ exact answers ---


def test_exact_search_returns_true_neighbours_worked_example(tmp_path):
  # Five keys on the x axis: 0, 1, 3, 6, 10. From x = 2.4 the squared
  # distances are 5.76, 1.96, 0.36, 12.96, 57.76.
  keys = np.array([[0, 0], [1, 0], [3, 0], [6, 0], [10, 0]], np.float32)
  payload = {"group": np.arange(5), "x": keys[:, 0].astype(np.int32)}
  index = ann.build(tmp_path / "l2", [keys], [payload],
                    ann.IndexConfig(backend="exact"), progress=False)
  res = index.search(np.array([[2.4, 0]]), 3)
  np.testing.assert_array_equal(res.ids, [[2, 1, 0]])
  np.testing.assert_allclose(res.distances, [[0.36, 1.96, 5.76]], rtol=1e-5)
  np.testing.assert_array_equal(res.payload["x"], [[3, 1, 0]])
  # Inner product: key . (1, 0) is x itself, largest first.
  ip = ann.build(tmp_path / "ip", [keys], [payload],
                 ann.IndexConfig(backend="exact", metric="ip"), progress=False)
  res = ip.search(np.array([[1.0, 0.0]]), 2)
  np.testing.assert_array_equal(res.ids, [[4, 3]])
  np.testing.assert_allclose(res.distances, [[10, 6]])
  # Cosine: (3, 4) and (-1, 0) against (0.6, 0.8): cosines 1 and -0.6.
  cos = ann.build(tmp_path / "cos", [np.array([[-1, 0], [3, 4]], np.float32)],
                  [{"group": np.arange(2)}],
                  ann.IndexConfig(backend="exact", metric="cosine"),
                  progress=False)
  res = cos.search(np.array([[6.0, 8.0]]), 2)
  np.testing.assert_array_equal(res.ids, [[1, 0]])
  np.testing.assert_allclose(res.distances, [[1.0, -0.6]], atol=1e-6)


def test_k_beyond_the_store_pads_with_minus_one(tmp_path):
  keys = np.eye(3, dtype=np.float32)
  index = ann.build(tmp_path / "s", [keys], [{"group": np.arange(3)}],
                    ann.IndexConfig(backend="exact"), progress=False)
  res = index.search(keys[:1], 5)
  np.testing.assert_array_equal(res.ids, [[0, 1, 2, -1, -1]])
  assert np.isinf(res.distances[0, 3:]).all()


def test_exact_backend_agrees_with_brute_force(stores, keys, queries):
  index = ann.open(stores["exact"])
  res = index.search(queries, 16)
  d = (queries ** 2).sum(1)[:, None] - 2 * queries @ keys.T + (keys ** 2).sum(1)
  np.testing.assert_array_equal(
      np.sort(res.ids, axis=1), np.sort(np.argsort(d, axis=1)[:, :16], axis=1))
  assert index.recall_at_k(queries, 16) == 1.0


# ------------------------------------------------------------------ recall ---


@pytest.mark.parametrize("backend", APPROXIMATE)
def test_recall_at_16_against_exact(stores, queries, backend):
  index = ann.open(stores[backend])
  assert index.recall_at_k(queries, 16) >= 0.9


def test_recall_detects_a_broken_index(stores, queries, monkeypatch):
  """The check itself: an index that returns unrelated ids scores near 0."""
  index = ann.open(stores["hnsw"])
  rng = np.random.default_rng(0)
  def random_ids(q, k):
    return np.zeros((len(q), k), np.float32), rng.integers(0, N, (len(q), k))
  monkeypatch.setattr(index._backend, "search", random_ids)  # pylint: disable=protected-access
  assert index.recall_at_k(queries, 16) < 0.05


def test_search_params_change_the_search(stores, queries):
  index = ann.open(stores["ivfpq"])
  index.set_search_params(nprobe=1, k_factor=1)
  low = index.recall_at_k(queries, 16)
  index.set_search_params(nprobe=64, k_factor=8)
  assert index.recall_at_k(queries, 16) > low
  with pytest.raises(ValueError, match="ef_search.*valid: \\['nprobe'"):
    index.set_search_params(ef_search=10)


# --------------------------------------------------------------------- add ---


@pytest.mark.parametrize("backend", BACKENDS)
def test_add_appends_without_rebuilding(stores, keys, tmp_path, monkeypatch,
                                        backend):
  directory = tmp_path / backend
  shutil.copytree(stores[backend], directory)
  before = ann.open(directory)
  old_file = json.loads((directory / ann.MANIFEST).read_text())["index_file"]

  def no_rebuild(*args, **kwargs):
    raise AssertionError("add must not build or train an index")
  monkeypatch.setattr(ann_backends, "create", no_rebuild)
  monkeypatch.setattr(ann_backends.FaissBackend, "create", no_rebuild)
  monkeypatch.setattr(ann_backends.ScannBackend, "create", no_rebuild)
  new_keys = _clustered(200, key_seed=3)
  ids = ann.add(directory, new_keys, _payload(N, 200))
  assert ids == range(N, N + 200)

  after = ann.open(directory)
  assert after.num_entries == N + 200 and before.num_entries == N
  res = after.search(new_keys, 1)
  assert (res.ids[:, 0] == np.arange(N, N + 200)).mean() >= 0.95
  np.testing.assert_array_equal(after.payload["tag"][N:], _payload(N, 200)["tag"])
  np.testing.assert_array_equal(after.payload["group"][:N],
                                before.payload["group"])
  np.testing.assert_array_equal(after.keys[:N], keys)
  manifest = json.loads((directory / ann.MANIFEST).read_text())
  assert manifest["generation"] == 1 and not (directory / old_file).exists()
  if backend == "ivfpq":  # the same trained quantizer: nothing retrained
    import faiss  # pylint: disable=g-import-not-at-top
    quantizers = [faiss.extract_index_ivf(i._backend.index).quantizer  # pylint: disable=protected-access
                  for i in (before, after)]
    np.testing.assert_array_equal(*(q.reconstruct_n(0, 64) for q in quantizers))


def test_killed_add_leaves_the_old_store_loadable(stores, tmp_path):
  directory = tmp_path / "store"
  shutil.copytree(stores["hnsw"], directory)
  new_keys = _clustered(100, key_seed=4)
  np.save(tmp_path / "new.npy", new_keys)
  # The writer dies (SIGKILL: no cleanup runs) just before the manifest
  # commit: columns already appended, the next index generation written.
  script = textwrap.dedent(f"""
      import os, signal, numpy as np
      from agents.core import ann, ann_store
      ann_store.commit_manifest = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
      i = np.arange({N}, {N + 100})
      ann.add({str(directory)!r}, np.load({str(tmp_path / 'new.npy')!r}),
              {{"group": i // 50, "tag": np.zeros((100, 3), np.int16),
                "flag": np.zeros(100, bool)}})
  """)
  proc = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT,
                        capture_output=True, text=True, timeout=120,
                        env={**os.environ, "JAX_PLATFORMS": "cpu"})
  assert proc.returncode == -9, proc.stderr
  assert (directory / "index-000001.faiss").exists()  # the uncommitted one
  index = ann.open(directory)
  assert index.num_entries == N
  assert (index.search(_clustered(50, key_seed=2), 4).ids < N).all()
  # The next add drops the debris: the payload is the new batch's.
  ann.add(directory, new_keys, _payload(N, 100))
  index = ann.open(directory)
  assert index.num_entries == N + 100
  np.testing.assert_array_equal(index.payload["tag"][N:], _payload(N, 100)["tag"])
  assert (directory / "payload" / "tag.bin").stat().st_size == (N + 100) * 6


def test_failed_build_leaves_nothing_that_loads(tmp_path, keys, monkeypatch):
  def crash(*args):
    raise KeyboardInterrupt
  monkeypatch.setattr(ann_store, "commit_manifest", crash)
  with pytest.raises(KeyboardInterrupt):
    _build(tmp_path / "s", keys[:1000], _config("hnsw"))
  with pytest.raises(ValueError, match="no index directory"):
    ann.open(tmp_path / "s")
  assert list(tmp_path.iterdir()) == []


def test_overwrite_swaps_stores_and_refuses_other_directories(tmp_path):
  keys = np.eye(4, dtype=np.float32)
  first = ann.build(tmp_path / "s", [keys], [{"group": np.arange(4)}],
                    ann.IndexConfig(backend="exact"), progress=False)
  second = ann.build(tmp_path / "s", [keys[:2]], [{"group": np.arange(2)}],
                     ann.IndexConfig(backend="hnsw"), progress=False,
                     overwrite=True)
  assert (first.num_entries, second.num_entries) == (4, 2)
  assert ann.open(tmp_path / "s").config.backend == "hnsw"
  assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no debris
  (tmp_path / "other").mkdir()
  (tmp_path / "other" / "notes.txt").write_text("keep me")
  with pytest.raises(ValueError, match="neither an index store nor an empty"):
    ann.build(tmp_path / "other", [keys], [{"group": np.arange(4)}],
              progress=False, overwrite=True)
  assert (tmp_path / "other" / "notes.txt").exists()


# --------------------------------------------------------------- exclusion ---


def _store_with_a_crowd(directory: pathlib.Path, backend: str) -> ann.Index:
  """2000 background keys (groups 0..39) and 300 keys of group 999 packed
  around the origin, so the 300 nearest neighbours of 0 are all group 999."""
  rng = np.random.default_rng(5)
  background = 3 + rng.standard_normal((2000, D)).astype(np.float32)
  crowd = 0.01 * rng.standard_normal((300, D)).astype(np.float32)
  keys = np.concatenate([crowd[:150], background, crowd[150:]])
  groups = np.concatenate([np.full(150, 999), np.arange(2000) // 50,
                           np.full(150, 999)])
  config = _config(backend)
  if backend == "ivfpq":
    config = ann.IndexConfig(backend="ivfpq", ivfpq=ann.IVFPQParams(
        nlist=16, pq_m=8, pq_nbits=6, nprobe=16, train_size=2300))
  return ann.build(directory, [keys], [{"group": groups}], config,
                   progress=False)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("max_fetch", [2048, 64])  # 64: via the exact fallback
def test_exclusion_never_returns_the_group(tmp_path, backend, max_fetch):
  index = _store_with_a_crowd(tmp_path / "s", backend)
  queries = np.zeros((3, D), np.float32)
  res = index.search(queries, 16, exclude_groups=np.array([999, 999, 5]),
                     max_fetch=max_fetch)
  assert (res.ids >= 0).all()
  assert (res.payload["group"][:2] != 999).all()
  assert (res.payload["group"][2] == 999).all()  # group 5 is far away
  # The first two rows are the nearest non-999 keys, as exact search says.
  keys = np.asarray(index.keys)
  d = (keys ** 2).sum(1)
  d[np.asarray(index.payload["group"]) == 999] = np.inf
  true = np.argsort(d)[:16]
  hits = np.isin(res.ids[:2], true).mean()
  assert hits >= (1.0 if max_fetch == 64 or backend == "exact" else 0.8)


def test_exclusion_holds_for_many_random_queries(stores, keys):
  index = ann.open(stores["hnsw"])
  rng = np.random.default_rng(6)
  rows = rng.integers(0, N, 500)
  queries = keys[rows] + 0.01 * rng.standard_normal((500, D)).astype(np.float32)
  groups = np.asarray(index.payload["group"])[rows]
  res = index.search(queries, 16, exclude_groups=groups)
  assert (res.ids >= 0).all()
  assert (res.payload["group"] != groups[:, None]).all()


def test_exclusion_pads_only_when_too_few_eligible(tmp_path):
  keys = np.arange(20, dtype=np.float32)[:, None].repeat(4, axis=1)
  groups = np.array([1] * 17 + [2, 3, 4])
  index = ann.build(tmp_path / "s", [keys], [{"group": groups}],
                    _config("hnsw"), progress=False)
  res = index.search(keys[:1], 5, exclude_groups=np.array([1]))
  np.testing.assert_array_equal(res.ids, [[17, 18, 19, -1, -1]])
  np.testing.assert_array_equal(res.payload["group"], [[2, 3, 4, 0, 0]])
  assert np.isinf(res.distances[0, 3:]).all()


# ----------------------------------------------------------------- storage ---


def test_payload_is_memory_mapped_and_read_back(stores, queries):
  index = ann.open(stores["hnsw"])
  assert isinstance(index.keys, np.memmap)
  assert all(isinstance(a, np.memmap) for a in index.payload.values())
  assert set(index.payload) == {"group", "tag", "flag"}
  res = index.search(queries[:10], 8)
  expected = _payload(0, N)
  for name in ("group", "tag", "flag"):
    np.testing.assert_array_equal(res.payload[name], expected[name][res.ids])
  assert res.payload["tag"].shape == (10, 8, 3)
  assert res.payload["tag"].dtype == np.int16
  memory = index.memory()
  assert memory.payload == N * (8 + 6 + 1) and memory.keys == N * D * 4
  assert memory.index > N * D * 4  # HNSW holds the vectors plus links
  assert memory.total == memory.index + memory.payload


def test_manifest_records_the_layout(stores):
  manifest = json.loads((stores["ivfpq"] / ann.MANIFEST).read_text())
  assert manifest["format"] == ann.FORMAT and manifest["version"] == ann.VERSION
  assert manifest["dim"] == D and manifest["num_entries"] == N
  assert manifest["fields"]["tag"] == {"dtype": "<i2", "shape": [3]}
  assert manifest["config"]["ivfpq"]["nlist"] == 64


# ------------------------------------------------------------------ errors ---


def test_bad_inputs_raise_clear_errors(stores, tmp_path):
  index = ann.open(stores["exact"])
  with pytest.raises(ValueError, match="dimension 16; the index has 32"):
    index.search(np.zeros((2, 16), np.float32), 4)
  with pytest.raises(ValueError, match="floating point"):
    index.search(np.zeros((2, D), np.int32), 4)
  with pytest.raises(ValueError, match="k must be a positive integer"):
    index.search(np.zeros((2, D), np.float32), 0)
  with pytest.raises(ValueError, match="exclude_groups must be \\[Q=2\\]"):
    index.search(np.zeros((2, D), np.float32), 4, exclude_groups=np.zeros(3, int))
  with pytest.raises(ValueError, match="NaN"):
    index.search(np.full((1, D), np.nan, np.float32), 4)
  directory = tmp_path / "s"
  shutil.copytree(stores["exact"], directory)
  good = _payload(N, 2)
  with pytest.raises(ValueError, match="'tag' is int32 \\[3\\] per entry; the "
                     "index stores int16 \\[3\\]"):
    ann.add(directory, np.zeros((2, D)), {**good, "tag": good["tag"].astype(np.int32)})
  with pytest.raises(ValueError, match="'tag' is int16 \\[2\\]"):
    ann.add(directory, np.zeros((2, D)), {**good, "tag": good["tag"][:, :2]})
  with pytest.raises(ValueError, match="missing \\['flag'\\]"):
    ann.add(directory, np.zeros((2, D)), {"group": good["group"], "tag": good["tag"]})
  with pytest.raises(ValueError, match="'group' field"):
    ann.add(directory, np.zeros((2, D)), {"tag": good["tag"], "flag": good["flag"]})
  with pytest.raises(ValueError, match="first dimension must be the number of keys 3"):
    ann.add(directory, np.zeros((3, D)), good)
  with pytest.raises(ValueError, match="dimension 31"):
    ann.add(directory, np.zeros((2, 31)), good)
  assert ann.open(directory).num_entries == N  # nothing half-added
  with pytest.raises(ValueError, match="exists; pass overwrite=True"):
    _build(directory, np.zeros((10, D), np.float32), _config("exact"))
  with pytest.raises(ValueError, match="different numbers of batches"):
    ann.build(tmp_path / "t", [np.zeros((2, D))] * 2, [good], progress=False)
  with pytest.raises(ValueError, match="batch 1: keys have dimension 8"):
    ann.build(tmp_path / "t", [np.zeros((2, D)), np.zeros((2, 8))], [good] * 2,
              progress=False)
  with pytest.raises(ValueError, match="backend must be one of"):
    ann.IndexConfig(backend="annoy")
  with pytest.raises(ValueError, match="HNSWParams.m must be > 0"):
    ann.IndexConfig(hnsw=ann.HNSWParams(m=0))
  with pytest.raises(ValueError, match="pq_m=5 must divide the key dimension 32"):
    _build(tmp_path / "u", np.zeros((500, D), np.float32), ann.IndexConfig(
        backend="ivfpq", ivfpq=ann.IVFPQParams(nlist=4, pq_m=5)))


def test_damaged_directories_raise_clear_errors(stores, tmp_path):
  with pytest.raises(ValueError, match="no index directory"):
    ann.open(tmp_path / "missing")
  (tmp_path / "empty").mkdir()
  with pytest.raises(ValueError, match="not an index directory: no manifest"):
    ann.open(tmp_path / "empty")
  cases = {
      "json": lambda d: (d / ann.MANIFEST).write_text("{not json"),
      "column": lambda d: os.truncate(d / "payload" / "tag.bin", 100),
      "index": lambda d: next(d.glob("index-*")).unlink(),
      "garbled": lambda d: next(d.glob("index-*")).write_bytes(b"garbage" * 10),
      "count": lambda d: (d / ann.MANIFEST).write_text(json.dumps(
          {**json.loads((d / ann.MANIFEST).read_text()), "num_entries": N - 1})),
  }
  messages = {"json": "corrupt manifest", "column": "tag.bin has 100 bytes",
              "index": "index-000000.faiss is missing",
              "garbled": "corrupt index", "count": "the index holds 20000 "
              "entries, the manifest says 19999"}
  for name, damage in cases.items():
    directory = tmp_path / name
    shutil.copytree(stores["exact"], directory)
    damage(directory)
    with pytest.raises(ValueError, match=messages[name]):
      ann.open(directory)
