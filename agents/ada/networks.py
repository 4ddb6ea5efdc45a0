"""The AdA agent's network: an observation encoder, a memory, policy and
value heads.

The memory is a Transformer-XL (Dai et al. 2019, arXiv:1901.02860), as in
AdA (Adaptive Agent team 2023, arXiv:2301.07608): each layer attends over
its own inputs of the last `memory_length` steps (the cached segment
memory, never differentiated through) and the steps of the current segment
before it. Positions are relative: a learned bias per head and distance
(Shaw et al. 2018, arXiv:1803.02155; Raffel et al. 2020's T5 bias) instead
of Transformer-XL's sinusoid-based terms, and layer norms come before each
block (the identity-map reordering of GTrXL, Parisotto et al. 2020,
arXiv:1910.06764, which made transformers train stably in RL). The baseline
memory is a GRU (Cho et al. 2014).

Both memories are cleared where `reset` is set (the first step of an
episode; at every trial for the memory-reset control), and both have two
ways in: `step` (one time step, for acting) and `unroll` (a segment of T
steps from the memory at its start, for learning). `unroll` computes
exactly what T calls of `step` compute (tested): a step attends to the same
M + 1 positions either way.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp

from agents.ada.config import NetworkConfig
from games.xland import encoding as enc
from games.xland import trials

Params = Any
Memory = Any  # TransformerMemory or a GRU state [B, d]


class TransformerMemory(NamedTuple):
  """The Transformer-XL's cache for a batch of B environments: a ring of
  the last M steps (entry `t % M` holds step t), written in place."""
  # One array per layer (a slice of one [B, L, M, d] array would be copied
  # at every step).
  states: tuple[jax.Array, ...]  # L x [B, M, d] float32: the layer's inputs
  # The attention keys and values of `states` under the parameters acting
  # now (`Networks.refresh`), so that a step projects only its own input.
  # `unroll` recomputes them from `states`.
  keys: tuple[jax.Array, ...]    # L x [B, H, M, d / H] float32
  values: tuple[jax.Array, ...]  # L x [B, H, M, d / H] float32
  valid: jax.Array   # [B, M] bool: the entry is of the current episode
  time: jax.Array    # [B, M] int32: the step each entry is of
  now: jax.Array     # [B] int32: the step about to be taken (equal across
                     # the batch: environments step together)


class Networks(NamedTuple):
  """Pure functions of the agent's network.

  init(key) -> params.
  initial_memory(batch) -> memory of `batch` environments.
  step(params, obs, reset, memory) -> (logits [B, A], value [B], memory):
    obs leaves [B, ...] (`trials.Observation`), reset [B] bool.
  unroll(params, obs, reset, memory) -> (logits [B, T, A], value [B, T]):
    obs leaves [B, T, ...], reset [B, T] (batch-major, as the learner's
    segments are), memory at the segment's start.
  refresh(params, memory) -> memory: the cached keys and values of the
    memory recomputed under `params` (after an update; `step` with the same
    parameters keeps them up to date). The identity for a GRU.
  """
  init: Callable[[jax.Array], Params]
  initial_memory: Callable[[int], Memory]
  step: Callable[..., tuple[jax.Array, jax.Array, Memory]]
  unroll: Callable[..., tuple[jax.Array, jax.Array]]
  refresh: Callable[[Params, Memory], Memory]


def _encode(obs: trials.Observation, cfg: NetworkConfig) -> jax.Array:
  """Features [..., width] of observations with any leading axes."""
  e = cfg.embed_dim
  tile = hk.Embed(enc.NUM_TILES, e, name="tile")
  colour = hk.Embed(enc.NUM_COLORS, e, name="colour")
  goal_kind = hk.Embed(enc.NUM_GOAL_IDS, e, name="goal_kind")
  view = obs.view.astype(jnp.int32)
  lead = view.shape[:-3]
  view = jnp.concatenate([tile(view[..., 0]), colour(view[..., 1])], -1)
  goal = obs.goal.astype(jnp.int32)  # (kind, tile, colour, tile, colour)
  pocket = obs.pocket.astype(jnp.int32)
  trial = jnp.minimum(obs.trial, cfg.max_trials - 1)
  features = jnp.concatenate([
      view.reshape(*lead, -1),
      goal_kind(goal[..., 0]), tile(goal[..., 1]), colour(goal[..., 2]),
      tile(goal[..., 3]), colour(goal[..., 4]),
      tile(pocket[..., 0]), colour(pocket[..., 1]),
      jax.nn.one_hot(obs.prev_action, trials.NUM_ACTIONS + 1),
      obs.prev_reward[..., None].astype(jnp.float32),
      jax.nn.one_hot(trial, cfg.max_trials),
      obs.trial_start[..., None].astype(jnp.float32),
  ], axis=-1)
  return hk.nets.MLP([cfg.width, cfg.width], activate_final=True,
                     name="encoder")(features)


def _heads(h: jax.Array, cfg: NetworkConfig) -> tuple[jax.Array, jax.Array]:
  logits = hk.nets.MLP([cfg.head_hidden, trials.NUM_ACTIONS],
                       name="policy")(h)
  value = hk.nets.MLP([cfg.head_hidden, 1], name="value")(h)[..., 0]
  return logits, value


class _TransformerLayer(hk.Module):
  """One pre-norm Transformer-XL layer with learned relative position bias."""

  def __init__(self, cfg: NetworkConfig, name: str):
    super().__init__(name=name)
    self._cfg = cfg

  def project(self, x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Queries, keys and values [B, H, N, d / H] of inputs x [B, N, d] (the
    head-major layout the attention reads without transposing)."""
    cfg = self._cfg
    x = hk.LayerNorm(-1, create_scale=True, create_offset=True,
                     name="attention_norm")(x)
    heads = lambda y: jnp.swapaxes(
        y.reshape(*y.shape[:2], cfg.heads, cfg.width // cfg.heads), 1, 2)
    return tuple(heads(hk.Linear(cfg.width, with_bias=False, name=name)(x))
                 for name in ("query", "key", "value"))

  def __call__(self, h: jax.Array, query: jax.Array,
               parts: list[tuple[jax.Array, jax.Array, jax.Array, jax.Array]]
               ) -> jax.Array:
    """The layer's output [B, T, d] for inputs h [B, T, d] with queries
    [B, H, T, d / H], attending over `parts` of positions, each (keys and
    values [B, H, S, d / H], seen [B, T, S] bool, distance [T, S] int32
    in 0..M where seen: the same for every environment, as they step
    together, so the bias's gradient sums over the batch before its
    scatter). Parts are kept apart, not concatenated: a step's memory is
    read where it lies, never copied."""
    cfg = self._cfg
    heads, dh = cfg.heads, cfg.width // cfg.heads
    bias = hk.get_parameter("relative_bias", (heads, cfg.memory_length + 1),
                            init=jnp.zeros)
    logits = []
    for keys, _, seen, distance in parts:
      part = jnp.einsum("bhtd,bhsd->bhts", query, keys) / jnp.sqrt(dh)
      part = part + bias[:, distance][None]
      logits.append(jnp.where(seen[:, None], part, -1e30))
    sizes = [p[0].shape[2] for p in parts]
    weights = jnp.split(jax.nn.softmax(jnp.concatenate(logits, -1), -1),
                        list(itertools.accumulate(sizes))[:-1], axis=-1)
    attended = sum(jnp.einsum("bhts,bhsd->bthd", w, values)
                   for w, (_, values, _, _) in zip(weights, parts))
    attended = attended.reshape(*h.shape[:2], cfg.width)
    h = h + hk.Linear(cfg.width, name="output")(attended)
    ffw = hk.nets.MLP([cfg.ffw_dim, cfg.width], activation=jax.nn.gelu,
                      name="ffw")
    return h + ffw(hk.LayerNorm(-1, create_scale=True, create_offset=True,
                                name="ffw_norm")(h))


def _final_norm(h: jax.Array) -> jax.Array:
  return hk.LayerNorm(-1, create_scale=True, create_offset=True,
                      name="final_norm")(h)


def _transformer_unroll(x: jax.Array, reset: jax.Array,
                        memory: TransformerMemory, cfg: NetworkConfig
                        ) -> jax.Array:
  """A segment x [B, T, d], reset [B, T], from `memory` (its states are
  constants; their keys and values are projected anew: the parameters are
  being learned). Returns [B, T, d]."""
  t, m = x.shape[1], cfg.memory_length
  episode = jnp.cumsum(reset.astype(jnp.int32), axis=1)  # [B, T]
  # The memory: step i of the segment is step now + i (environments step
  # together: the first one's clock is every one's).
  distance = (memory.now[0] + jnp.arange(t)[:, None]
              - memory.time[0][None, :])  # [T, M]
  memory_seen = (memory.valid[:, None, :] & (episode[:, :, None] == 0) &
                 (distance <= m)[None])
  # The segment: steps i - m .. i of the same episode.
  gap = jnp.arange(t)[:, None] - jnp.arange(t)[None, :]
  segment_seen = ((gap >= 0) & (gap <= m))[None] & (
      episode[:, :, None] == episode[:, None, :])
  segment_distance = jnp.clip(gap, 0, m)
  h = x
  for index in range(cfg.layers):
    layer = _TransformerLayer(cfg, name=f"layer_{index}")
    query, keys, values = layer.project(h)
    _, past_keys, past_values = layer.project(
        jax.lax.stop_gradient(memory.states[index]))
    h = layer(h, query, [
        (past_keys, past_values, memory_seen, jnp.clip(distance, 0, m)),
        (keys, values, segment_seen, segment_distance)])
  return _final_norm(h)


def _transformer_step(x: jax.Array, reset: jax.Array,
                      memory: TransformerMemory, cfg: NetworkConfig
                      ) -> tuple[jax.Array, TransformerMemory]:
  """One step x [B, d], reset [B] from `memory` with its cached keys and
  values (parameters fixed while acting). Returns ([B, d], the memory with
  this step written in place of the oldest)."""
  m = cfg.memory_length
  valid = memory.valid & ~reset[:, None]
  # [1, M]: 1..M where valid (environments step together).
  distance = (memory.now[0] - memory.time[0])[None]
  memory_seen = (valid & (distance <= m))[:, None, :]
  self_seen = jnp.ones((x.shape[0], 1, 1), jnp.bool_)
  self_distance = jnp.zeros((1, 1), jnp.int32)
  slot = memory.now[0] % m
  write = lambda ring, v, axis: jax.lax.dynamic_update_slice(
      ring, v, tuple(slot if i == axis else 0 for i in range(ring.ndim)))
  h = x[:, None]
  states, keys_all, values_all = [], [], []
  for index in range(cfg.layers):
    layer = _TransformerLayer(cfg, name=f"layer_{index}")
    query, keys, values = layer.project(h)
    states.append(write(memory.states[index], h, 1))
    h = layer(h, query, [
        (memory.keys[index], memory.values[index], memory_seen,
         jnp.clip(distance, 0, m)),
        (keys, values, self_seen, self_distance)])
    keys_all.append(write(memory.keys[index], keys, 2))
    values_all.append(write(memory.values[index], values, 2))
  batch = jnp.arange(x.shape[0])
  memory = TransformerMemory(
      states=tuple(states), keys=tuple(keys_all), values=tuple(values_all),
      valid=valid.at[batch, slot].set(True),
      time=memory.time.at[batch, slot].set(memory.now),
      now=memory.now + 1)
  return _final_norm(h[:, 0]), memory


def _refresh(memory: TransformerMemory, cfg: NetworkConfig
             ) -> TransformerMemory:
  keys, values = [], []
  for index in range(cfg.layers):
    _, k, v = _TransformerLayer(cfg, name=f"layer_{index}").project(
        memory.states[index])
    keys.append(k)
    values.append(v)
  return memory._replace(keys=tuple(keys), values=tuple(values))


def _gru_core(cfg: NetworkConfig) -> hk.RNNCore:
  return hk.ResetCore(hk.GRU(cfg.width, name="gru"))


def make_networks(cfg: NetworkConfig,
                  trials_config: trials.TrialsConfig) -> Networks:
  """The agent's network for `cfg`, on the observations of `trials_config`,
  as pure functions."""

  def initial_memory(batch: int) -> Memory:
    if cfg.memory == "gru":
      return jnp.zeros((batch, cfg.width), jnp.float32)
    zeros = lambda *shape: tuple(jnp.zeros((batch, *shape), jnp.float32)
                                 for _ in range(cfg.layers))
    heads = (cfg.heads, cfg.memory_length, cfg.width // cfg.heads)
    return TransformerMemory(
        states=zeros(cfg.memory_length, cfg.width), keys=zeros(*heads),
        values=zeros(*heads),
        valid=jnp.zeros((batch, cfg.memory_length), jnp.bool_),
        time=jnp.zeros((batch, cfg.memory_length), jnp.int32),
        now=jnp.zeros((batch,), jnp.int32))

  def forward_unroll(obs, reset, memory):
    x = _encode(obs, cfg)  # [B, T, d]
    if cfg.memory == "gru":  # (haiku's unroll is time-major)
      h, _ = hk.dynamic_unroll(_gru_core(cfg), (x, reset), memory,
                               time_major=False)
    else:
      h = _transformer_unroll(x, reset, memory, cfg)
    return _heads(h, cfg)

  def forward_step(obs, reset, memory):
    x = _encode(obs, cfg)  # [B, d]
    if cfg.memory == "gru":
      h, memory = _gru_core(cfg)((x, reset), memory)
    else:
      h, memory = _transformer_step(x, reset, memory, cfg)
    logits, value = _heads(h, cfg)
    return logits, value, memory

  def forward_refresh(memory):
    return memory if cfg.memory == "gru" else _refresh(memory, cfg)

  net = hk.without_apply_rng(hk.multi_transform(
      lambda: (forward_unroll, (forward_step, forward_unroll,
                                forward_refresh))))
  step_apply, unroll_apply, refresh_apply = net.apply

  def init(key: jax.Array) -> Params:
    obs = jax.tree.map(lambda s: jnp.zeros((1, 1, *s.shape), s.dtype),
                       trials.observation_spec(trials_config))
    return net.init(key, obs, jnp.zeros((1, 1), jnp.bool_),
                    initial_memory(1))

  return Networks(init=init, initial_memory=initial_memory,
                  step=step_apply, unroll=unroll_apply, refresh=refresh_apply)
