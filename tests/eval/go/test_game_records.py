"""Game records: SGF games one per line, read back as action ids; results;
malformed records and files."""

import lzma
import math
import pathlib

import pytest

from eval.go import game_records
from games.go import coords


@pytest.mark.parametrize("text,score", [
    ("B+3.5", 3.5), ("W+12", -12.0), ("B+R", math.inf), ("W+Resign", -math.inf),
    ("W+T", -math.inf), ("B+", math.inf), ("0", 0.0), ("Draw", 0.0),
])
def test_parse_result_gives_blacks_score(text, score):
  assert game_records.parse_result(text) == score


def test_parse_result_of_no_result_is_nan_and_of_junk_an_error():
  assert math.isnan(game_records.parse_result("?"))
  assert math.isnan(game_records.parse_result("Void"))
  for bad in ("B+x", "X+3", "W+-2", "B+inf", "3.5"):
    with pytest.raises(ValueError, match="is not a result"):
      game_records.parse_result(bad)


def test_game_comment_is_what_the_reader_parses(tmp_path):
  gc = game_records.game_comment(3, "max_moves", 42)
  assert gc == "opening: 3 random moves; ended: max_moves; gnugo seed: 42"
  with pytest.raises(ValueError, match="ended must be one of"):
    game_records.game_comment(3, "timeout", 42)
  path = _write(tmp_path / "g.sgf",
                f"(;GM[1]SZ[5]GN[g7]GC[{gc}];B[cc];W[bb];B[dd];W[])")
  (record,) = game_records.read_games(path)
  assert (record.game_id, record.num_opening_moves, record.ended) == (
      "g7", 3, "max_moves")


def _write(path: pathlib.Path, *lines: str) -> pathlib.Path:
  path.write_text("".join(line + "\n" for line in lines))
  return path


GOOD = "(;GM[1]SZ[5]KM[0.5]RE[W+R];B[cc];W[bb];B[];W[dd])"


def test_results_of_every_kind_and_foreign_games_are_read(tmp_path):
  results = {"W+R": -math.inf, "B+3.5": 3.5, "W+12": -12.0, "0": 0.0,
             "B+T": math.inf}
  path = _write(tmp_path / "x.sgf",
                *[GOOD.replace("W+R", r) for r in results],
                "(;GM[1]SZ[5];B[cc])")
  records = list(game_records.read_games(path))
  assert [r.black_score for r in records[:-1]] == list(results.values())
  assert math.isnan(records[-1].black_score)  # no RE
  # SGF "cc", "bb", pass, "dd" on 5x5 (columns from the left, rows from the
  # top) are C3, B4, pass, D2 in GTP.
  assert records[0].actions.tolist() == [
      coords.from_gtp(v, 5) for v in ("C3", "B4", "pass", "D2")]
  assert (records[0].game_id, records[0].num_opening_moves,
          records[0].ended) == ("x.sgf:1", 0, "unknown")


@pytest.mark.parametrize("bad,message", [
    ("(;GM[1]SZ[5]GC[opening: 3 random moves; ended: passes];B[cc])",
     "GC says 3 opening moves, the game has 1 moves"),
    ("(;GM[1]SZ[5];B[cc]", "not SGF"),
    ("(;GM[1]SZ[5]RE[B+lots];B[cc])", "RE 'B\\+lots' is not a result"),
    ("(;GM[1]SZ[5];B[cc];B[dd])", "move 2 is by B; moves must alternate"),
    ("(;GM[1]SZ[5];W[cc])", "move 1 is by W"),
    ("(;GM[1]SZ[5];B[zz])", "move 1 is not a point of a 5x5 board"),
    ("(;GM[1]SZ[5]AB[aa];B[cc])", "setup stones"),
    ("(;GM[1]SZ[5]KM[x];B[cc])", "KM 'x' is not a number"),
])
def test_a_malformed_record_is_an_error_naming_file_and_line(
    tmp_path, bad, message):
  path = _write(tmp_path / "bad.sgf", GOOD, bad)
  with pytest.raises(ValueError, match=f"bad.sgf:2: malformed game record: "
                     f"{message}"):
    list(game_records.read_games(path))


def test_missing_and_corrupt_files_are_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match="no game file or directory"):
    list(game_records.read_games(tmp_path / "nope"))
  path = tmp_path / "broken.sgf.xz"
  path.write_bytes(lzma.compress(((GOOD + "\n") * 50).encode())[:-20])
  with pytest.raises(ValueError, match="broken.sgf.xz: unreadable"):
    list(game_records.read_games(path))
