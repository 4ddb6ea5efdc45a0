"""Vectorised matches between two JAX policies (evaluation, training logs).

`play_games(game, policy_a, policy_b, key, num_games)` plays `num_games`
games at once (`vmap` over games, one `lax.while_loop` over moves until every
game is over). Seat A moves first in the even-numbered games and second in
the odd ones, so neither side profits from the first move.

A policy is a pure `fn(obs, legal, key) -> action` for one position
(`obs` [*O] float32 from the acting player's view, `legal` [A] bool, `key`,
returning [] int32); the match `vmap`s it. Both policies are evaluated for
every game at every step and the one whose seat is to move is used. Policies
are static arguments of the jitted match, so pass the same function object
each time (e.g. `games.bot_policy(game, "heuristic")`) to compile once.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp

from games.api import Game

Policy = Callable[[jax.Array, jax.Array, chex.PRNGKey], jax.Array]


class MatchResult(NamedTuple):
  """Outcome of a batch of games, from seat A's side."""

  returns_a: jax.Array  # [N] float32: +1 win, 0 draw, -1 loss for seat A
  num_steps: jax.Array  # [N] int32: decisions taken (deployment included)
  a_first: jax.Array  # [N] bool: seat A moved first
  illegal: jax.Array  # [N] bool: the game ended on an illegal action


@functools.partial(jax.jit, static_argnames=("game", "policy_a", "policy_b",
                                             "num_games"))
def play_games(game: Game, policy_a: Policy, policy_b: Policy,
               key: chex.PRNGKey, num_games: int) -> MatchResult:
  """Plays `num_games` games of `game` between two policies.

  Args:
    game: the game (static).
    policy_a: seat A's policy (static, hashable).
    policy_b: seat B's policy (static, hashable).
    key: PRNG key for the initial states and both policies.
    num_games: number of games (static).

  Returns:
    A `MatchResult`.
  """
  if num_games <= 0:
    raise ValueError(f"num_games must be > 0, got {num_games}")
  init_key, play_key = jax.random.split(key)
  states = jax.vmap(game.init)(jax.random.split(init_key, num_games))
  a_first = jnp.arange(num_games) % 2 == 0
  seat_a = jnp.where(a_first, 0, 1).astype(jnp.int32)
  observe = jax.vmap(game.observe)
  legal_mask = jax.vmap(game.legal_action_mask)
  step = jax.vmap(game.step)
  act_a, act_b = jax.vmap(policy_a), jax.vmap(policy_b)
  limit = game.max_episode_length + 1

  def cond(carry):
    t, states, _, _ = carry
    return (t < limit) & ~jnp.all(states.terminated)

  def body(carry):
    t, states, steps, illegal = carry
    key_a, key_b = jax.random.split(jax.random.fold_in(play_key, t))
    player = states.current_player.astype(jnp.int32)
    obs = observe(states, player)
    legal = legal_mask(states)
    action = jnp.where(
        player == seat_a,
        act_a(obs, legal, jax.random.split(key_a, num_games)),
        act_b(obs, legal, jax.random.split(key_b, num_games)))
    taken = jnp.take_along_axis(legal, action.reshape(-1, 1), axis=1)
    illegal = illegal | (~states.terminated & ~taken.reshape(-1))
    steps = steps + ~states.terminated
    return t + 1, step(states, action), steps, illegal

  _, states, steps, illegal = jax.lax.while_loop(
      cond, body, (jnp.int32(0), states, jnp.zeros(num_games, jnp.int32),
                   jnp.zeros(num_games, bool)))
  returns_a = jnp.take_along_axis(states.returns, seat_a.reshape(-1, 1),
                                  axis=1).reshape(-1)
  return MatchResult(returns_a=returns_a, num_steps=steps, a_first=a_first,
                     illegal=illegal)


def summarize(result: MatchResult) -> dict[str, float]:
  """Win, draw and loss rates of seat A and the mean game length (host)."""
  r = jax.device_get(result.returns_a)
  return {"win": float((r > 0).mean()), "draw": float((r == 0).mean()),
          "loss": float((r < 0).mean()),
          "mean_steps": float(jax.device_get(result.num_steps).mean())}
