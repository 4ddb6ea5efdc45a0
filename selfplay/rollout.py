"""Self-play rollouts of a batch of JAX games, as one `lax.scan` (Anakin).

Both seats are played by the same policy function, except that an optional
opponent (e.g. a past checkpoint) may take one seat of chosen games; the
trajectory then records the policy that actually acted, so an off-policy
learner (R-NaD's v-trace) corrects for it. An optional fixed opponent (a bot)
may take one seat of other games; its decisions are marked `fixed`, and a
learner treats them as part of the environment (nothing to learn there, no
correction towards its own policy). Each game of the batch runs from
`init` for `num_steps` decisions, and steps after its end are marked invalid
(the game API makes them no-ops).

With `shaping` > 0 each reward gets potential-based shaping (Ng, Harada and
Russell 1999, https://people.eecs.berkeley.edu/~russell/papers/icml99-shaping.pdf): `shaping * (phi(x_{t+1}) - phi(x_t))`, where phi is the game's
`potential` and 0 once a game is over. Over a whole game the shaping sums to
`-shaping * phi(x_0)`, zero for games that start level, so the game's
objective is unchanged; the learner only sees, say, a capture's worth when it
happens rather than at the end of the game.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from agents.core.types import PolicyFn, Trajectory
from games.api import Game

__all__ = ["PolicyFn", "Trajectory", "rollout", "uniform_policy"]

def uniform_policy(obs: jax.Array, legal: jax.Array,
                   key: chex.PRNGKey) -> tuple[jax.Array, jax.Array]:
  """A `PolicyFn` playing uniformly among the legal actions."""
  del obs
  action = jax.random.categorical(key, jnp.where(legal, 0.0, -jnp.inf))
  return action.astype(jnp.int32), legal / jnp.sum(legal, -1, keepdims=True)


def rollout(game: Game, policy_fn: PolicyFn, key: chex.PRNGKey,
            batch_size: int, num_steps: int,
            opponent_fn: PolicyFn | None = None,
            opponent_seat: jax.Array | None = None,
            fixed_fn: PolicyFn | None = None,
            fixed_seat: jax.Array | None = None,
            shaping: float = 0.0) -> Trajectory:
  """Plays `batch_size` games for `num_steps` decisions each.

  Args:
    game: the game (static).
    policy_fn: plays every seat not given to the opponent.
    key: PRNG key.
    batch_size: number of games (static).
    num_steps: decisions per game (static).
    opponent_fn: optionally, a second policy.
    opponent_seat: [batch_size] int32, the seat `opponent_fn` plays in each
      game, -1 for none (pure self-play). Required with `opponent_fn`.
    fixed_fn: optionally, a fixed opponent (a bot) whose decisions are
      recorded as `fixed`; its "policy" output is recorded as the behaviour
      policy (for a deterministic bot, the one-hot of its move).
    fixed_seat: [batch_size] int32, the seat `fixed_fn` plays in each game,
      -1 for none; a game's seat may not be given to both opponents. Required
      with `fixed_fn`.
    shaping: scale of the potential-based reward shaping (static); 0: none.

  Returns:
    The games, with `fixed` set when `fixed_fn` is given.
  """
  if (opponent_fn is None) != (opponent_seat is None):
    raise ValueError("opponent_fn and opponent_seat go together")
  if (fixed_fn is None) != (fixed_seat is None):
    raise ValueError("fixed_fn and fixed_seat go together")
  init_key, play_key = jax.random.split(key)
  states = jax.vmap(game.init)(jax.random.split(init_key, batch_size))
  observe = jax.vmap(game.observe)
  legal_mask = jax.vmap(game.legal_action_mask)
  step = jax.vmap(game.step)

  def potential(states):
    """[B, P]: the game's potential, 0 for finished games."""
    phi = jax.vmap(game.potential)(states)
    return jnp.where(states.terminated[:, None], 0.0, phi)

  def body(states, step_key):
    player = states.current_player.astype(jnp.int32)
    obs = observe(states, player)
    legal = legal_mask(states)
    action, policy = policy_fn(obs, legal, step_key)

    def take_seat(fn, seat, salt):
      """Lets `fn` play `seat` (per game); returns where it did."""
      nonlocal action, policy
      their_action, their_policy = fn(obs, legal,
                                       jax.random.fold_in(step_key, salt))
      theirs = player == seat
      action = jnp.where(theirs, their_action, action)
      policy = jnp.where(theirs[:, None], their_policy, policy)
      return theirs

    if opponent_fn is not None:
      take_seat(opponent_fn, opponent_seat, 1)
    fixed = None if fixed_fn is None else take_seat(fixed_fn, fixed_seat, 2)
    next_states = step(states, action)
    rewards = next_states.returns - states.returns
    if shaping:
      rewards += shaping * (potential(next_states) - potential(states))
    out = Trajectory(obs, legal, player, ~states.terminated, action, policy,
                     rewards, fixed)
    return next_states, out

  _, traj = jax.lax.scan(body, states, jax.random.split(play_key, num_steps))
  return traj
