"""Tournaments: schedule, colours, store, resume (also after SIGKILL), CLI."""

import collections
import json
import pathlib
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import jax.numpy as jnp
import numpy as np
import pytest

from agents.core import runs
from agents.core.checkpoint import CONFIG_FILE, Checkpointer, write_json_atomic
from arena import cli
from eval import players
from eval import store as store_lib
from eval import tournament
from eval import tournament_spec
from selfplay import anakin
from selfplay import config as config_lib

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kuhn_run(tmp_path_factory):
  """A tiny Kuhn R-NaD run directory: the initial network at step 0."""
  run_dir = tmp_path_factory.mktemp("kuhn_run")
  config = config_lib.load("kuhn_rnad", ["agent.network.hidden_sizes=(4,)"])
  _, agent = anakin.build(config)
  checkpointer = Checkpointer(run_dir)
  checkpointer.save(runs.fresh_state(agent, 0))
  checkpointer.close()
  write_json_atomic(run_dir / CONFIG_FILE, config_lib.to_json(config))
  return run_dir


def _spec(tmp_path, run_dir, games_per_pair, name="kuhn.toml", extra=""):
  path = tmp_path / name
  path.write_text(f"""
game = "kuhn_poker"
games_per_pair = {games_per_pair}
seed = 3
{extra}
[[players]]
name = "random_a"
spec = "random"
[[players]]
name = "random_b"
spec = "random"
[[players]]
name = "net"
spec = "{run_dir}"
""")
  return path


def _rows(db):
  with sqlite3.connect(db) as conn:
    return conn.execute("SELECT pair_id, game_index, seat0, seat1, returns, "
                        "finished_at FROM games").fetchall()


def test_round_robin_colours_store_and_resume(tmp_path, kuhn_run):
  spec = tournament_spec.load_spec(_spec(tmp_path, kuhn_run, 4))
  assert spec.store == tmp_path / "kuhn.sqlite"  # default: beside the file
  assert tournament.run(spec) == (12, 12)  # 3 pairs x 4 games
  rows = _rows(spec.store)
  assert len(rows) == 12 and len({(r[0], r[1]) for r in rows}) == 12
  by_pair = collections.defaultdict(dict)
  for pid, index, seat0, seat1, _, _ in rows:
    by_pair[pid][index] = (seat0, seat1)
  assert len(by_pair) == 3
  for games in by_pair.values():
    assert sorted(games) == [0, 1, 2, 3]
    first = games[0]
    assert first[0] < first[1]  # name order on even games
    for index, seats in games.items():
      assert seats == (first if index % 2 == 0 else first[::-1])
  # Rerunning plays nothing and leaves the rows as they were.
  assert tournament.run(spec) == (0, 12)
  assert sorted(_rows(spec.store)) == sorted(rows)
  # More games per pair: only the new ones are played.
  more = tournament_spec.load_spec(_spec(tmp_path, kuhn_run, 6))
  assert tournament.run(more) == (6, 18)
  assert len(_rows(spec.store)) == 18
  # Every game is reproducible on its own from its seed.
  stored = {(r.pair_id, r.game_index): r for r in tournament.stored_games(more)}
  bots = tournament.check_players(more)
  for match in tournament.schedule(more)[::-1]:
    returns, plies, _ = bots.play(match)
    record = stored[match.pair_id, match.game_index]
    assert (tuple(returns), plies) == (record.returns, record.plies)
  # Zero-sum results: the ratings see every game, two per seat and pair.
  r = tournament.ratings(more, tournament.stored_games(more))
  assert list(r.games) == [12, 12, 12]
  assert (r.wins + r.draws + r.losses == r.games).all()


def test_run_players_are_pinned_so_a_newer_checkpoint_replays(tmp_path,
                                                              kuhn_run):
  run_dir = tmp_path / "run"
  shutil.copytree(kuhn_run, run_dir)
  spec = tournament_spec.load_spec(_spec(tmp_path, run_dir, 2))
  assert {p.name: p.spec for p in spec.players}["net"] == f"{run_dir}@0"
  assert tournament.run(spec) == (6, 6)
  # The run trains on: its pairs are new, the bots' pair is kept.
  config = config_lib.from_json(json.loads((run_dir / CONFIG_FILE).read_text()))
  _, agent = anakin.build(config)
  checkpointer = Checkpointer(run_dir)
  checkpointer.save(runs.fresh_state(agent, 1)._replace(step=jnp.int32(5)))
  checkpointer.close()
  newer = tournament_spec.load_spec(_spec(tmp_path, run_dir, 2))
  assert {p.name: p.spec for p in newer.players}["net"] == f"{run_dir}@5"
  assert tournament.run(newer) == (4, 6)
  # The same step of a run with another config is another player too.
  config_path = run_dir / CONFIG_FILE
  config_path.write_text(config_path.read_text().replace('"seed": 0',
                                                         '"seed": 9'))
  assert tournament.run(tournament_spec.load_spec(_spec(tmp_path, run_dir, 2))) \
      == (4, 6)
  # An explicit step pins that checkpoint; a missing one is named.
  path = _spec(tmp_path, f"{run_dir}@3", 2)
  with pytest.raises(ValueError, match="no checkpoint at step 3; it has 0, 5"):
    tournament_spec.load_spec(path)


def test_store_rejects_duplicates_and_foreign_files(tmp_path):
  record = store_lib.GameRecord("p", 0, "kuhn_poker()", ("a", "b"),
                                ("random", "random"), (1.0, -1.0), 2, 0.1)
  with store_lib.Store(tmp_path / "s.sqlite") as store:
    store.add(record)
    with pytest.raises(sqlite3.IntegrityError):
      store.add(record)
    assert store.records() == [
        store_lib.GameRecord(**{**record.__dict__,
                                "finished_at": store.records()[0].finished_at})]
    assert store.done(["p", "q"]) == {("p", 0)}
  (tmp_path / "junk.sqlite").write_text("not a database" * 100)
  with pytest.raises(ValueError, match="not a tournament store"):
    store_lib.Store(tmp_path / "junk.sqlite")
  with pytest.raises(ValueError, match="no tournament store"):
    store_lib.Store(tmp_path / "none.sqlite", create=False)


def test_sigkill_midway_then_resume_has_every_game_once(tmp_path, kuhn_run):
  path = _spec(tmp_path, kuhn_run, 300)
  spec = tournament_spec.load_spec(path)
  total = 3 * 300
  proc = subprocess.Popen(
      [sys.executable, "-m", "arena", "tournament", str(path), "--no-progress"],
      cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  killed_at, deadline = 0, time.monotonic() + 300
  try:
    while time.monotonic() < deadline and proc.poll() is None:
      try:
        killed_at = len(_rows(spec.store))
      except sqlite3.OperationalError:  # not created yet
        killed_at = 0
      if killed_at >= 10:
        break
      time.sleep(0.01)
  finally:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
  assert proc.returncode == -signal.SIGKILL
  kept = len(_rows(spec.store))
  assert 10 <= killed_at <= kept < total  # killed midway, nothing lost
  assert tournament.run(spec) == (total - kept, total)
  rows = _rows(spec.store)
  assert len(rows) == total and len({(r[0], r[1]) for r in rows}) == total
  per_pair = collections.Counter(r[0] for r in rows)
  assert sorted(per_pair.values()) == [300, 300, 300]


TWO = ('[[players]]\nname = "x"\nspec = "random"\n'
       '[[players]]\nname = "y"\nspec = "random"\n')
ONE = '[[players]]\nname = "a"\nspec = "random"\n'


@pytest.mark.parametrize("body,message", [
    ('game = "kuhn_poker"\ncolour = 1\n' + TWO, "unknown key 'colour'"),
    ('game = "no_such_game"\n' + TWO, "game 'no_such_game': Unknown game"),
    ('game = "kuhn_poker(players=3)"\n' + TWO, "2-player"),
    ('game = "kuhn_poker"\n' + ONE, "players: need at least 2, got 1"),
    ('game = "kuhn_poker"\n' + ONE + ONE, "duplicate player name 'a'"),
    ('game = "kuhn_poker"\n' + TWO +
     '[[players]]\nname = "n"\nspec = "/no/such/run"\n',
     "players[2] (n): spec '/no/such/run' is not one of"),
    ('game = "kuhn_poker"\n' + ONE + 'spek = "x"\n',
     "players[0]: unknown key 'spek'"),
    ('game = "kuhn_poker"\ngames_per_pair = "ten"\n' + TWO,
     "games_per_pair must be an integer"),
    ('game = "kuhn_poker"\nworkers = 0\n' + TWO, "workers must be >= 1"),
    ('game = kuhn_poker\n' + TWO, "not valid TOML"),
    (TWO, "missing key 'game'"),
    ('game = "kuhn_poker"\ngauntlet = "z"\n' + TWO,
     "gauntlet names 'z', not a player of the file (x, y)"),
    ('game = "kuhn_poker"\ngauntlet = ["x", "y"]\n' + TWO,
     "gauntlet names every player"),
    ('game = "kuhn_poker"\ngauntlet = 3\n' + TWO,
     "gauntlet must be a player name or an array of them"),
])
def test_bad_spec_is_one_line_exit_2(tmp_path, capsys, body, message):
  path = tmp_path / "bad.toml"
  path.write_text(body)
  assert cli.main(["tournament", str(path)]) == 2
  err = capsys.readouterr().err
  assert message in err and "Traceback" not in err, err
  assert len(err.strip().splitlines()) == 1


def test_a_gauntlet_plays_only_its_players_pairs(tmp_path):
  path = tmp_path / "g.toml"
  path.write_text('game = "kuhn_poker"\ngames_per_pair = 4\n'
                  'gauntlet = "x"\n' + TWO +
                  '[[players]]\nname = "z"\nspec = "random"\n')
  spec = tournament_spec.load_spec(path)
  assert spec.gauntlet == ("x",)
  assert [(a.name, b.name) for a, b, _ in tournament.pairs(spec)] == [
      ("x", "y"), ("x", "z")]
  assert tournament.run(spec) == (8, 8)
  assert {tuple(sorted(r[2:4])) for r in _rows(spec.store)} == {
      ("x", "y"), ("x", "z")}
  # The same pairs, and so the same games, as the round robin's.
  path.write_text(path.read_text().replace('gauntlet = "x"\n', ""))
  robin = tournament_spec.load_spec(path)
  assert {p for _, _, p in tournament.pairs(spec)} < {
      p for _, _, p in tournament.pairs(robin)}
  assert tournament.run(robin) == (4, 12)


def test_unreadable_run_and_missing_files_exit_2(tmp_path, capsys):
  (tmp_path / "empty_run").mkdir()
  spec = _spec(tmp_path, tmp_path / "empty_run", 2)
  assert cli.main(["tournament", str(spec)]) == 2
  err = capsys.readouterr().err
  assert "players[2] (net)" in err and "no config.json" in err
  assert len(err.strip().splitlines()) == 1
  assert cli.main(["tournament", str(tmp_path / "none.toml")]) == 2
  assert "cannot read tournament file" in capsys.readouterr().err
  assert cli.main(["tournament", str(spec), "--report"]) == 2
  assert "no config.json" in capsys.readouterr().err
  (tmp_path / "empty_run").rmdir()
  bots_only = tmp_path / "bots.toml"
  bots_only.write_text(spec.read_text().split('[[players]]\nname = "net"')[0])
  assert cli.main(["tournament", str(bots_only), "--report"]) == 2
  assert "no tournament store" in capsys.readouterr().err


def test_cli_plays_prints_table_and_plot_then_reports(tmp_path, capsys,
                                                      kuhn_run):
  with pytest.raises(SystemExit) as e:
    cli.main(["tournament", "--help"])
  assert e.value.code == 0 and "--report" in capsys.readouterr().out
  path = _spec(tmp_path, kuhn_run, 2, extra=f'plot = "{tmp_path}/p/k.png"')
  assert cli.main(["tournament", str(path), "--no-progress"]) == 0
  out = capsys.readouterr().out
  assert "played 6 games now; 6 in the tournament" in out
  assert "kuhn_poker(): 6 games" in out
  for name in ("random_a", "random_b", "net"):
    assert name in out
  assert (tmp_path / "p" / "k.png").read_bytes()[:4] == b"\x89PNG"
  assert cli.main(["tournament", str(path), "--report"]) == 0
  report = capsys.readouterr().out
  assert "played" not in report and "kuhn_poker(): 6 games" in report
  assert "head to head" in report  # each pair played 2 games
  cells = re.findall(r"\b(\d+)-(\d+)-(\d+)\b", report)
  assert len(cells) == 6 and all(sum(map(int, c)) == 2 for c in cells), report


def test_stratego_small_with_two_workers(tmp_path):
  path = tmp_path / "s.toml"
  path.write_text("""
game = "stratego(variant=small)"
games_per_pair = 2
workers = 2
[[players]]
name = "r1"
spec = "random"
[[players]]
name = "r2"
spec = "random"
""")
  spec = tournament_spec.load_spec(path)
  assert tournament.run(spec) == (2, 2)
  records = tournament.stored_games(spec)
  assert sorted(r.seats for r in records) == [("r1", "r2"), ("r2", "r1")]
  for r in records:
    assert sum(r.returns) == 0 and r.plies > 0
  # The same games in-process: seeds make them identical.
  bots = tournament.check_players(spec)
  for m, r in zip(tournament.schedule(spec), records):
    assert tuple(bots.play(m)[0]) == r.returns


def test_policy_bot_plays_action_zero_when_it_is_the_only_move():
  class OnlyZero:
    def action_probabilities(self, state, player_id=None):
      del state, player_id
      return {0: 1.0}

  bot = players.PolicyBot(0, np.random.RandomState(0), OnlyZero())
  assert bot.step(None) == 0


class _Fixed:
  """A policy with the same action probabilities everywhere."""

  def __init__(self, probs):
    self.probs = probs

  def action_probabilities(self, state, player_id=None):
    del state, player_id
    return dict(self.probs)


def _moves(greedy, probs, n=200):
  bot = players.PolicyBot(0, np.random.RandomState(0), _Fixed(probs),
                          greedy=greedy)
  return collections.Counter(bot.step(None) for _ in range(n))


def test_greedy_policy_bot_plays_the_most_likely_move_drawing_ties():
  assert set(_moves(True, {0: 0.2, 3: 0.5, 5: 0.3})) == {3}
  assert set(_moves(False, {0: 0.2, 3: 0.5, 5: 0.3})) == {0, 3, 5}
  tied = _moves(True, {1: 0.4, 2: 0.4, 0: 0.2})
  assert set(tied) == {1, 2} and min(tied.values()) > 60


@pytest.mark.parametrize("spec,parsed", [
    ("runs/a", ("runs/a", None, "sample")),
    ("runs/a@12", ("runs/a", 12, "sample")),
    ("runs/a:greedy", ("runs/a", None, "greedy")),
    ("runs/a@12:greedy", ("runs/a", 12, "greedy")),
    ("runs/a@12:sample", ("runs/a", 12, "sample")),
    ("runs/a:b@x", ("runs/a:b@x", None, "sample")),  # all path
])
def test_run_specs_parse_and_format_back(spec, parsed):
  assert players.parse_run_spec(spec) == parsed
  assert players.parse_run_spec(players.format_run_spec(*parsed)) == parsed


def test_greedy_run_player_is_pinned_with_its_mode(tmp_path, kuhn_run):
  spec = tournament_spec.load_spec(_spec(tmp_path, f"{kuhn_run}:greedy", 2))
  pinned = {p.name: p.spec for p in spec.players}["net"]
  assert pinned == f"{kuhn_run}@0:greedy"
  bot = players.make_player(pinned, tournament_spec.load_game("kuhn_poker"), 0, 1)
  assert bot._greedy  # pylint: disable=protected-access
  assert tournament.run(spec) == (6, 6)
