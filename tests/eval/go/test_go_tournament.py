"""Go players in tournaments (`eval.go.spiel_players` through
`eval.players`): GNU Go and any GTP engine, our network, forfeits, errors,
and engines' processes ended."""

from __future__ import annotations

import pathlib
import uuid

import numpy as np
import pyspiel
import pytest

from arena import cli
from eval import players
from eval import tournament
from eval import tournament_spec
from eval.go import gtp_client
from eval.go import spiel_players
from eval.go.human import board_of
from games.go import human_view
from tests.eval.go import fake_engine

GO9 = "go(board_size=9,komi=7.5)"


def _gnugo_installed() -> bool:
  try:
    gtp_client.gnugo_argv(0)
  except gtp_client.GnuGoNotFoundError:
    return False
  return True


needs_gnugo = pytest.mark.skipif(
    not _gnugo_installed(),
    reason="GNU Go is not installed (apt-get install gnugo)")


def _write_spec(path: pathlib.Path, players_: dict[str, str], *,
                games_per_pair: int = 2, extra: str = "",
                game: str = GO9) -> pathlib.Path:
  body = "".join(f'[[players]]\nname = "{name}"\nspec = "{spec}"\n'
                 for name, spec in players_.items())
  path.write_text(f'game = "{game}"\ngames_per_pair = {games_per_pair}\n'
                  f'seed = 5\nstore = "{path.with_suffix(".sqlite")}"\n'
                  f'plot = "{path.with_suffix(".png")}"\n{extra}\n{body}')
  return path


def _engines_tagged(tag: str) -> list[int]:
  """Pids of live processes started with `tag` in their environment whose
  command line names GNU Go or a test engine (ours only: the tag is new)."""
  found = []
  for proc in pathlib.Path("/proc").iterdir():
    if not proc.name.isdigit():
      continue
    try:
      env = (proc / "environ").read_bytes()
      cmdline = (proc / "cmdline").read_bytes()
    except OSError:
      continue
    if tag.encode() in env and (b"gnugo" in cmdline or
                                b"fake_engine" in cmdline):
      found.append(int(proc.name))
  return found


def _check_stored_winners(spec: tournament_spec.TournamentSpec) -> int:
  """Replays every game of `spec` and checks its stored result: the same
  moves (reproducible), and the winner of the final board's area score."""
  game = tournament_spec.load_game(spec.game)
  komi = game.get_parameters()["komi"]
  stored = {(r.pair_id, r.game_index): r
            for r in tournament.stored_games(spec)}
  bots = tournament.check_players(spec)
  try:
    for match in tournament.schedule(spec):
      end, _ = bots.play_out(match)
      record = stored[(match.pair_id, match.game_index)]
      assert end.state.is_terminal() and not end.forfeit
      assert list(record.returns) == end.returns
      assert record.plies == end.plies == len(end.state.history())
      black, white = human_view.area(board_of(end.state))
      winner = np.sign(black - white - komi)
      assert winner != 0 and end.returns == [winner, -winner], (
          black, white, end.returns)
  finally:
    bots.close()
  return len(stored)


@needs_gnugo
@pytest.mark.parametrize("workers", [1, 2])
def test_random_against_gnugo_stores_the_boards_winner_and_ends_gnugo(
    tmp_path, monkeypatch, capsys, workers):
  tag = f"ARENA_TEST_{uuid.uuid4().hex}"
  monkeypatch.setenv(tag, "1")
  path = _write_spec(tmp_path / "go.toml", {"random": "random",
                                            "gnugo": "gnugo:1"},
                     extra=f"workers = {workers}")
  assert cli.main(["tournament", str(path), "--no-progress"]) == 0
  out = capsys.readouterr().out
  assert "played 2 games now; 2 in the tournament" in out
  assert f"{GO9}: 2 games" in out and "gnugo" in out
  assert not _engines_tagged(tag)
  spec = tournament_spec.load_spec(path)
  records = tournament.stored_games(spec)
  assert sorted(r.seats for r in records) == [("gnugo", "random"),
                                              ("random", "gnugo")]
  assert all(r.seat_specs[r.seats.index("gnugo")] == "gnugo:1"
             for r in records)
  # GNU Go at level 1 beats random moves with either colour.
  assert all(r.returns[r.seats.index("gnugo")] == 1.0 for r in records)
  assert _check_stored_winners(spec) == 2
  assert not _engines_tagged(tag)


@needs_gnugo
def test_a_gnugo_game_replays_exactly_from_its_seed():
  game = pyspiel.load_game(GO9)
  bots = [players.make_player("gnugo:0", game, 0, 11),
          players.make_player("gnugo:0", game, 1, 12)]
  try:
    first = tournament.play_out(game, bots, 0)
    for bot, seed in zip(bots, (99, 98)):
      bot.reseed(seed)
    other = tournament.play_out(game, bots, 0)
    for bot, seed in zip(bots, (11, 12)):
      bot.reseed(seed)
    again = tournament.play_out(game, bots, 0)
  finally:
    for bot in bots:
      bot.close()
  assert first.state.history() == again.state.history()
  assert first.state.history() != other.state.history()
  # pylint: disable-next=protected-access
  assert all(not bot._engine.alive for bot in bots)


def test_a_trained_network_plays_random(tmp_path, go_run):
  greedy = _write_spec(tmp_path / "greedy.toml", {
      "random": "random", "greedy": f"{go_run}:greedy"})
  pinned = {p.name: p.spec for p in tournament_spec.load_spec(greedy).players}
  assert pinned["greedy"] == f"{go_run}@4:greedy"
  path = _write_spec(tmp_path / "net.toml", {
      "random": "random", "search": f"{go_run}:sims=8"})
  spec = tournament_spec.load_spec(path)
  assert {p.name: p.spec for p in spec.players}["search"] == (
      f"{go_run}@4:sims=8")
  assert tournament.run(spec) == (2, 2)
  assert _check_stored_winners(spec) == 2


def test_a_network_game_replays_from_its_seed_and_varies_with_it(go_run):
  game = pyspiel.load_game(GO9)
  bots = [players.make_player(f"{go_run}:sims=8", game, p, 0) for p in (0, 1)]

  def play(seed):
    for bot in bots:
      bot.reseed(seed)
    return tournament.play_out(game, bots, 0).state.history()[:20]

  first = play(5)
  assert play(6) != first
  assert play(5) == first


def test_network_specs_choose_the_search(go_run):
  game = pyspiel.load_game(GO9)
  for spec, sims in [(str(go_run), spiel_players.DEFAULT_SIMULATIONS),
                     (f"{go_run}:sims=16", 16), (f"{go_run}@4:greedy", 0)]:
    bot = players.make_player(spec, game, 1, 0)
    assert isinstance(bot, spiel_players.NetworkBot)
    # pylint: disable-next=protected-access
    assert bot._player.simulations_for(1e6) == sims
  with pytest.raises(players.PlayerSpecError, match="checkpoint.* 1"):
    players.make_player(f"{go_run}@1", game, 0, 0)  # Only step 4 is saved.
  with pytest.raises(players.PlayerSpecError, match="13x13"):
    players.make_player(str(go_run), pyspiel.load_game("go(board_size=13)"),
                        0, 0)
  kuhn = pyspiel.load_game("kuhn_poker")
  with pytest.raises(players.PlayerSpecError, match="for Go agents"):
    players.make_player(f"{go_run}:sims=8", kuhn, 0, 0)


@pytest.mark.parametrize("spec,parsed", [
    ("runs/a:sims=64", ("runs/a", None, "sims=64")),
    ("runs/a@12:sims=0", ("runs/a", 12, "sims=0")),
    ("runs/a@12:greedy", ("runs/a", 12, "greedy")),
    ("runs/a:sims=8,retrieve=root", ("runs/a", None, "sims=8,retrieve=root")),
])
def test_sims_specs_parse_and_format_back(spec, parsed):
  assert players.parse_run_spec(spec) == parsed
  assert players.format_run_spec(*parsed) == spec


# --- A scripted GTP engine (`fake_engine`): what the bot sends it, and
# forfeits.


class _Scripted(pyspiel.Bot):
  """Plays the given actions in turn, then passes."""

  def __init__(self, actions):
    pyspiel.Bot.__init__(self)
    self._actions = list(actions)

  def restart_at(self, state):
    pass

  def step(self, state):
    return self._actions.pop(0) if self._actions else 81


def test_the_engines_board_follows_the_game(tmp_path):
  spec, log = fake_engine.engine_spec(tmp_path, "pass")
  game = pyspiel.load_game(GO9)
  engine = players.make_player(spec, game, 1, 7)
  end = tournament.play_out(game, [_Scripted([40, 30]), engine], 0)
  engine.close()
  # Black E5, White passes, Black D4, White passes, Black passes: the end.
  assert end.state.history() == [40, 81, 30, 81, 81]
  sent = log.read_text().splitlines()
  assert sent[:4] == ["list_commands", "boardsize 9", "clear_board",
                      "komi 7.5"]
  # restart_at starts a new game, then the moves arrive as they are played.
  assert sent[4:] == ["boardsize 9", "clear_board", "komi 7.5",
                      "play b E5", "genmove w", "play b D4", "genmove w",
                      "play b pass", "quit"]
  assert "set_random_seed" not in log.read_text()  # not a command it knows


@pytest.mark.parametrize("mode,reason", [
    ("resign", "resigned"),
    ("occupied", "played 'A1', not a legal move"),
    ("nonsense", "played 'Z0', not a legal move"),
    ("refuse", "refused move 1 (E5), which the game allows"),
])
def test_an_engine_that_resigns_or_breaks_the_rules_forfeits(tmp_path, mode,
                                                             reason):
  spec, _ = fake_engine.engine_spec(tmp_path, mode)
  game = pyspiel.load_game(GO9)
  engine = players.make_player(spec, game, 1, 0)
  try:  # "occupied": White's first A1 is legal, its second is not.
    end = tournament.play_out(game, [_Scripted([40, 30]), engine], 0)
  finally:
    engine.close()
  assert reason in end.forfeit
  assert end.returns == [1.0, -1.0]  # The engine (White) loses.


def test_an_engine_that_cannot_play_the_board_is_refused(tmp_path):
  spec, _ = fake_engine.engine_spec(tmp_path, "small")
  with pytest.raises(players.PlayerSpecError,
                     match="cannot play a 9x9 game.*unacceptable size"):
    players.make_player(spec, pyspiel.load_game(GO9), 0, 0)
  bot = players.make_player(spec, pyspiel.load_game("go(board_size=5)"), 0,
                            0)
  bot.close()


def test_unknown_engine_path_is_a_one_line_error(tmp_path, capsys):
  path = _write_spec(tmp_path / "bad.toml", {
      "random": "random", "ghost": "gtp:/no/such/engine --mode gtp"})
  assert cli.main(["tournament", str(path)]) == 2
  err = capsys.readouterr().err
  assert ("players[1] (ghost): player 'gtp:/no/such/engine --mode gtp': "
          "cannot start GTP engine '/no/such/engine'") in err
  assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
  assert not path.with_suffix(".sqlite").exists()
  not_gtp = _write_spec(tmp_path / "true.toml", {"random": "random",
                                                 "true": "gtp:true"})
  assert cli.main(["tournament", str(not_gtp)]) == 2
  err = capsys.readouterr().err
  assert "player 'gtp:true': not a working GTP engine" in err
  assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("spec,message", [
    ("gnugo:11", "'gnugo:L' with a level L from 0"),
    ("gnugo:five", "'gnugo:L' with a level L from 0"),
    ("gnugo", "'gnugo:L' with a level L from 0"),
    ("gtp:", "'gtp:' needs the engine's command line"),
    ("gtp:'unclosed", "cannot split the engine command line"),
    ("runs/go9:sims=many", "needs a whole number"),
    ("runs/go9:sims=-1", "needs a whole number"),
    ("runs/go9:sims=8,retrieve=leaf", "needs a whole number"),
])
def test_malformed_specs_are_one_line_errors(tmp_path, capsys, spec, message):
  path = _write_spec(tmp_path / "bad.toml", {"random": "random", "x": spec})
  assert cli.main(["tournament", str(path)]) == 2
  err = capsys.readouterr().err
  assert "players[1] (x): " in err and message in err, err
  assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_engine_at_a_table_of_another_game_is_refused(tmp_path, capsys):
  path = _write_spec(tmp_path / "kuhn.toml", {"random": "random",
                                              "gnugo": "gnugo:3"},
                     game="kuhn_poker")
  assert cli.main(["tournament", str(path)]) == 2
  assert "is a Go engine (GTP); this tournament plays kuhn_poker" in (
      capsys.readouterr().err)
  with pytest.raises(players.PlayerSpecError, match="this table plays kuhn"):
    players.make_player("gnugo:3", pyspiel.load_game("kuhn_poker"), 0, 0)


def test_go_position_follows_a_repetition_that_ends_openspiels_game():
  """4x4, a random game found to repeat a position at its last move:
  OpenSpiel allows the move and ends the game as a draw; our rules bar it
  (superko), and `GoPosition` still reaches OpenSpiel's board."""
  import games  # pylint: disable=g-import-not-at-top
  history = [0, 4, 10, 11, 8, 1, 6, 13, 12, 0, 15, 7, 3, 14, 5, 9, 8, 7, 2,
             1, 0, 11, 15, 7]
  game = pyspiel.load_game("go(board_size=4,komi=0.5)")
  ours = games.make("go", board_size=4, komi=0.5,
                    max_moves=game.max_game_length())
  state = game.new_initial_state()
  for action in history:
    state.apply_action(action)
  assert state.is_terminal() and state.returns() == [0.0, 0.0]
  position = spiel_players.GoPosition(ours)
  before = position.advance(history[:-1])
  assert bool(before.analysis.superko[history[-1]])
  after = position.advance(history)
  np.testing.assert_array_equal(np.asarray(after.board), board_of(state))
  assert int(after.current_player) == 0 and int(after.last_move) == 7
