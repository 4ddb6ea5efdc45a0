"""What a Stratego agent does, move by move: the kinds of moves it prefers.

A win rate says how well an agent plays, not what it has learnt.
`play(run, ...)` plays a run's test-time policy against the random or the
heuristic bot (or itself) and sorts every legal move at the agent's decisions
by what the mover can know (`KINDS`):

  move            to an empty square
  known win       an attack on a revealed piece it beats (`rules.battle`)
  known tie       an attack on a revealed piece of its own rank
  known loss      an attack on a revealed piece that beats it
  hidden unmoved  an attack on an unrevealed piece that has never moved
                  (it may be a Bomb or the Flag)
  hidden moved    an attack on an unrevealed piece that has moved

and reports, for each kind, the share of legal moves, the agent's probability
of it, how often it was chosen and the mover's mean final return after
choosing it. `benchmarks/stratego_tactics.py` prints it for a run directory,
with how the games ended (`game_endings`): won or lost by the Flag's capture
or by the loser having no legal move, or drawn, with the plies played and the
movable pieces each side had left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

import games
from games.stratego import config as config_lib
from games.stratego import rules

if TYPE_CHECKING:
  from games.stratego.env import Stratego
  from games.stratego.state import State
  from agents.core.runs import Run

KINDS = ("move", "known win", "known tie", "known loss", "hidden unmoved",
         "hidden moved")
#: Whom the agent plays (`play`).
OPPONENTS = ("random", "heuristic", "self")
#: How a game ended, from the agent's side (`game_endings`).
ENDINGS = ("won, took the Flag", "won, opponent had no move",
           "lost its Flag", "lost, had no move", "drawn")


def move_kinds(game: Stratego, st: State) -> jax.Array:
  """The kind of each action for the player to move in `st`.

  Returns:
    [A] int32, indices into `KINDS`; meaningful for the legal moves of the
    play phase.
  """
  t = game.tables
  src = jnp.asarray(t.action_from)
  dst = jnp.maximum(jnp.asarray(t.action_to), 0)
  enemy = st.owner[dst] == 1 - st.current_player
  known = enemy & st.revealed[dst]
  result = rules.battle(st.rank[src], st.rank[dst])
  return jnp.select(
      [~enemy, known & (result > 0), known & (result == 0), known,
       ~st.moved[dst]], [0, 1, 2, 3, 4], 5).astype(jnp.int32)


def game_endings(final: State, agent_seat: np.ndarray) -> list[dict]:
  """How each of a batch of finished games ended, for the agent.

  Args:
    final: the games' last states, batched [B] (numpy or JAX arrays).
    agent_seat: [B] the agent's seat in each game.

  Returns:
    One row per `ENDINGS` entry: `ending`, `games`, and means over those
    games of `plies` and the movable pieces (neither Bomb nor Flag) the agent
    and its opponent had left (`agent_movable`, `opponent_movable`; nan for
    none). A decided game whose loser still has its Flag was lost by having
    no legal move; a game cut before its end counts as drawn.
  """
  rank, owner = np.asarray(final.rank), np.asarray(final.owner)
  returns = np.asarray(final.returns)
  seat = np.asarray(agent_seat, np.int64)
  games = np.arange(len(seat))
  result = np.sign(returns[games, seat])
  loser = np.where(result > 0, 1 - seat, seat)
  loser_has_flag = np.any((rank == config_lib.FLAG) &
                          (owner == loser[:, None]), axis=1)
  mobile = (rank != config_lib.EMPTY) & (rank != config_lib.BOMB) & (
      rank != config_lib.FLAG)
  left = [np.sum(mobile & (owner == side[:, None]), axis=1)
          for side in (seat, 1 - seat)]
  ending = np.select(
      [result > 0, result < 0], [np.where(loser_has_flag, 1, 0),
                                 np.where(loser_has_flag, 3, 2)], 4)
  plies = np.asarray(final.ply)
  rows = []
  for i, name in enumerate(ENDINGS):
    these = ending == i
    rows.append(dict(ending=name, games=int(these.sum()),
                     plies=_mean(plies, these),
                     agent_movable=_mean(left[0], these),
                     opponent_movable=_mean(left[1], these)))
  return rows


def _mean(x: np.ndarray, mask: np.ndarray) -> float:
  return float(x[mask].mean()) if mask.any() else float("nan")


def play(run: Run, num_games: int, opponent: str, seed: int,
         greedy: bool = False) -> dict:
  """Plays `num_games` games of `run`'s test-time policy against `opponent`.

  Args:
    run: a restored Stratego run (`selfplay.anakin.restore_run`).
    num_games: games, the agent's seat alternating.
    opponent: "random" (uniform over legal moves), "heuristic" (the
      heuristic bot, `games.bot_policy(game, "heuristic")`) or "self".
    seed: PRNG seed.
    greedy: the agent plays its most likely move (the first of equally
      likely ones) instead of sampling; `policy` still sums its
      probabilities.

  Returns:
    Sums over the agent's play-phase decisions (numpy, per kind):
    `decisions`, `policy` and `uniform` (probability mass), `chosen`,
    `return_sum` and `return_sq` (the mover's final return after choosing
    each kind), the agent's `agent_win` / `agent_loss` rates, and
    `endings` (`game_endings`).
  """
  if opponent not in OPPONENTS:
    raise ValueError(f"opponent must be one of {', '.join(OPPONENTS)}, got "
                     f"{opponent!r}")
  game, agent = run.game, run.agent
  params = agent.test_params(run.state)
  num_kinds = len(KINDS)
  agent_seat = jnp.arange(num_games) % 2  # seats alternated

  bot = (games.bot_policy(game, "heuristic") if opponent == "heuristic"
         else None)

  def policy(st):
    obs = game.observe(st, st.current_player)
    legal = game.legal_action_mask(st)
    probs = agent.policy_probs(params, obs[None], legal[None])[0]
    return obs, probs, legal

  def one_ply(st, key, seat):
    obs, probs, legal = policy(st)
    uniform = legal / jnp.sum(legal)
    ours = (opponent == "self") | (st.current_player == seat)
    if greedy:
      probs_played = jax.nn.one_hot(jnp.argmax(probs), probs.shape[-1])
    else:
      probs_played = probs
    if bot is not None:
      bot_key, key = jax.random.split(key)
      theirs = jax.nn.one_hot(bot(obs, legal, bot_key), legal.shape[-1])
    else:
      theirs = uniform
    acting = jnp.where(ours, probs_played, theirs)
    action = jax.random.choice(key, acting.shape[-1], p=acting)
    kinds = move_kinds(game, st)
    one_hot = jax.nn.one_hot(kinds, num_kinds) * legal[:, None]
    counted = ours & ~st.terminated & (st.deploy_step >= game.deploy_total)
    out = dict(policy=probs @ one_hot, uniform=uniform @ one_hot,
               chosen=jax.nn.one_hot(kinds[action], num_kinds),
               mover=st.current_player, counted=counted)
    return game.step(st, action), out

  @jax.jit
  def run_games(key):
    init_key, key = jax.random.split(key)
    states = jax.vmap(game.init)(jax.random.split(init_key, num_games))

    def body(states, key):
      keys = jax.random.split(key, num_games)
      return jax.vmap(one_ply)(states, keys, agent_seat)

    states, out = jax.lax.scan(body, states, jax.random.split(
        key, game.max_episode_length))
    return states, out

  final, out = jax.device_get(run_games(jax.random.key(seed)))
  returns = final.returns
  counted = out["counted"]  # [T, B]
  mover_return = np.take_along_axis(
      returns[None], out["mover"][..., None].astype(np.int64), -1)[..., 0]
  chosen = out["chosen"] * counted[..., None]
  agent_return = returns[np.arange(num_games), np.asarray(agent_seat)]
  return dict(
      decisions=int(counted.sum()),
      policy=(out["policy"] * counted[..., None]).sum((0, 1)),
      uniform=(out["uniform"] * counted[..., None]).sum((0, 1)),
      chosen=chosen.sum((0, 1)),
      return_sum=(chosen * mover_return[..., None]).sum((0, 1)),
      return_sq=(chosen * mover_return[..., None] ** 2).sum((0, 1)),
      agent_win=float(np.mean(agent_return > 0)),
      agent_loss=float(np.mean(agent_return < 0)),
      endings=game_endings(final, np.asarray(agent_seat)))


def report(sums: dict) -> list[dict]:
  """One row per kind from `play`'s sums: shares, ratio, mean return."""
  rows = []
  n = max(sums["decisions"], 1)
  for i, kind in enumerate(KINDS):
    chosen = float(sums["chosen"][i])
    mean = sums["return_sum"][i] / chosen if chosen else float("nan")
    var = sums["return_sq"][i] / chosen - mean ** 2 if chosen else float("nan")
    rows.append(dict(
        kind=kind, legal_share=float(sums["uniform"][i] / n),
        policy=float(sums["policy"][i] / n),
        ratio=float(sums["policy"][i] / max(sums["uniform"][i], 1e-9)),
        chosen=int(chosen), mover_return=float(mean),
        mover_return_se=float(np.sqrt(max(var, 0.0) / chosen))
        if chosen else float("nan")))
  return rows
