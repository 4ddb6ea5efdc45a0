"""R-NaD for the shared learner: the loss, the post-update hook, the schedule.

Regularised Nash Dynamics (Perolat et al. 2022, arXiv:2206.15378, the
learning rule of DeepNash). Learning proceeds in iterations; within one, the
policy is trained by NeuRD (or, with `policy.loss="softmax_pg"`, the softmax
policy gradient on the same estimates) on a game whose rewards are
transformed by `eta * log(pi / pi_reg)`, where pi_reg blends the two latest
fixed points (`alpha` grows from 0 to 1 over the first half of the
iteration). The Q estimates use the value V(x) as the baseline of every
action (`agents.rnad.losses`). At the end of an iteration the slowly averaged
target network becomes the new regularisation policy.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from agents.core.learner import TrainState, init_train_state
from agents.core.types import Metrics, Params, PolicyFn, Trajectory
from agents.rnad import actor, imitation, losses
from agents.rnad.config import RNaDConfig
from agents.rnad.networks import (Networks, apply_on_steps, compact_steps,
                                  legal_log_policy, legal_policy,
                                  make_networks)
from games.api import Game


class RNaDExtras(NamedTuple):
  params_target: Params  # slow average of params; bootstraps v-trace
  params_prev: Params  # regularisation policy of the latest iteration
  params_prev_: Params  # regularisation policy of the one before


class RNaDAveragedExtras(NamedTuple):
  """`RNaDExtras` plus the Polyak-averaged test-time parameters.

  Used when `RNaDConfig.test_policy_avg` > 0 (a separate type, so runs
  without averaging keep their checkpoint layout).
  """

  params_target: Params
  params_prev: Params
  params_prev_: Params
  params_avg: Params  # Polyak average of params, the test-time policy


class EntropySchedule(NamedTuple):
  """Where learner step t falls in the regularisation iterations."""

  starts: tuple[int, ...]  # first step of each explicit iteration
  sizes: tuple[int, ...]  # its length; the last repeats forever after

  @classmethod
  def from_config(cls, config: RNaDConfig) -> "EntropySchedule":
    sizes = [s for s, r in zip(config.entropy_schedule_sizes,
                               config.entropy_schedule_repeats)
             for _ in range(r)]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    return cls(starts=tuple(int(s) for s in starts), sizes=tuple(sizes))

  def _locate(self, step: jax.Array) -> tuple[jax.Array, jax.Array]:
    starts = jnp.asarray(self.starts, jnp.int32)
    sizes = jnp.asarray(self.sizes, jnp.int32)
    idx = jnp.searchsorted(starts, step, side="right") - 1
    start, size = starts[idx], sizes[idx]
    # Past the explicit iterations the last size repeats.
    beyond = jnp.maximum(step - start, 0) // size
    is_last = idx == len(self.sizes) - 1
    start = jnp.where(is_last, start + beyond * size, start)
    return start, size

  def alpha(self, step: jax.Array) -> jax.Array:
    """Blend weight of the newest regularisation policy at `step`. []."""
    start, size = self._locate(step)
    return jnp.minimum(2.0 * (step - start) / size, 1.0).astype(jnp.float32)

  def ends_iteration(self, step: jax.Array) -> jax.Array:
    """Whether the update numbered `step` (0-based) ends an iteration. []."""
    start, size = self._locate(step)
    return step - start == size - 1


def learning_rate_schedule(config: RNaDConfig) -> optax.ScalarOrSchedule:
  """Constant, or `lr / sqrt(1 + t / learning_rate_decay_steps)`."""
  if not config.learning_rate_decay_steps:
    return config.learning_rate
  return lambda t: config.learning_rate * jax.lax.rsqrt(
      1.0 + t.astype(jnp.float32) / config.learning_rate_decay_steps)


class RNaD(NamedTuple):
  """What the shared learner and the self-play driver need from R-NaD."""

  networks: Networks
  optimizer: optax.GradientTransformation
  init: Callable[[chex.PRNGKey], TrainState]
  loss_fn: Callable[..., tuple[jax.Array, Metrics]]
  after_update: Callable[[TrainState], TrainState]
  make_policy_fn: Callable[[TrainState], PolicyFn]
  schedule: EntropySchedule
  # The parameters to evaluate and export: the Polyak average when
  # `test_policy_avg` > 0, else the online parameters.
  test_params: Callable[[TrainState], Params]
  # (params, obs [N, *O], legal [N, A], raw=False) -> probs [N, A]: the
  # test-time policy (post-processed when `finetune.at_test_time`, unless
  # `raw`).
  policy_probs: Callable[..., jax.Array]
  # Whether the test-time policy differs from the raw one (post-processing).
  post_processes: bool
  # (params, traj, value_weight) -> (loss, metrics): `imitation.imitation_loss`
  # on the steps this config computes.
  imitation_loss: Callable[..., tuple[jax.Array, Metrics]]
  # (state, params) -> state starting from `params` (a clone): they become
  # the online, target, regularisation and test-time parameters.
  from_clone: Callable[[TrainState, Params], TrainState]
  # (state, params) -> state whose `test_params` are `params`.
  with_test_params: Callable[[TrainState, Params], TrainState]


def make_rnad(game: Game, config: RNaDConfig) -> RNaD:
  """Builds R-NaD for `game`."""
  networks = make_networks(game.observation_shape, game.num_actions,
                           config.network)
  schedule = EntropySchedule.from_config(config)
  optimizer = optax.chain(
      optax.clip(config.clip_gradient),
      optax.adam(learning_rate_schedule(config), b1=config.adam.b1,
                 b2=config.adam.b2, eps=config.adam.eps))
  finetune = config.finetune

  if config.policy.loss == "softmax_pg":
    policy_loss = functools.partial(losses.softmax_pg_loss,
                                    clip=config.policy.clip)
  else:
    policy_loss = functools.partial(losses.neurd_loss,
                                    beta=config.policy.neurd_beta,
                                    clip=config.policy.clip)

  def init(key: chex.PRNGKey) -> TrainState:
    init_key, state_key = jax.random.split(key)
    params = networks.init(init_key)
    if config.test_policy_avg > 0:
      extras = RNaDAveragedExtras(params, params, params, params)
    else:
      extras = RNaDExtras(params, params, params)
    return init_train_state(params, optimizer, state_key, extras)

  def loss_fn(params: Params, state: TrainState, traj: Trajectory,
              key: chex.PRNGKey) -> tuple[jax.Array, Metrics]:
    del key
    extras: RNaDExtras = state.extras
    legal = traj.legal
    compaction = compact_steps(traj.valid, config.compute_fraction)
    valid = traj.valid if compaction is None else compaction.used
    # A fixed opponent's (a bot's) decisions are the environment's: the
    # v-trace evaluates the bot's own (recorded) policy there, they carry no
    # regularisation reward, and nothing is learned at them.
    fixed = (jnp.zeros_like(valid) if traj.fixed is None
             else traj.fixed & valid)
    learned = valid & ~fixed

    def apply(p: Params):
      return apply_on_steps(networks.apply, p, traj.obs, compaction)

    out = apply(params)
    pi = legal_policy(out.logits, legal)
    log_pi = legal_log_policy(out.logits, legal)
    v_target_net = apply(extras.params_target).value
    log_prev = legal_log_policy(apply(extras.params_prev).logits, legal)
    log_prev_ = legal_log_policy(apply(extras.params_prev_).logits, legal)
    alpha = schedule.alpha(state.step)
    log_ratio = jax.lax.stop_gradient(jnp.where(
        legal & ~fixed[..., None],
        log_pi - (alpha * log_prev + (1.0 - alpha) * log_prev_), 0.0))
    action_oh = jax.nn.one_hot(traj.action, game.num_actions)
    mu = jnp.sum(traj.policy * action_oh, -1)
    mu = jnp.where(valid, mu, 1.0)
    sg = jax.lax.stop_gradient
    evaluated = jnp.where(fixed[..., None], traj.policy, sg(pi))
    num_valid = jnp.maximum(jnp.sum(learned), 1)
    loss_v = loss_pi = 0.0
    for player in range(game.num_players):
      vtrace = jax.vmap(
          lambda *a, p=player: losses.two_player_vtrace(
              *a, player=p, eta=config.eta_reward_transform,
              c=config.c_vtrace, rho=config.rho_vtrace),
          in_axes=1, out_axes=1)(
              v_target_net, valid, traj.acting, traj.action, mu,
              evaluated, log_ratio, traj.rewards[..., player])
      mask = vtrace.has_played & ~fixed
      loss_v += jax.vmap(losses.value_loss, in_axes=1)(
          out.value, vtrace.v_target, mask).sum()
      loss_pi += jax.vmap(policy_loss, in_axes=1)(
          out.logits, sg(pi), vtrace.q_estimate, legal, mask).sum()
    loss_v, loss_pi = loss_v / num_valid, loss_pi / num_valid
    entropy = -jnp.sum(jnp.where(learned, jnp.sum(pi * log_pi, -1), 0.0))
    metrics = {
        "loss_value": loss_v,
        "loss_policy": loss_pi,
        "alpha": alpha,
        "policy_entropy": entropy / num_valid,
        "episode_length": jnp.mean(jnp.sum(traj.valid, 0).astype(jnp.float32)),
        "return_player0": jnp.mean(jnp.sum(traj.rewards[..., 0], 0)),
    }
    if traj.fixed is not None:  # the learner's mean result against the bots
      played = traj.fixed & traj.valid
      bot_seat = jnp.max(jnp.where(played, traj.acting, 0), 0)
      vs_bot = jnp.any(played, 0)
      own_return = jnp.sum(jnp.take_along_axis(
          traj.rewards, (1 - bot_seat)[None, :, None], -1)[..., 0], 0)
      metrics["vs_bots/return"] = jnp.sum(jnp.where(
          vs_bot, own_return, 0.0)) / jnp.maximum(jnp.sum(vs_bot), 1)
    if compaction is not None:  # games left out of this update
      metrics["games_dropped"] = 1.0 - jnp.mean(jnp.any(valid, 0) | ~jnp.any(
          traj.valid, 0))
    return loss_v + loss_pi, metrics

  def after_update(state: TrainState) -> TrainState:
    extras: RNaDExtras | RNaDAveragedExtras = state.extras
    avg = config.target_network_avg
    target = jax.tree.map(lambda t, p: t + avg * (p - t),
                          extras.params_target, state.params)
    swap = schedule.ends_iteration(state.step - 1)
    prev = jax.tree.map(lambda t, p: jnp.where(swap, t, p), target,
                        extras.params_prev)
    prev_ = jax.tree.map(lambda p, q: jnp.where(swap, p, q),
                         extras.params_prev, extras.params_prev_)
    extras = extras._replace(params_target=target, params_prev=prev,
                             params_prev_=prev_)
    if isinstance(extras, RNaDAveragedExtras):
      rate = config.test_policy_avg
      extras = extras._replace(params_avg=jax.tree.map(
          lambda a, p: a + rate * (p - a), extras.params_avg, state.params))
    return state._replace(extras=extras)

  def test_params(state: TrainState) -> Params:
    if isinstance(state.extras, RNaDAveragedExtras):
      return state.extras.params_avg
    return state.params

  def make_policy_fn(state: TrainState) -> PolicyFn:
    def policy_fn(obs, legal, key):
      action, extras = actor.select_action(networks, state.params, obs, legal,
                                           key)
      return action, extras["policy"]

    return policy_fn

  def policy_probs(params: Params, obs: jax.Array, legal: jax.Array,
                   raw: bool = False) -> jax.Array:
    return actor.policy_probs(networks, params, obs, legal, finetune,
                              finetune.at_test_time and not raw)

  def imitation_loss(params: Params, traj: Trajectory, value_weight: float
                     ) -> tuple[jax.Array, Metrics]:
    return imitation.imitation_loss(networks.apply, params, traj,
                                    value_weight, config.compute_fraction)

  def from_clone(state: TrainState, params: Params) -> TrainState:
    extras = type(state.extras)(*[params] * len(state.extras))
    return state._replace(params=params, opt_state=optimizer.init(params),
                          extras=extras)

  def with_test_params(state: TrainState, params: Params) -> TrainState:
    if isinstance(state.extras, RNaDAveragedExtras):
      state = state._replace(extras=state.extras._replace(params_avg=params))
    return state._replace(params=params)

  return RNaD(networks=networks, optimizer=optimizer, init=init,
              loss_fn=loss_fn, after_update=after_update,
              make_policy_fn=make_policy_fn, schedule=schedule,
              test_params=test_params, policy_probs=policy_probs,
              post_processes=finetune.at_test_time,
              imitation_loss=imitation_loss, from_clone=from_clone,
              with_test_params=with_test_params)
