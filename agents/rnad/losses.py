"""R-NaD losses for one trajectory (Perolat et al. 2022, arXiv:2206.15378).

All functions take one time-major trajectory ([T] / [T, A]) and are `vmap`ped
over the batch by the caller. A trajectory holds the decisions of both
players; estimates are computed from one player's point of view at a time.

Reward transform (paper, eq. 2): from player i's view, its own action a at x
adds `-eta * log(pi(a|x) / pi_reg(a|x))` to the reward and an opponent action
adds `+eta * log(pi(a|x) / pi_reg(a|x))` (the opponent's regularisation term,
negated because the game is zero-sum).

Two-player v-trace: player i's value is estimated only at its own decisions.
The steps between two of its decisions form one transition whose importance
weight is the product of pi/mu over all actions in it (its own and the
opponent's), and whose reward is the sum of (transformed) rewards in it.
At its own decision the expected regularisation term, -eta * KL(pi || pi_reg),
enters the value target, and each action b gets the unbiased estimate

  Q(b) = -eta * log(pi(b)/pi_reg(b)) + V(x)
         + 1[b = a] / mu(a) * (r + w_opp * (R_between + v_next) - V(x))

used by the NeuRD policy loss (or by the softmax policy gradient,
`softmax_pg_loss`, which weighs each action's advantage by its probability).
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from agents.rnad.networks import legal_policy


class VTraceOutput(NamedTuple):
  v_target: jax.Array  # [T] float32, v-trace value target (0 off-turn)
  has_played: jax.Array  # [T] bool, player i acted at t
  q_estimate: jax.Array  # [T, A] float32, regularised Q estimate (0 off-turn)


class _Carry(NamedTuple):
  reward: jax.Array  # [] rewards since the next own decision (unweighted)
  opp_weight: jax.Array  # [] product of opponent pi/mu until then
  next_value: jax.Array  # [] V at the next own decision (0 after the end)
  next_v_target: jax.Array  # [] v-trace target there


def two_player_vtrace(value: jax.Array, valid: jax.Array, acting: jax.Array,
                      action: jax.Array, behaviour_prob: jax.Array,
                      policy: jax.Array, log_ratio: jax.Array,
                      reward: jax.Array, *, player: int, eta: float,
                      lambda_: float = 1.0, c: float = 1.0,
                      rho: float = jnp.inf) -> VTraceOutput:
  """V-trace targets and Q estimates for `player` along one trajectory.

  Args:
    value: [T] V(x_t) for the player to move at t (from the target network).
    valid: [T] bool, a decision was taken at t (false once the game is over).
    acting: [T] int32, the player who acted at t.
    action: [T] int32, the action taken at t.
    behaviour_prob: [T] float32, mu(a_t | x_t) of the acting policy.
    policy: [T, A] float32, pi(. | x_t), the policy being evaluated.
    log_ratio: [T, A] float32, log pi - log pi_reg (0 on illegal actions).
    reward: [T] float32, `player`'s reward after the action at t.
    player: whose point of view.
    eta: regularisation strength.
    lambda_: trace coefficient.
    c: truncation of the trace weights.
    rho: truncation of the temporal-difference weights.

  Returns:
    A `VTraceOutput`.
  """
  chex.assert_rank([value, valid, acting, action, behaviour_prob, reward], 1)
  chex.assert_rank([policy, log_ratio], 2)
  chex.assert_equal_shape([policy, log_ratio])
  chex.assert_equal_shape_prefix([value, valid, acting, action, policy], 1)
  num_actions = policy.shape[-1]
  action_oh = jax.nn.one_hot(action, num_actions, dtype=policy.dtype)
  ratio = jnp.sum(policy * action_oh, -1) / behaviour_prob  # pi/mu of a_t
  log_ratio_a = jnp.sum(log_ratio * action_oh, -1)
  kl = jnp.sum(policy * log_ratio, -1)  # KL(pi || pi_reg) at x_t

  def backward(carry: _Carry, x):
    v, ok, who, a_oh, ratio_t, mu_t, lr, lr_a, kl_t, r = x
    own = ok & (who == player)
    opp = ok & (who != player)
    # Own decision: close the transition that starts here.
    weight = ratio_t * carry.opp_weight
    transition_reward = r + carry.reward
    v_target = (v + jnp.minimum(rho, weight) *
                (-eta * kl_t + transition_reward + carry.next_value - v) +
                lambda_ * jnp.minimum(c, weight) *
                (carry.next_v_target - carry.next_value))
    q = -eta * lr + v + a_oh / mu_t * (
        r + carry.opp_weight * (carry.reward + carry.next_v_target) - v)
    own_carry = _Carry(reward=jnp.zeros_like(r), opp_weight=jnp.ones_like(r),
                       next_value=v, next_v_target=v_target)
    # Opponent decision: accumulate its reward, regulariser and weight.
    opp_carry = _Carry(reward=r + eta * lr_a + carry.reward,
                       opp_weight=ratio_t * carry.opp_weight,
                       next_value=carry.next_value,
                       next_v_target=carry.next_v_target)
    new_carry = jax.tree.map(
        lambda o, p, k: jnp.where(own, o, jnp.where(opp, p, k)),
        own_carry, opp_carry, carry)
    return new_carry, (jnp.where(own, v_target, 0.0), jnp.where(own, q, 0.0))

  zero = jnp.zeros((), value.dtype)
  init = _Carry(reward=zero, opp_weight=jnp.ones((), value.dtype),
                next_value=zero, next_v_target=zero)
  xs = (value, valid, acting, action_oh, ratio, behaviour_prob, log_ratio,
        log_ratio_a, kl, reward)
  _, (v_target, q) = jax.lax.scan(backward, init, xs, reverse=True)
  has_played = valid & (acting == player)
  return VTraceOutput(v_target=v_target, has_played=has_played, q_estimate=q)


def value_loss(value: jax.Array, v_target: jax.Array,
               mask: jax.Array) -> jax.Array:
  """Sum over masked steps of squared error to the (fixed) target. Returns []."""
  chex.assert_equal_shape([value, v_target, mask])
  err = value - jax.lax.stop_gradient(v_target)
  return jnp.sum(jnp.where(mask, err * err, 0.0))


def _clipped_advantage(logits: jax.Array, policy: jax.Array, q: jax.Array,
                       legal: jax.Array, clip: float) -> jax.Array:
  """[T, A] Q - sum_b policy(b) Q(b), clipped to [-clip, clip], no gradient."""
  chex.assert_rank([logits, policy, q, legal], 2)
  chex.assert_equal_shape([logits, policy, q, legal])
  advantage = q - jnp.sum(policy * q, -1, keepdims=True)
  return jax.lax.stop_gradient(jnp.clip(advantage, -clip, clip))


def softmax_pg_loss(logits: jax.Array, policy: jax.Array, q: jax.Array,
                    legal: jax.Array, mask: jax.Array, *,
                    clip: float) -> jax.Array:
  """All-actions softmax policy-gradient loss summed over masked steps.

  The alternative NeuRD is contrasted with (Hennes et al. 2020,
  arXiv:1906.00190, section 3): the gradient with respect to the logit of
  each legal action is pi(a) times its (clipped) advantage Q(a) -
  sum_b pi(b) Q(b) when `policy` is the logits' own policy, so improbable
  actions move little and there is no logit threshold. With the sampled Q
  estimate of `two_player_vtrace` this is the importance-weighted REINFORCE
  update with the value as baseline. Arguments and result as `neurd_loss`'s,
  without `beta`.
  """
  advantage = _clipped_advantage(logits, policy, q, legal, clip)
  pi = legal_policy(logits, legal)
  per_step = -jnp.sum(jnp.where(legal, pi * advantage, 0.0), -1)
  return jnp.sum(jnp.where(mask, per_step, 0.0))


def neurd_loss(logits: jax.Array, policy: jax.Array, q: jax.Array,
               legal: jax.Array, mask: jax.Array, *, beta: float,
               clip: float) -> jax.Array:
  """NeuRD policy loss summed over masked steps (Hennes et al. 2020, arXiv:1906.00190).

  The gradient with respect to the centred logit of each legal action is the
  (clipped) advantage Q(b) - sum_b pi(b) Q(b); a logit already above +beta
  receives no further increase and one below -beta no further decrease.

  Args:
    logits: [T, A] raw logits.
    policy: [T, A] the policy the advantage is relative to.
    q: [T, A] Q estimates.
    legal: [T, A] bool.
    mask: [T] bool, steps that count.
    beta: logit threshold.
    clip: advantage clipping.

  Returns:
    [] loss.
  """
  advantage = _clipped_advantage(logits, policy, q, legal, clip)
  num_legal = jnp.maximum(jnp.sum(legal, -1, keepdims=True), 1)
  centred = logits - jnp.sum(jnp.where(legal, logits, 0.0), -1,
                             keepdims=True) / num_legal
  sg_centred = jax.lax.stop_gradient(centred)
  force = (jnp.where(sg_centred < beta, jnp.maximum(advantage, 0.0), 0.0) +
           jnp.where(sg_centred > -beta, jnp.minimum(advantage, 0.0), 0.0))
  per_step = -jnp.sum(jnp.where(legal, centred * force, 0.0), -1)
  return jnp.sum(jnp.where(mask, per_step, 0.0))
