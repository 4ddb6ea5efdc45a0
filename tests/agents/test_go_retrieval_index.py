"""Retrieval for the Go agent: the index, neighbours, growth, training and
play with neighbours."""

from __future__ import annotations

import io
import json
import lzma
import shutil
import types

import jax
import numpy as np
import pytest

from agents.core import ann, columns
from agents.go_retrieval import data as data_lib
from agents.go_retrieval import actor, retrieval
from arena import cli
from eval.go import gtp_server, index_cache, network_player
from eval.go import positions as positions_lib
from games.go import coords, symmetry
from games.go import env as go_env
from tests.eval.go.random_games import write_random_games


@pytest.fixture(scope="module")
def setup(go_positions, go_run, tmp_path_factory):
  """A directory with `games`, `positions`, `key` (the key network) and
  `index`."""
  root = tmp_path_factory.mktemp("retrieval")
  (root / "positions").symlink_to(go_positions)
  (root / "games").symlink_to(go_positions.parent / "games")
  (root / "key").symlink_to(go_run)
  assert cli.main(["go", "index", "--key", str(go_run), "--positions",
                   str(go_positions), "--out", str(root / "index"),
                   "--symmetries", "2", "--no-progress"]) == 0
  return root


def test_the_index_holds_each_retrieval_position_under_each_symmetry(setup):
  data = data_lib.PositionData(setup / "positions")
  index = ann.open(setup / "index")
  rows = data.rows["retrieval"]
  assert index.num_entries == 2 * len(rows)
  payload = index.gather(np.arange(index.num_entries))
  assert sorted(payload["row"][payload["symmetry"] == 0]) == sorted(rows)
  # An entry's board is its position's, from its mover's side, moved by
  # its symmetry.
  for e in (0, index.num_entries - 1):
    row, s = int(payload["row"][e]), int(payload["symmetry"][e])
    b = data.batch(np.array([row]))
    mover = 1 if b["player"][0] == 0 else -1
    np.testing.assert_array_equal(
        payload["board"][e],
        symmetry.transform_points(b["board"][0] * mover, s, 9))
  meta = retrieval.read_meta(setup / "index")
  assert meta["symmetries"] == 2 and meta["games"]


def test_no_position_gets_a_neighbour_from_its_own_game(setup, tmp_path):
  # Positions of the retrieval split itself query the index: their own
  # game's entries are the nearest, and must never come back.
  retrieval.neighbour_table(setup / "index", setup / "positions",
                            tmp_path / "own", k=6, splits=("retrieval",),
                            progress=False)
  table = columns.read_columns(tmp_path / "own")
  data = data_lib.PositionData(setup / "positions")
  index = ann.open(setup / "index")
  games = np.asarray(data.arrays["game"])[np.asarray(table.arrays["row"])]
  own = np.array([retrieval.game_group(data.meta["games"][g])
                  for g in games])
  got = index.gather(np.asarray(table.arrays["ids"]))["group"]
  assert (np.asarray(table.arrays["ids"]) >= 0).all()
  assert not (got == own[:, None]).any()


def test_random_neighbours_come_with_their_true_distances(setup, tmp_path):
  retrieval.neighbour_table(setup / "index", setup / "positions",
                            tmp_path / "rnd", k=5, source="random",
                            progress=False)
  table = columns.read_columns(tmp_path / "rnd")
  index = ann.open(setup / "index")
  key_net = retrieval.KeyNetwork(str(setup / "key"))
  data = data_lib.PositionData(setup / "positions")
  rows = np.asarray(table.arrays["row"])[:7]
  keys = key_net.keys(data.batch(rows))
  ids = np.asarray(table.arrays["ids"])[:7]
  want = np.sum(np.square(np.asarray(index.keys)[ids] - keys[:, None]), -1)
  np.testing.assert_allclose(table.arrays["distances"][:7], want,
                             rtol=1e-4, atol=1e-6)
  assert len(np.unique(ids)) > 20  # Spread over the index.


def test_games_are_added_without_rebuilding(setup, tmp_path):
  shutil.copytree(setup / "index", tmp_path / "index")
  write_random_games(tmp_path / "more", 30, seed=7, num_moves=30)
  positions_lib.build_positions([setup / "games", tmp_path / "more"],
                                tmp_path / "positions", progress=False)
  before = ann.open(tmp_path / "index")
  old = before.num_entries
  old_keys = np.array(before.keys)
  games, entries = retrieval.add_new_games(tmp_path / "index",
                                           tmp_path / "positions")
  after = ann.open(tmp_path / "index")
  assert games > 0 and after.num_entries == old + entries
  np.testing.assert_array_equal(np.asarray(after.keys[:old]), old_keys)
  # A new entry's own key finds it.
  new_key = np.asarray(after.keys[old:old + 1])
  found = after.search(new_key, 1)
  assert np.isclose(found.distances[0, 0], 0.0, atol=1e-6)
  assert len(retrieval.read_meta(tmp_path / "index")["games"]) == len(
      retrieval.read_meta(setup / "index")["games"]) + games
  assert retrieval.add_new_games(tmp_path / "index",
                                 tmp_path / "positions") == (0, 0)


def test_neighbours_move_with_their_query(setup, tmp_path):
  retrieval.neighbour_table(setup / "index", setup / "positions",
                            tmp_path / "nb", k=4, progress=False)
  data = data_lib.NeighbourData(setup / "positions", tmp_path / "nb",
                                setup / "index", k=3, next_moves=2)
  rows = data.rows["train"][:5]
  plain = data.batch(rows)
  for s in (1, 5):
    moved = data.batch(rows, np.full(5, s))
    np.testing.assert_array_equal(
        moved["nb_boards"][2, 1],
        symmetry.transform_points(plain["nb_boards"][2, 1], s, 9))
    np.testing.assert_array_equal(
        moved["nb_next_moves"],
        np.where(plain["nb_next_moves"] < 0, -1, symmetry.transform_actions(
            np.maximum(plain["nb_next_moves"], 0), s, 9)))
    np.testing.assert_array_equal(moved["nb_outcomes"], plain["nb_outcomes"])


@pytest.fixture(scope="module")
def retrieval_run(setup, tmp_path_factory):
  """A retrieval network (K = 4) trained 4 steps with `setup`'s index."""
  root = tmp_path_factory.mktemp("retrieval_run")
  assert cli.main(["go", "neighbours", "--index", str(setup / "index"),
                   "--positions", str(setup / "positions"), "--out",
                   str(root / "nb"), "--k", "4", "--no-progress"]) == 0
  assert cli.main([
      "train", "go9_smoke", "--out", str(root / "run"), "--steps", "4",
      "--no-progress", "--set", f"data.positions={setup / 'positions'}",
      "--set", "agent.retrieval.num_neighbours=4",
      "--set", f"agent.retrieval.index={setup / 'index'}",
      "--set", f"agent.retrieval.neighbours={root / 'nb'}"]) == 0
  return root / "run"


def _two_moves(player) -> None:
  """Asserts that `player` answers two genmoves over GTP with moves."""
  out = io.StringIO()
  gtp_server.GTPServer(player).serve(
      io.StringIO("clear_board\ngenmove b\ngenmove w\nquit\n"), out)
  replies = [r for r in out.getvalue().split("\n\n") if r]
  for reply in replies[1:3]:
    assert reply.startswith("= ")
    coords.from_gtp(reply[2:], 9)


def test_a_retrieval_network_trains_and_plays_with_its_index(retrieval_run):
  _two_moves(network_player.NetworkPlayer(str(retrieval_run), simulations=8))


def test_a_search_retrieves_at_every_node_it_expands(retrieval_run):
  player = network_player.NetworkPlayer(str(retrieval_run), simulations=8)
  retriever = player._retriever  # pylint: disable=protected-access
  game = go_env.make_go(9)
  root = go_env.jit_step(game, game.init(jax.random.key(0)), 40)
  batch = jax.tree.map(lambda x: x[None], root)
  fields = dict(board=np.asarray(batch.board),
                player=np.asarray(batch.current_player, np.int8),
                superko=np.asarray(batch.analysis.superko),
                last_move=np.asarray(batch.last_move))
  # In the program, the same keys and neighbours as on the host.
  k, m = player._k, player._m  # pylint: disable=protected-access
  params, retrieve = retrieval.in_graph(retriever, k, m)
  inside = jax.jit(retrieve)(params, batch)
  outside = retriever.neighbours(fields, k, m)
  for a, b in zip(inside, outside):
    np.testing.assert_allclose(np.asarray(a), b, atol=1e-5)
  # One index search per simulation, each for a child position, not the
  # root.
  asked = []
  search_index = retriever.neighbours

  def counting(batch, k, m, exclude_games=None, keys=None):
    asked.append(np.array(keys))
    return search_index(batch, k, m, exclude_games, keys)

  retriever.neighbours = counting
  search = actor.make_search(game, player._nets, 8, retrieve=retrieve)  # pylint: disable=protected-access
  out = search(player._params, batch, outside, jax.random.key(1), params)  # pylint: disable=protected-access
  out.action.block_until_ready()
  assert len(asked) == 8
  root_key = retriever.key_net.keys(fields)
  assert all(not np.allclose(k, root_key, atol=1e-5) for k in asked)


def test_where_a_search_retrieves_is_checked(retrieval_run):
  with pytest.raises(ValueError, match="retrieve_at must be one of"):
    network_player.NetworkPlayer(str(retrieval_run), retrieve_at="leaf")
  _two_moves(network_player.NetworkPlayer(str(retrieval_run), simulations=8,
                                          retrieve_at="root"))


def _without_its_index(run, tmp_path):
  """A copy of `run` whose config names an index that is not there."""
  copy = tmp_path / "run"
  shutil.copytree(run, copy)
  config = json.loads((copy / "config.json").read_text())
  config["config"]["agent"]["retrieval"]["index"] = str(tmp_path / "gone")
  (copy / "config.json").write_text(json.dumps(config))
  return copy


def test_an_agent_without_its_index_builds_it_once_from_its_recipe(
    setup, retrieval_run, tmp_path, monkeypatch, capsys):
  """A shipped agent's index: built on first use, reused, grown."""
  monkeypatch.setenv("ARENA_CACHE_DIR", str(tmp_path / "cache"))
  run = _without_its_index(retrieval_run, tmp_path)
  with pytest.raises(ValueError, match="no index recipe"):
    network_player.NetworkPlayer(str(run), simulations=8)

  shutil.copytree(setup / "games", tmp_path / "games")
  (tmp_path / "bundles").mkdir()
  run = index_cache.bundle(retrieval_run, "r", index_cache.Recipe(
      key=str(setup / "key"), games=str(tmp_path / "games"), symmetries=2),
                           dest=tmp_path / "bundles")
  saved = json.loads((run / "config.json").read_text())["config"]
  assert saved["agent"]["retrieval"]["index"] == ""
  assert cli.main(["go", "index", "--agent", str(run), "--no-progress"]) == 0
  built = index_cache.cache_dir(run, index_cache.read_recipe(run)) / "index"
  assert "entries ready" in capsys.readouterr().out
  # The same entries as the index the network was trained with.
  ours, theirs = ann.open(built), ann.open(setup / "index")
  assert ours.num_entries == theirs.num_entries
  np.testing.assert_allclose(np.sort(np.asarray(ours.keys), axis=0),
                             np.sort(np.asarray(theirs.keys), axis=0),
                             atol=1e-5)
  # Reused, not rebuilt.
  manifest = sorted((p.name, p.stat().st_mtime_ns) for p in built.iterdir())
  assert index_cache.index_for(run, progress=False) == built
  assert sorted((p.name, p.stat().st_mtime_ns)
                for p in built.iterdir()) == manifest
  # New games are added to it, the old entries kept.
  write_random_games(tmp_path / "games" / "more", 30, seed=8, num_moves=30)
  player = network_player.NetworkPlayer(str(run), simulations=8)
  grown = ann.open(built)
  assert grown.num_entries > ours.num_entries
  np.testing.assert_array_equal(
      np.asarray(grown.keys[:ours.num_entries]), np.asarray(ours.keys))
  # The building talks on stderr: stdout stays the GTP channel.
  captured = capsys.readouterr()
  assert "added" in captured.err and "added" not in captured.out
  _two_moves(player)


def test_a_bad_recipe_is_a_one_line_error(retrieval_run, tmp_path, capsys):
  run = _without_its_index(retrieval_run, tmp_path)
  (run / index_cache.RECIPE_FILE).write_text('{"key": "k", "symmetries": 9}')
  assert cli.main(["go", "index", "--agent", str(run)]) == 2
  assert "symmetries must be 1..8" in capsys.readouterr().err
  (run / index_cache.RECIPE_FILE).write_text('{"key": "k", "max_games": -1}')
  assert cli.main(["go", "index", "--agent", str(run)]) == 2
  assert "max_games must be an integer >= 0" in capsys.readouterr().err


def test_a_pinned_recipe_indexes_its_first_games_and_no_later_ones(
    tmp_path, monkeypatch, capsys):
  """With max_games, the first files (path order) holding at least that
  many games are replayed and indexed; games shipped later are not."""
  monkeypatch.setenv("ARENA_CACHE_DIR", str(tmp_path / "cache"))
  games = tmp_path / "games"

  def write_games(seed):  # three empty games (records are counted, not read)
    (games / f"run{seed}").mkdir(parents=True)
    (games / f"run{seed}" / f"games-{seed}.sgf.xz").write_bytes(lzma.compress(
        "".join(f"(;GM[1]SZ[9]KM[7.5]GN[g{seed}-{i}])\n\n"
                for i in range(3)).encode()))

  for seed in range(3):  # run0, run1, run2
    write_games(seed)
  replayed = []

  def replay(sources, out_dir, progress):
    del out_dir, progress
    replayed.append(sorted(str(p.relative_to(games)) for p in sources))
    return types.SimpleNamespace(meta={})  # a store without skipped games

  def build(key, positions, out, **kwargs):
    del key, positions, kwargs
    out.mkdir(parents=True)
    (out / retrieval.META_FILE).write_text("{}")

  monkeypatch.setattr(positions_lib, "build_positions", replay)
  monkeypatch.setattr(retrieval, "build_index", build)
  for max_games, files in [(3, ["run0"]), (4, ["run0", "run1"]),
                           (0, ["run0", "run1", "run2"])]:
    run = tmp_path / f"pinned{max_games}"
    run.mkdir()
    index_cache.write_recipe(run, index_cache.Recipe(
        key="k", games=str(games), max_games=max_games))
    replayed.clear()
    index_cache.index_for(run, progress=False)
    assert replayed == [[f"{f}/games-{f[3:]}.sgf.xz" for f in files]]
    if max_games:
      assert f"the first {max_games} expert games" in capsys.readouterr().err
  # More games after the pinned ones: the index is neither rebuilt nor grown.
  write_games(3)
  replayed.clear()
  index_cache.index_for(tmp_path / "pinned4", progress=False)
  assert not replayed


def test_a_retrieval_network_needs_its_tables(setup, tmp_path, capsys):
  code = cli.main([
      "train", "go9_smoke", "--out", str(tmp_path / "run"), "--no-progress",
      "--set", f"data.positions={setup / 'positions'}",
      "--set", "agent.retrieval.num_neighbours=4"])
  assert code == 2
  assert "trains with agent.retrieval.index" in capsys.readouterr().err
