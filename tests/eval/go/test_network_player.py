"""A trained Go network as a GTP engine, and its search."""

from __future__ import annotations

import io

import jax
import numpy as np
import pytest

import games
from agents.go_retrieval import actor, networks
from agents.go_retrieval.config import GoRetrievalConfig, NetworkConfig
from eval.go import gtp_server, network_player
from games.go import coords


def _session(player, commands: str) -> list[str]:
  out = io.StringIO()
  gtp_server.GTPServer(player).serve(io.StringIO(commands), out)
  return [r for r in out.getvalue().split("\n\n") if r]


def test_a_trained_network_plays_legal_moves_over_gtp(go_run):
  player = network_player.NetworkPlayer(str(go_run), simulations=8)
  assert player.supports(9) and not player.supports(13)
  replies = _session(player, "boardsize 9\nclear_board\ngenmove b\n"
                     "play w E5\ngenmove b\ngenmove w\nquit\n")
  moves = [r[2:] for r in replies if r.startswith("= ") and r[2:].strip()]
  assert len(moves) == 3
  for vertex in moves:
    coords.from_gtp(vertex, 9)  # A vertex or "pass".
  assert "E5" not in moves[1:]
  assert _session(player, "boardsize 13\n")[0].startswith("?")


def test_the_clock_sizes_the_search(go_run):
  player = network_player.NetworkPlayer(str(go_run), max_simulations=64)
  assert player.simulations_for(None) == 128
  assert player.simulations_for(5.0) == network_player.LADDER[0]  # untimed
  game = games.make("go")
  state = game.init(jax.random.key(0))
  player.genmove(game, state, 5.0, [])  # compiles, then times a search
  assert player.simulations_for(1e6) == 64  # capped
  assert player.simulations_for(1e-9) == network_player.LADDER[0]
  fixed = network_player.NetworkPlayer(str(go_run), simulations=0)
  assert fixed.simulations_for(1e6) == 0
  assert 0 <= fixed.genmove(game, state, None, []) <= 81


def test_a_run_of_another_game_is_refused():
  with pytest.raises(ValueError, match="not a Go agent"):
    network_player.NetworkPlayer("deepnash-small")  # bundled, Stratego


@pytest.fixture(scope="module")
def search5():
  """An untrained network's search on 5x5 (one compilation for both cases)."""
  game = games.make("go", board_size=5)
  config = GoRetrievalConfig(network=NetworkConfig(
      channels=4, blocks=0, embedding_dim=4, head_hidden=4, value_hidden=4))
  nets = networks.make_networks(5, config)
  search = actor.make_search(game, nets, 32, max_considered_actions=26)
  return game, jax.jit(nets.init)(jax.random.key(0)), search


@pytest.mark.parametrize("black_ahead", [True, False])
def test_search_passes_to_end_a_won_game_and_not_a_lost_one(search5,
                                                            black_ahead):
  """After White's pass, Black's pass ends the game: the search sees the
  true result whatever the (untrained) network thinks."""
  game, params, search = search5
  board = np.zeros(25, np.int8)
  board[:15 if black_ahead else 5] = 1  # Black's wall: area 25 or 5.
  board[20:] = 0 if black_ahead else -1
  if not black_ahead:
    board[10:15] = -1  # White walls off the top.
  state = game.from_board(board, current_player=1)
  state = game.step(state, game.pass_action)  # White passes.
  assert int(state.passes) == 1 and not bool(state.terminated)
  batch = jax.tree.map(lambda x: x[None], state)
  out = search(params, batch, None, jax.random.key(1))
  chose_pass = int(out.action[0]) == game.pass_action
  assert chose_pass == black_ahead
