"""The Go networks: a residual torso, an embedding, policy and value heads,
and an optional reader of retrieved neighbours.

After Humphreys et al. 2022 ("Large-scale Retrieval for Reinforcement
Learning", arXiv:2206.05314): the current position goes through a residual
convolutional torso (He et al. 2016) into an embedding, which is also the
key and query of retrieval. With K > 0 neighbours, each neighbour (its
board from its own mover's side, the next moves played from it, its game's
outcome for that mover, and its distance to the query) is encoded alone,
and the K encodings are read by a permutation-invariant reader (the query
embedding attends over them, or their mean: Zaheer et al. 2017, "Deep
Sets"); the result joins the embedding before the heads.

`apply(params, obs, neighbours=None) -> Output`: obs [B, N, N, 6]
(`games.go.env.planes`); neighbours a `Neighbours` of [B, K, ...] arrays.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import chex
import haiku as hk
import jax
import jax.numpy as jnp

from agents.core.types import Params
from agents.go_retrieval.config import GoRetrievalConfig


class Neighbours(NamedTuple):
  """K retrieved positions per query (all [B, K, ...])."""

  boards: jax.Array  # [B, K, P] int8, +1 the neighbour's mover, -1 opponent
  next_moves: jax.Array  # [B, K, M] int32, -1 past the end of its game
  outcomes: jax.Array  # [B, K] float32, for the neighbour's mover
  distances: jax.Array  # [B, K] float32, from the query's key


class Output(NamedTuple):
  logits: jax.Array  # [B, P + 1]
  value: jax.Array  # [B] in (-1, 1), for the player to move
  embedding: jax.Array  # [B, D], unit length


class Networks(NamedTuple):
  init: Callable[[chex.PRNGKey], Params]
  apply: Callable[..., Output]  # (params, obs, neighbours=None) -> Output


def _torso(obs: jax.Array, channels: int, blocks: int) -> jax.Array:
  conv = functools.partial(hk.Conv2D, output_channels=channels,
                           kernel_shape=3, with_bias=False)
  norm = lambda name: hk.LayerNorm(axis=(-3, -2, -1), create_scale=True,
                                   create_offset=True, name=name)
  x = jax.nn.relu(norm("stem_norm")(conv(name="stem")(obs)))
  for i in range(blocks):
    y = jax.nn.relu(norm(f"block{i}_norm_a")(conv(name=f"block{i}_a")(x)))
    y = norm(f"block{i}_norm_b")(conv(name=f"block{i}_b")(y))
    x = jax.nn.relu(x + y)
  return x


def _encode_neighbours(nb: Neighbours, num_points: int, dim: int) -> jax.Array:
  """[B, K, dim]: each neighbour encoded alone."""
  board = jax.nn.one_hot(nb.boards.astype(jnp.int32) + 1, 3)  # [B,K,P,3]
  board = board.reshape(*board.shape[:2], -1)
  moves = jax.nn.one_hot(jnp.where(nb.next_moves < 0, num_points + 1,
                                   nb.next_moves), num_points + 2)
  moves = moves[..., :num_points + 1]  # [B, K, M, P + 1]; none past the end
  moves = moves.reshape(*moves.shape[:2], -1)
  scalars = jnp.stack([nb.outcomes, nb.distances], axis=-1)
  x = jnp.concatenate([
      hk.Linear(dim, name="nb_board")(board),
      hk.Linear(dim, name="nb_moves")(moves),
      hk.Linear(dim, name="nb_scalars")(scalars)], axis=-1)
  x = jax.nn.relu(hk.LayerNorm(-1, True, True, name="nb_norm")(x))
  return jax.nn.relu(hk.Linear(dim, name="nb_out")(x))


def _read_neighbours(query: jax.Array, encoded: jax.Array, kind: str,
                     dim: int) -> jax.Array:
  """[B, dim]: a permutation-invariant summary of `encoded` [B, K, dim]."""
  if kind == "deepsets":
    return hk.Linear(dim, name="reader")(jnp.mean(encoded, axis=1))
  attend = hk.MultiHeadAttention(num_heads=4, key_size=dim // 4,
                                 w_init=hk.initializers.VarianceScaling(1.0),
                                 name="reader")
  return attend(query[:, None, :], encoded, encoded)[:, 0]


def _forward(config: GoRetrievalConfig, num_points: int, obs: jax.Array,
             neighbours: Neighbours | None) -> Output:
  net, ret = config.network, config.retrieval
  x = _torso(obs, net.channels, net.blocks)
  flat = lambda y: y.reshape(y.shape[0], -1)
  summary = jax.nn.relu(hk.Conv2D(4, 1, name="embed_conv")(x))
  embedding = hk.Linear(net.embedding_dim, name="embed")(flat(summary))
  embedding = embedding / (jnp.linalg.norm(embedding, axis=-1,
                                           keepdims=True) + 1e-6)
  features = embedding
  if ret.num_neighbours:
    if neighbours is None:
      raise ValueError("this network reads retrieved neighbours; none given")
    encoded = _encode_neighbours(neighbours, num_points, ret.neighbour_dim)
    query = hk.Linear(ret.neighbour_dim, name="query")(embedding)
    read = _read_neighbours(query, encoded, ret.encoder, ret.neighbour_dim)
    features = jnp.concatenate([embedding, jax.nn.relu(read)], axis=-1)
  # One hidden layer over the features for both heads, with or without
  # neighbours: a network without retrieval has the same head, so that a
  # gain of retrieval is not the gain of a deeper head.
  head = jax.nn.relu(hk.Linear(net.head_hidden, name="head")(features))
  policy_map = flat(hk.Conv2D(2, 1, name="policy_conv")(x))
  logits = hk.Linear(num_points + 1, name="policy")(
      jnp.concatenate([jax.nn.relu(policy_map), head], axis=-1))
  hidden = jax.nn.relu(hk.Linear(net.value_hidden, name="value_hidden")(
      head))
  value = jnp.tanh(hk.Linear(1, name="value")(hidden))[:, 0]
  return Output(logits=logits, value=value, embedding=embedding)


def make_networks(board_size: int, config: GoRetrievalConfig) -> Networks:
  """The network of `config` for an N x N board."""
  p = board_size * board_size
  net = hk.without_apply_rng(hk.transform(
      functools.partial(_forward, config, p)))
  obs = jnp.zeros((1, board_size, board_size, 6), jnp.float32)
  k, m = config.retrieval.num_neighbours, config.retrieval.next_moves
  dummy = (Neighbours(boards=jnp.zeros((1, k, p), jnp.int8),
                      next_moves=jnp.zeros((1, k, m), jnp.int32),
                      outcomes=jnp.zeros((1, k)), distances=jnp.zeros((1, k)))
           if k else None)

  def apply(params: Params, obs: jax.Array,
            neighbours: Neighbours | None = None) -> Output:
    return net.apply(params, obs, neighbours)

  return Networks(init=lambda key: net.init(key, obs, dummy), apply=apply)
