"""The DeepNash network for Stratego (Perolat et al. 2022, arXiv:2206.15378).

A convolutional residual torso over the observation planes
(`games.stratego.observe`), a value head and the three policy heads DeepNash
uses:

- deployment: one logit per square, where the next piece is placed;
- piece selection: one logit per square, which piece moves;
- target square: for each square, one logit per (direction, distance), i.e.
  per target square of the piece standing there.

The value head reads the same torso as the policy heads.

A move is chosen as piece then square. With play actions laid out as
`(direction * L + distance - 1) * S + from` (`games.stratego.tables`), the
flat logit of a move is `select[from] + target[from, direction, distance]`,
so the masked softmax over moves factorises exactly into a masked piece
distribution, `softmax(select[f] + logsumexp_legal(target[f]))`, times the
masked distribution of the target given the piece, `softmax_legal(target[f])`.
R-NaD's NeuRD loss then trains both heads through the flat logits. In the
deployment phase the first S logits are the deployment head's instead.

Both players see the board from their own side: the second player's
observation is turned 180 degrees before the torso and its outputs turned
back (squares mirrored, up/down and left/right swapped), so one set of
weights plays both seats. DeepNash plays from one side the same way.
"""

from __future__ import annotations

import haiku as hk
import jax
import jax.numpy as jnp

from agents.rnad.config import NetworkConfig
from games.stratego import observe as stratego_observe

# Observation channels (see games.stratego.observe): the second-player flag
# and the deployment-phase flag, constant over the board.
_PLAYER_PLANE = stratego_observe.NUM_CHANNELS - 4
_DEPLOY_PLANE = stratego_observe.NUM_CHANNELS - 3
# Directions are up, down, left, right; turning the board swaps them in pairs.
_TURNED_DIRECTION = (1, 0, 3, 2)


def _turn(x: jax.Array, turned: jax.Array) -> jax.Array:
  """Turns [B, H, W, ...] boards by 180 degrees where `turned` [B]."""
  flipped = x[:, ::-1, ::-1]
  mask = turned.reshape((-1,) + (1,) * (x.ndim - 1))
  return jnp.where(mask, flipped, x)


class _ResBlock(hk.Module):
  """Two 3x3 convolutions with a skip connection (pre-activation)."""

  def __init__(self, channels: int, name: str | None = None):
    super().__init__(name=name)
    self._channels = channels

  def __call__(self, x: jax.Array) -> jax.Array:
    h = jax.nn.relu(x)
    h = hk.Conv2D(self._channels, 3, name="conv_0")(h)
    h = jax.nn.relu(h)
    h = hk.Conv2D(self._channels, 3, name="conv_1")(h)
    return x + h


def _torso(config: NetworkConfig, x: jax.Array) -> jax.Array:
  """The stem and residual blocks: [B, H, W, C] -> [B, H, W, channels]."""
  h = hk.Conv2D(config.channels, config.stem_kernel, name="stem")(x)
  for i in range(config.num_blocks):
    h = _ResBlock(config.channels, name=f"block_{i}")(h)
  return jax.nn.relu(h)


def _move_layout(per_square: jax.Array, turned: jax.Array,
                 max_distance: int) -> jax.Array:
  """[B, S, 4, L] per-square move outputs -> [B, 4 * L * S], action layout."""
  per_square = jnp.where(turned[:, None, None, None],
                         per_square[:, :, _TURNED_DIRECTION, :], per_square)
  return per_square.transpose(0, 2, 3, 1).reshape(
      per_square.shape[0], 4 * max_distance * per_square.shape[1])


def _with_deployment(deploy: jax.Array, play: jax.Array,
                     deploying: jax.Array) -> jax.Array:
  """Deployment outputs [B, S] in the first S actions while deploying."""
  deploy_full = jnp.concatenate(
      [deploy, jnp.zeros((deploy.shape[0], play.shape[1] - deploy.shape[1]),
                         deploy.dtype)], axis=-1)  # masked: illegal
  return jnp.where(deploying[:, None], deploy_full, play)


def forward(num_actions: int, config: NetworkConfig, obs: jax.Array
            ) -> tuple[jax.Array, jax.Array]:
  """(logits [..., A], value [...]) for observations [..., H, W, C]."""
  lead = obs.shape[:-3]
  h_, w_, c_ = obs.shape[-3:]
  squares = h_ * w_
  if num_actions % (4 * squares):
    raise ValueError(f"{num_actions} actions do not fit a {h_}x{w_} board")
  max_distance = num_actions // (4 * squares)
  x = obs.reshape((-1, h_, w_, c_))
  turned = x[:, 0, 0, _PLAYER_PLANE] > 0.5
  deploying = x[:, 0, 0, _DEPLOY_PLANE] > 0.5
  x = _turn(x, turned)

  h = _torso(config, x)

  heads = hk.Conv2D(2 + 4 * max_distance, 1, name="policy_heads")(h)
  heads = _turn(heads, turned)  # back to board coordinates
  select = heads[..., 1].reshape(-1, squares)
  target = _move_layout(heads[..., 2:].reshape(-1, squares, 4, max_distance),
                        turned, max_distance)
  play = target + jnp.tile(select, (1, 4 * max_distance))
  logits = _with_deployment(heads[..., 0].reshape(-1, squares), play,
                            deploying)

  pooled = jnp.concatenate([jnp.mean(h, axis=(1, 2)),
                            jnp.max(h, axis=(1, 2))], axis=-1)
  value = hk.nets.MLP((config.value_hidden, 1), name="value")(pooled)[:, 0]
  return logits.reshape(lead + (num_actions,)), value.reshape(lead)
