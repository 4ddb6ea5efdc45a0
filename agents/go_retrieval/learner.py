"""The Go agent for the offline driver: its network, loss and evaluation.

What `selfplay.offline` needs of an agent (see `agents.core.registry`):
`init(key) -> TrainState`, `optimizer`, `loss_fn`, `after_update`,
`test_params`, `dataset(config)` (an object with `sample(rng, batch_size,
augment)` and `fixed(split, count, batch_size)`), `batch_size`, `augment`
and `evaluate(params, batch) -> metrics` (sums over the batch's weighted
rows, which the driver divides by the total weight).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax

from agents.core import learner as learner_lib
from agents.core.types import Params
from agents.go_retrieval import data as data_lib
from agents.go_retrieval import losses, networks
from agents.go_retrieval.config import GoRetrievalExperiment
from games.go import env as go_env


class GoAgent(NamedTuple):
  """Pure functions over a `TrainState` (see the module docstring)."""

  networks: networks.Networks
  optimizer: optax.GradientTransformation
  init: Any
  loss_fn: Any
  after_update: Any
  test_params: Any
  evaluate: Any
  dataset: Any
  batch_size: int
  augment: bool


def observations(batch: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
  """(obs [B, N, N, 6], legal [B, P + 1]) of a batch of positions.

  Legal here: the empty points not barred by ko, and the pass (a suicide is
  not excluded: experts never play one, and the target is always legal).
  """
  obs = jax.vmap(go_env.planes)(batch["board"], batch["player"],
                                batch["superko"], batch["last_move"])
  points = (batch["board"] == 0) & ~batch["superko"]
  legal = jnp.concatenate(
      [points, jnp.ones((points.shape[0], 1), bool)], axis=1)
  return obs, legal


def neighbours_of(batch: dict[str, jax.Array]
                  ) -> networks.Neighbours | None:
  """The neighbours a batch carries (`data.NeighbourData`), or None."""
  if "nb_boards" not in batch:
    return None
  return networks.Neighbours(
      boards=batch["nb_boards"], next_moves=batch["nb_next_moves"],
      outcomes=batch["nb_outcomes"], distances=batch["nb_distances"])


def _dataset(config: GoRetrievalExperiment) -> data_lib.PositionData:
  """The training data: positions, with their neighbours when K > 0.

  Raises:
    ValueError: a missing store, or K > 0 without the index and table.
  """
  retrieval = config.agent.retrieval
  if not retrieval.num_neighbours:
    return data_lib.PositionData(config.data.positions)
  if not (retrieval.index and retrieval.neighbours):
    raise ValueError("a network with neighbours (agent.retrieval."
                     "num_neighbours > 0) trains with agent.retrieval.index "
                     "(`arena go index`) and agent.retrieval.neighbours "
                     "(`arena go neighbours`)")
  return data_lib.NeighbourData(config.data.positions, retrieval.neighbours,
                                retrieval.index, retrieval.num_neighbours,
                                retrieval.next_moves)


def make_agent(config: GoRetrievalExperiment) -> GoAgent:
  """The agent of an experiment config (with K > 0 neighbours, from the
  precomputed tables of `agent.retrieval`)."""
  agent_cfg = config.agent
  board_size = config.game.params.board_size
  nets = networks.make_networks(board_size, agent_cfg)
  learning_rate = agent_cfg.learning_rate
  if agent_cfg.decay_steps:
    learning_rate = optax.cosine_decay_schedule(learning_rate,
                                                agent_cfg.decay_steps)
  optimizer = optax.adamw(learning_rate, weight_decay=agent_cfg.weight_decay)

  def init(key: chex.PRNGKey) -> learner_lib.TrainState:
    init_key, state_key = jax.random.split(key)
    return learner_lib.init_train_state(nets.init(init_key), optimizer,
                                        state_key)

  def forward(params: Params, batch):
    obs, legal = observations(batch)
    return nets.apply(params, obs, neighbours_of(batch)), legal

  def loss_fn(params, state, batch, key):
    del state, key
    out, legal = forward(params, batch)
    return losses.batch_loss(out.logits, out.value, batch["target"],
                             batch["outcome"], legal, agent_cfg.value_weight)

  @jax.jit
  def evaluate(params: Params, batch) -> dict[str, jax.Array]:
    out, legal = forward(params, batch)
    _, metrics = jax.vmap(losses.policy_value_loss,
                          in_axes=(0, 0, 0, 0, 0, None))(
        out.logits, out.value, batch["target"], batch["outcome"], legal,
        agent_cfg.value_weight)
    w = batch["weight"]
    return {k: jnp.sum(v * w) for k, v in metrics.items()}

  return GoAgent(
      networks=nets, optimizer=optimizer, init=init, loss_fn=loss_fn,
      after_update=None, test_params=lambda state: state.params,
      evaluate=evaluate,
      dataset=_dataset,
      batch_size=agent_cfg.batch_size, augment=agent_cfg.augment)
