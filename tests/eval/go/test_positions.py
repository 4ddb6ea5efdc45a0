"""Expert positions: the rows, splits by game, and the column store."""

from __future__ import annotations

import lzma

import numpy as np
import pytest

from agents.core import columns
from eval.go import positions
from games.go import replay
from tests.eval.go.random_games import write_random_games


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  root = tmp_path_factory.mktemp("positions")
  played = write_random_games(root / "games", 30, seed=0, num_moves=50)
  store = positions.build_positions(root / "games", root / "store",
                                    next_moves=4, progress=False)
  return root, played, store


def test_rows_are_the_positions_after_the_opening_with_what_followed(built):
  _, played, store = built
  a, meta = store.arrays, store.meta
  assert store.num_rows == sum(len(p) - 2 for p in played)
  assert meta["games"] == [f"random-0-{i}" for i in range(30)]
  for g, actions in enumerate(played):
    rows = np.flatnonzero(a["game"] == g)
    ref = replay.replay(actions[None], board_size=9)
    np.testing.assert_array_equal(a["move_number"][rows],
                                  np.arange(2, len(actions)))
    np.testing.assert_array_equal(a["board"][rows],
                                  ref.boards[0, 2:len(actions)])
    np.testing.assert_array_equal(a["next_moves"][rows[0]], actions[2:6])
    np.testing.assert_array_equal(a["next_moves"][rows[-1]],
                                  [actions[-1], -1, -1, -1])
    np.testing.assert_array_equal(a["last_move"][rows[0]], actions[1])
    black = np.sign(ref.scores[0])
    side = np.where(a["player"][rows] == 0, 1, -1)
    np.testing.assert_array_equal(a["outcome"][rows], black * side)
    assert len(set(a["split"][rows].tolist())) == 1  # One split per game.


def test_a_game_keeps_its_split_when_games_are_added(built, tmp_path):
  root, _, store = built
  write_random_games(tmp_path / "more", 20, seed=1, num_moves=20)
  bigger = positions.build_positions([root / "games", tmp_path / "more"],
                                     tmp_path / "store", progress=False)
  fractions = positions.SplitFractions()
  for store_ in (store, bigger):
    ids = store_.meta["games"]
    splits = store_.arrays["split"]
    games = store_.arrays["game"]
    for g, name in enumerate(ids):
      assert (splits[games == g] == fractions.of(name)).all()
  assert sum(store.meta["games_per_split"].values()) == 30
  assert sum(bigger.meta["games_per_split"].values()) == 50
  assert min(bigger.meta["games_per_split"].values()) > 0


def test_a_game_with_an_illegal_move_is_left_out_and_named(tmp_path):
  # Move 2 of the first game is on an occupied point; the second is legal.
  bad = "(;GM[1]FF[4]SZ[9]KM[7.5]GN[bad-game];B[ee];W[ee])"
  good = "(;GM[1]FF[4]SZ[9]KM[7.5]GN[good-game];B[ee];W[cc];B[tt];W[tt])"
  (tmp_path / "g.sgf.xz").write_bytes(
      lzma.compress((bad + "\n" + good + "\n").encode()))
  store = positions.build_positions(tmp_path, tmp_path / "store",
                                    progress=False)
  assert store.meta["skipped_games"] == {
      "bad-game": "move 2 (E5) is illegal"}
  assert store.num_rows == 4  # the good game's positions only
  assert set(np.asarray(store.arrays["game"]).tolist()) == {1}
  assert sum(store.meta["games_per_split"].values()) == 1
  assert "bad-game: move 2 (E5) is illegal" in positions.skipped_message(
      store.meta)
  # Only illegal games: nothing to store.
  (tmp_path / "g.sgf.xz").write_bytes(lzma.compress((bad + "\n").encode()))
  with pytest.raises(ValueError, match="game bad-game: move 2"):
    positions.build_positions(tmp_path, tmp_path / "store2", progress=False)
  assert not (tmp_path / "store2").exists()


def test_split_fractions_are_checked():
  with pytest.raises(ValueError, match="sum to 1"):
    positions.SplitFractions(train=0.5, retrieval=0.5, test=0.5)


def test_a_failed_write_leaves_the_old_store(tmp_path, monkeypatch):
  columns.write_columns(tmp_path / "s", {"x": np.arange(3)}, {"v": 1})

  def broken(path, array):
    raise OSError("disk full")

  monkeypatch.setattr(np, "save", broken)
  with pytest.raises(OSError, match="disk full"):
    columns.write_columns(tmp_path / "s", {"x": np.arange(5)})
  monkeypatch.undo()
  store = columns.read_columns(tmp_path / "s")
  assert isinstance(store.arrays["x"], np.memmap)
  np.testing.assert_array_equal(store.arrays["x"], [0, 1, 2])
  assert store.meta == {"v": 1}
  assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_bad_stores_get_clear_errors(tmp_path):
  with pytest.raises(ValueError, match="not a column store"):
    columns.read_columns(tmp_path)
  with pytest.raises(ValueError, match="different lengths"):
    columns.write_columns(tmp_path / "s", {"a": np.zeros(2), "b": np.zeros(3)})
  columns.write_columns(tmp_path / "s", {"a": np.zeros((2, 3))})
  np.save(tmp_path / "s" / "a.npy", np.zeros((2, 4)))
  with pytest.raises(ValueError, match="column 'a' is float64\\[2, 4\\]"):
    columns.read_columns(tmp_path / "s")
