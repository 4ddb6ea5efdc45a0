"""`eval.stratego.tactics`: move kinds of the tactics analysis, on a
hand-made position, and the bookkeeping of `play`."""

import jax
import numpy as np
import pytest

from agents.core import runs
from eval.stratego import tactics
from games.stratego import config
from games.stratego import env
from selfplay import anakin
from selfplay import config as config_lib

SMALL = env.Stratego(variant_name="small", deployment="fixed")


def _sq(name):
  return config.parse_square(SMALL.variant, name)


def _action(src, dst):
  t = SMALL.tables
  (ids,) = np.nonzero((t.action_from == _sq(src)) & (t.action_to == _sq(dst)))
  return int(ids[0])


def test_move_kinds_on_a_hand_made_position():
  # Red (to move): General c3, Miner f2, Sergeant a5, Flag a1.
  # Blue: revealed Sergeant c4 and Marshal d3, revealed Sergeant a6,
  # an unrevealed Bomb f3 (never moved), an unrevealed 5 e2 that has moved,
  # Flag f6.
  rank = np.zeros(36, np.int8)
  owner = np.full(36, -1, np.int8)
  for sq, code, who in (("c3", 9, 0), ("f2", 3, 0), ("a5", 4, 0),
                        ("a1", 12, 0), ("c4", 4, 1), ("d3", 10, 1),
                        ("a6", 4, 1), ("f3", 11, 1), ("e2", 5, 1),
                        ("f6", 12, 1)):
    rank[_sq(sq)], owner[_sq(sq)] = code, who
  st = SMALL.init_from_board(rank, owner)
  revealed = np.zeros(36, bool)
  revealed[[_sq("c4"), _sq("d3"), _sq("a6")]] = True
  moved = np.zeros(36, bool)
  moved[_sq("e2")] = True
  st = st.replace(revealed=revealed, moved=moved)
  kinds = np.asarray(tactics.move_kinds(SMALL, st))
  legal = np.asarray(SMALL.legal_action_mask(st))
  expected = {("c3", "c4"): "known win", ("c3", "d3"): "known loss",
              ("c3", "c2"): "move", ("a5", "a6"): "known tie",
              ("f2", "f3"): "hidden unmoved", ("f2", "e2"): "hidden moved",
              ("a5", "a4"): "move"}
  for (src, dst), kind in expected.items():
    action = _action(src, dst)
    assert legal[action], (src, dst)
    assert tactics.KINDS[kinds[action]] == kind, (src, dst)


def _final(pieces, returns, ply):
  rank = np.zeros(36, np.int8)
  owner = np.full(36, -1, np.int8)
  for sq, code, who in pieces:
    rank[_sq(sq)], owner[_sq(sq)] = code, who
  st = SMALL.init_from_board(rank, owner)
  return st.replace(returns=np.asarray(returns, np.float32),
                    ply=np.asarray(ply, np.int32),
                    terminated=np.asarray(True))


def test_game_endings_on_hand_made_final_positions():
  marshal, scout, bomb, flag = (config.MARSHAL, config.SCOUT, config.BOMB,
                                config.FLAG)
  games = [
      # Agent (Red) took Blue's Flag: Blue has only a Bomb left.
      _final([("a1", flag, 0), ("c3", marshal, 0), ("f5", bomb, 1)],
             [1, -1], 30),
      # Agent (Blue) lost with its Flag and a Bomb: it had no move.
      _final([("a1", flag, 0), ("c3", marshal, 0), ("b2", scout, 0),
              ("f6", flag, 1), ("f5", bomb, 1)], [1, -1], 50),
      # Agent (Red) lost its Flag.
      _final([("c3", scout, 0), ("f6", flag, 1), ("e5", scout, 1)],
             [-1, 1], 70),
      _final([("a1", flag, 0), ("f6", flag, 1), ("e5", scout, 1)], [0, 0],
             200),  # drawn
  ]
  final = jax.tree.map(lambda *x: np.stack(x), *games)
  rows = tactics.game_endings(final, np.array([0, 1, 0, 0]))
  assert [r["ending"] for r in rows] == list(tactics.ENDINGS)
  got = {r["ending"]: r for r in rows}
  assert [r["games"] for r in rows] == [1, 0, 1, 1, 1]
  took = got["won, took the Flag"]
  assert (took["plies"], took["agent_movable"], took["opponent_movable"]) == (
      30, 1, 0)
  stuck = got["lost, had no move"]
  assert (stuck["plies"], stuck["agent_movable"],
          stuck["opponent_movable"]) == (50, 0, 2)
  lost_flag = got["lost its Flag"]
  assert (lost_flag["agent_movable"], lost_flag["opponent_movable"]) == (1, 1)
  assert got["drawn"]["plies"] == 200
  assert np.isnan(got["won, opponent had no move"]["plies"])


def test_play_accounts_for_every_decision():
  cfg = config_lib.load("stratego_small_rnad", [
      "agent.network.channels=4"])
  game, agent = anakin.build(cfg)
  run = runs.Run(cfg, game, agent, runs.fresh_state(agent, 0), None, {})
  sums = tactics.play(run, num_games=4, opponent="random", seed=0)
  n = sums["decisions"]
  assert n > 0
  # Probability mass over legal moves sums to one at each decision, and
  # each decision chose exactly one kind.
  np.testing.assert_allclose(sums["policy"].sum(), n, rtol=1e-4)
  np.testing.assert_allclose(sums["uniform"].sum(), n, rtol=1e-4)
  assert sums["chosen"].sum() == n
  rows = tactics.report(sums)
  assert [r["kind"] for r in rows] == list(tactics.KINDS)
  assert sum(r["chosen"] for r in rows) == n
  assert set(rows[0]) == {"kind", "legal_share", "policy", "ratio", "chosen",
                          "mover_return", "mover_return_se"}
  assert sum(e["games"] for e in sums["endings"]) == 4
  with pytest.raises(ValueError, match="opponent"):
    tactics.play(run, num_games=2, opponent="bot", seed=0)
  # The heuristic bot beats a (near-uniform) untrained network.
  bot = tactics.play(run, num_games=4, opponent="heuristic", seed=0)
  assert sum(e["games"] for e in bot["endings"]) == 4
  assert bot["agent_loss"] >= 0.75, bot["endings"]
  # Greedy against itself, from the empty deployment board, every game is
  # the same game: the same ending for the seat that won it.
  greedy = tactics.play(run, num_games=4, opponent="self", seed=0,
                                 greedy=True)
  counts = sorted(e["games"] for e in greedy["endings"])
  assert counts in ([0, 0, 0, 2, 2], [0, 0, 0, 0, 4]), greedy["endings"]
  assert len({e["plies"] for e in greedy["endings"] if e["games"]}) == 1

