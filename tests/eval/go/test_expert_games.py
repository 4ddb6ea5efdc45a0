"""Expert games from GNU Go self-play: the SGF written, the openings, the
results, resuming, argument checks and reading the games back.

Four games at level 1 on 7x7, two per shard, are generated once for the
module with two workers, and once more with one (which must give the same
bytes: a game depends on its index alone).
"""

import json
import lzma
import math
import os
import pathlib
import shutil

import numpy as np
import pytest
from sgfmill import boards, sgf

from eval.go import expert_games, gtp_client
from games.go import coords

HAVE_GNUGO = bool(shutil.which("gnugo")) or os.access(
    gtp_client.GNUGO_FALLBACK_PATH, os.X_OK)
pytestmark = pytest.mark.skipif(
    not HAVE_GNUGO, reason="GNU Go is not installed (apt-get install gnugo)")

N = 7
ARGS = dict(num_games=4, level=1, seed=3, opening_moves=(2, 5), board_size=N,
            komi=7.5, games_per_shard=2, progress=False)
SHARDS = ("games-level1-seed3-00000.sgf.xz", "games-level1-seed3-00001.sgf.xz")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> pathlib.Path:
  path = tmp_path_factory.mktemp("games")
  summary = expert_games.generate(path, workers=2, **ARGS)
  assert (summary.games, summary.shards_written, summary.shards_skipped) == (
      4, 2, 0)
  return path


def _lines(out: pathlib.Path) -> list[str]:
  return [line for name in SHARDS
          for line in lzma.decompress((out / name).read_bytes()).decode()
          .splitlines()]


def _games(out: pathlib.Path) -> list[sgf.Sgf_game]:
  return [sgf.Sgf_game.from_string(line) for line in _lines(out)]


def _moves(game: sgf.Sgf_game) -> list[tuple[str, tuple[int, int] | None]]:
  return [node.get_move() for node in game.get_main_sequence()[1:]]


def test_shards_hold_one_sgf_game_per_line_with_its_properties(out):
  assert sorted(p.name for p in out.iterdir()) == sorted(
      [*SHARDS, "manifest.json"])
  games = _games(out)
  assert len(games) == 4
  for i, game in enumerate(games):
    root = game.get_root()
    assert game.get_size() == N and game.get_komi() == 7.5
    assert root.get("GN") == f"gnugo-level1-seed3-{i:07d}"
    assert root.get("RU") == "Tromp-Taylor"
    assert root.get("PB") == root.get("PW") == "GNU Go 3.8 level 1"
    moves = _moves(game)
    assert [c for c, _ in moves] == ["b", "w"] * (len(moves) // 2) + (
        ["b"] if len(moves) % 2 else [])
    if "ended: passes" in root.get("GC"):
      assert moves[-1][1] is None and moves[-2][1] is None
    else:  # The player to move resigned; the other one won.
      assert "ended: resign" in root.get("GC")
      assert root.get("RE") == f"{moves[-1][0].upper()}+R"
      assert moves[-1][1] is not None
  endings = [g.get_root().get("GC").split("ended: ")[1].split(";")[0]
             for g in games]
  # Seed 3 has GNU Go resign one game, so that path is checked too.
  assert set(endings) == {"passes"}  # --never-resign: every game scored.


def test_openings_are_random_moves_off_the_first_two_lines(out):
  openings = []
  for game in _games(out):
    k = int(game.get_root().get("GC").split("opening: ")[1].split()[0])
    assert 2 <= k <= 5
    nodes = game.get_main_sequence()[1:]
    marked = [n.has_property("C") and n.get("C") == "random opening move"
              for n in nodes]
    assert marked == [True] * k + [False] * (len(nodes) - k)
    opening = [move for _, move in _moves(game)[:k]]
    assert all(2 <= r < N - 2 and 2 <= c < N - 2 for r, c in opening)
    openings.append(tuple(opening))
  assert len(set(openings)) == 4
  assert len({len(o) for o in openings}) > 1


def test_re_is_gnu_gos_final_score_and_the_area_score_of_the_end(out):
  argv = gtp_client.gnugo_argv(1, extra=expert_games.GNUGO_OPTIONS)
  with gtp_client.GTPEngine(argv, timeout_s=30) as engine:
    for game in _games(out):
      engine.send(f"boardsize {N}")
      engine.send("clear_board")
      engine.send("komi 7.5")
      board = boards.Board(N)
      for colour, move in _moves(game):
        if move is not None:
          engine.send(f"play {colour} {coords.to_gtp(coords.from_sgfmill(move, N), N)}")
          board.play(*move, colour)
      result = game.get_root().get("RE")
      if result.endswith("+R"):
        continue  # a resignation: no score
      assert result == engine.send("final_score")
      # Every dead stone was captured, so the Tromp-Taylor area score of the
      # final board, less komi, is the result.
      score = board.area_score() - 7.5
      assert result == (f"B+{score:g}" if score > 0 else f"W+{-score:g}")


def test_read_games_gives_the_actions_back(out):
  records = list(expert_games.read_games(out))
  assert len(records) == 4
  for record, game in zip(records, _games(out)):
    assert record.game_id == game.get_root().get("GN")
    assert (record.board_size, record.komi) == (N, 7.5)
    assert record.actions.dtype == np.int32
    assert record.actions.tolist() == [coords.from_sgfmill(m, N)
                                       for _, m in _moves(game)]
    assert record.ended in ("passes", "resign")
    if record.ended == "passes":
      assert record.actions[-1] == record.actions[-2] == N * N
    assert f"opening: {record.num_opening_moves} random" in game.get_root(
    ).get("GC")
    result = game.get_root().get("RE")
    score = math.inf if result.endswith("+R") else float(result[2:])
    assert record.black_score == (score if result[0] == "B" else -score)
  files = [out / name for name in reversed(SHARDS)]
  assert [r.game_id for r in expert_games.read_games(files)] == [
      r.game_id for r in records[2:] + records[:2]]


def test_a_game_is_reproducible_from_its_index_alone(out, tmp_path):
  """One worker instead of two, and a shard made again, give the same bytes."""
  summary = expert_games.generate(tmp_path, workers=1, **ARGS)
  assert summary.games == 4 and summary.states > 0
  for name in SHARDS:
    assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_rerun_skips_complete_shards_and_remakes_missing_ones(out, tmp_path):
  for name in [*SHARDS, "manifest.json"]:
    shutil.copy2(out / name, tmp_path / name)
  before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
  summary = expert_games.generate(tmp_path, workers=2, **ARGS)
  assert (summary.games, summary.states, summary.shards_skipped) == (0, 0, 2)
  assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
  (tmp_path / SHARDS[1]).unlink()
  summary = expert_games.generate(tmp_path, workers=1, **ARGS)
  assert (summary.games, summary.shards_written, summary.shards_skipped) == (
      2, 1, 1)
  assert (tmp_path / SHARDS[0]).stat().st_mtime_ns == before[SHARDS[0]]
  assert (tmp_path / SHARDS[1]).read_bytes() == (out / SHARDS[1]).read_bytes()
  assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_more_games_extend_a_directory_and_remake_its_short_shard(
    out, tmp_path):
  expert_games.generate(tmp_path, workers=1, **{**ARGS, "num_games": 3})
  first = (tmp_path / SHARDS[0]).stat().st_mtime_ns
  summary = expert_games.generate(tmp_path, workers=1, **ARGS)  # 4 games.
  assert (summary.games, summary.shards_written, summary.shards_skipped) == (
      2, 1, 1)
  assert (tmp_path / SHARDS[0]).stat().st_mtime_ns == first
  for name in SHARDS:  # The same games as a 4-game run from scratch.
    assert (tmp_path / name).read_bytes() == (out / name).read_bytes()
  assert json.loads((tmp_path / "manifest.json").read_text())[
      "num_games"] == 4
  # A smaller count afterwards plays nothing and keeps every game.
  summary = expert_games.generate(tmp_path, workers=1, **{**ARGS,
                                                         "num_games": 2})
  assert (summary.games, summary.shards_skipped) == (0, 2)


def test_a_directory_begun_without_superko_goes_on_without_it(out, tmp_path):
  manifest = json.loads((out / "manifest.json").read_text())
  assert manifest["engine_options"] == list(expert_games.GNUGO_OPTIONS)
  assert "--positional-superko" in manifest["engine_options"]
  # A directory whose manifest names the legacy options (the committed
  # games' directories) is resumed with them, not refused.
  expert_games.generate(tmp_path, workers=1, **{**ARGS, "num_games": 2})
  path = tmp_path / "manifest.json"
  legacy = {**json.loads(path.read_text()),
            "engine_options": list(expert_games.LEGACY_GNUGO_OPTIONS)}
  path.write_text(json.dumps(legacy))
  summary = expert_games.generate(tmp_path, workers=1, **ARGS)
  assert summary.games == 2
  assert json.loads(path.read_text())["engine_options"] == list(
      expert_games.LEGACY_GNUGO_OPTIONS)


@pytest.mark.parametrize("change,message", [
    (dict(level=2), "level 1 there, 2 now"),
    (dict(opening_moves=(1, 5)), r"opening_moves \[2, 5\] there, \[1, 5\] now"),
    (dict(komi=6.5, seed=4), "seed 3 there, 4 now; .*komi 7.5 there, 6.5 now"),
])
def test_other_arguments_into_the_same_directory_are_an_error(
    out, change, message):
  with pytest.raises(ValueError, match="holds games generated with other "
                     f"arguments .*{message}"):
    expert_games.generate(out, workers=1, **{**ARGS, **change})


@pytest.mark.parametrize("change,message", [
    (dict(board_size=5), "5x5 board has 1 point off the first two lines"),
    (dict(opening_moves=(3, 2)), "0 <= low <= high"),
    (dict(opening_moves=(1, 2, 3)), "opening_moves must be two integers"),
    (dict(num_games=0), "num_games must be an integer >= 1"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(board_size=21), "GNU Go plays boards up to 19x19"),
    (dict(max_moves=5), r"max_moves \(5\) must exceed"),
    (dict(workers=0), "workers must be an integer >= 1"),
    (dict(level=11), "level must be an integer from 0 to 10"),
])
def test_bad_arguments_are_refused_before_anything_is_written(
    tmp_path, change, message):
  with pytest.raises(ValueError, match=message):
    expert_games.generate(tmp_path / "d", **{**ARGS, "workers": 1, **change})
  assert not (tmp_path / "d").exists()


def test_a_game_stopped_at_max_moves_says_so(tmp_path):
  expert_games.generate(tmp_path, **{**ARGS, "num_games": 1, "workers": 1,
                                     "max_moves": 8})
  (record,) = expert_games.read_games(tmp_path)
  assert record.ended == "max_moves" and len(record.actions) == 8
  assert math.isfinite(record.black_score)  # GNU Go's score of the position
