"""Monte Carlo tree search with the Go network over the JAX engine (mctx).

The search is Gumbel MuZero's (Danihelka et al. 2022, "Policy improvement
by planning with Gumbel", ICLR; `mctx.gumbel_muzero_policy`) with the true
rules as the model: a node's state is a `games.go.GoState`, stepped by
`game.step`; the network gives each node's prior and value. Rewards are the
game's returns at the move that ends it (two passes, the move limit); the
players alternate, so each edge has discount -1 (0 once the game is over).
With retrieval and no `retrieve` function, the root's K neighbours (one
index search per move, as in Humphreys et al. 2022) are read by the network
at every node of that search; with `retrieve` each expanded node gets its
own neighbours, which is what the network saw in training (each position
with its own neighbours). The bundled network plays far better so
(benchmarks/go_retrieval_results.md), and `eval.go.network_player` does
it by default.

`make_search(game, nets, num_simulations)` returns a jitted
`search(params, states, neighbours, key, retrieve_params=None)
-> SearchOutput` over a batch of positions.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import mctx

from agents.go_retrieval import networks as networks_lib
from games.go import env as go_env

_ILLEGAL_LOGIT = -1e9  # Finite: a masked prior must not make NaNs.


class SearchOutput(NamedTuple):
  action: jax.Array  # [B] int32, the move the search chose
  weights: jax.Array  # [B, A] float32, the improved policy at the root
  root_value: jax.Array  # [B] float32, the network's value of the root
  search_value: jax.Array  # [B] float32, the root's value after search


def _evaluate(game: go_env.Go, nets: networks_lib.Networks, params: Any,
              states: go_env.GoState, neighbours: Any):
  """(masked logits [B, A], value [B], legal [B, A]) of a batch of states."""
  obs = jax.vmap(game.observe, in_axes=(0, None))(states, 0)
  legal = jax.vmap(game.legal_action_mask)(states)
  out = nets.apply(params, obs, neighbours)
  return jnp.where(legal, out.logits, _ILLEGAL_LOGIT), out.value, legal


# `retrieve(retrieve_params, states) -> Neighbours` for a batch of states
# (`retrieval.in_graph`).
RetrieveFn = Callable[[Any, go_env.GoState], networks_lib.Neighbours]


def make_search(game: go_env.Go, nets: networks_lib.Networks,
                num_simulations: int, *, max_considered_actions: int = 16,
                retrieve: RetrieveFn | None = None
                ) -> Callable[..., SearchOutput]:
  """A jitted batched search with `num_simulations` simulations per move.

  Args:
    game, nets: the rules and the network.
    num_simulations: per move.
    max_considered_actions: Gumbel MuZero's root candidates.
    retrieve: if given, every expanded node's neighbours come from it (the
      root's are still the `neighbours` argument); None: the root's
      neighbours serve every node.

  Returns:
    `search(params, states, neighbours, key, retrieve_params=None)
    -> SearchOutput`, states a batch [B] of `GoState`s (not terminated),
    neighbours the root's `networks.Neighbours` ([B, K, ...]) or None
    without retrieval, retrieve_params `retrieve`'s first argument.
  """
  if num_simulations < 1:
    raise ValueError(f"num_simulations must be >= 1, got {num_simulations}")

  def recurrent_fn(params_and_neighbours, key, action, states):
    del key
    params, neighbours, retrieve_params = params_and_neighbours
    mover = states.current_player
    nxt = jax.vmap(game.step)(states, action)
    if retrieve is not None:
      neighbours = retrieve(retrieve_params, nxt)
    logits, value, _ = _evaluate(game, nets, params, nxt, neighbours)
    ended_now = nxt.terminated & ~states.terminated
    reward = jnp.where(ended_now, jnp.take_along_axis(
        nxt.returns, mover[:, None], axis=1)[:, 0], 0.0)
    over = nxt.terminated
    return mctx.RecurrentFnOutput(
        reward=reward, discount=jnp.where(over, 0.0, -1.0),
        prior_logits=logits, value=jnp.where(over, 0.0, value)), nxt

  @jax.jit
  def search(params: Any, states: go_env.GoState, neighbours: Any,
             key: chex.PRNGKey, retrieve_params: Any = None) -> SearchOutput:
    logits, value, legal = _evaluate(game, nets, params, states, neighbours)
    root = mctx.RootFnOutput(prior_logits=logits, value=value,
                             embedding=states)
    out = mctx.gumbel_muzero_policy(
        params=(params, neighbours, retrieve_params), rng_key=key, root=root,
        recurrent_fn=recurrent_fn, num_simulations=num_simulations,
        invalid_actions=~legal,
        max_num_considered_actions=max_considered_actions)
    search_value = out.search_tree.node_values[:, mctx.Tree.ROOT_INDEX]
    return SearchOutput(action=out.action.astype(jnp.int32),
                        weights=out.action_weights, root_value=value,
                        search_value=search_value)

  return search


@functools.partial(jax.jit, static_argnames=("game", "nets"))
def greedy(game: go_env.Go, nets: networks_lib.Networks, params: Any,
           states: go_env.GoState, neighbours: Any) -> jax.Array:
  """[B] int32: the network's most likely legal move, without search."""
  logits, _, _ = _evaluate(game, nets, params, states, neighbours)
  return jnp.argmax(logits, axis=-1).astype(jnp.int32)
