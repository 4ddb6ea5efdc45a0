"""R-NaD losses against values computed by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents.rnad import actor, losses
from agents.rnad.config import FinetuneConfig, RNaDConfig
from agents.rnad.learner import EntropySchedule

# A three-decision game: player 0 acts at t=0 and t=2, player 1 at t=1; the
# game ends after t=2 paying +1 to player 0 and -1 to player 1.
VALUE = jnp.array([0.3, -0.1, 0.6])  # V for the player to move
VALID = jnp.array([True, True, True])
ACTING = jnp.array([0, 1, 0])
ACTION = jnp.array([0, 0, 1])
UNIFORM = jnp.full((3, 2), 0.5)
LOG_RATIO = jnp.array([[0.2, -0.2], [0.4, -0.4], [0.1, 0.3]])
REWARD_P0 = jnp.array([0.0, 0.0, 1.0])
ETA = 0.5


def _vtrace(player, policy=UNIFORM, mu=jnp.full(3, 0.5), reward=REWARD_P0,
            **kw):
  return losses.two_player_vtrace(VALUE, VALID, ACTING, ACTION, mu, policy,
                                  LOG_RATIO, reward, player=player, eta=ETA,
                                  **kw)


def test_vtrace_player0_on_policy_by_hand():
  out = _vtrace(0)
  # t=2: -eta*KL + r = -0.5*(0.5*0.1 + 0.5*0.3) + 1 = 0.9
  # t=0: V + (-eta*KL0 + eta*lr1[a1] + V2 - V0) + (vt2 - V2)
  #    = 0.3 + (0 + 0.2 + 0.6 - 0.3) + (0.9 - 0.6) = 1.1
  np.testing.assert_allclose(out.v_target, [1.1, 0.0, 0.9], atol=1e-6)
  np.testing.assert_array_equal(out.has_played, [True, False, True])
  # t=2: q(b) = -eta*lr(b) + V + 1[b=a]/mu * (r - V), a=1, mu=0.5
  #      = [-0.05 + 0.6, -0.15 + 0.6 + 2*(1 - 0.6)] = [0.55, 1.25]
  # t=0: a=0: -0.1 + 0.3 + 2*(0 + (0.2 + 0.9) - 0.3) = 1.8; b=1: 0.1 + 0.3
  np.testing.assert_allclose(out.q_estimate,
                             [[1.8, 0.4], [0, 0], [0.55, 1.25]], atol=1e-6)


def test_vtrace_player1_sees_terminal_reward_and_regulariser_by_hand():
  out = _vtrace(1, reward=-REWARD_P0)
  # After player 1's move: reward -1 plus the opponent's +eta*lr2[a2] = 0.15.
  # t=1: -0.1 + (0 - 0.85 + 0 + 0.1) = -0.85
  np.testing.assert_allclose(out.v_target, [0.0, -0.85, 0.0], atol=1e-6)
  # q(0) = -0.2 - 0.1 + 2*(-0.85 + 0.1) = -1.8 ; q(1) = 0.2 - 0.1 = 0.1
  np.testing.assert_allclose(out.q_estimate[1], [-1.8, 0.1], atol=1e-6)


def test_vtrace_off_policy_opponent_weights_and_clipping():
  # The opponent's action had mu=0.4 but now has pi=0.8: weight 2.
  policy = UNIFORM.at[1].set(jnp.array([0.8, 0.2]))
  mu = jnp.array([0.5, 0.4, 0.5])
  out = _vtrace(0, policy=policy, mu=mu)
  # rho=inf: 0.3 + 2*(0.2 + 0.6 - 0.3) + min(c=1, 2)*(0.9 - 0.6) = 1.6
  np.testing.assert_allclose(out.v_target[0], 1.6, atol=1e-6)
  # q0(a0) = -0.1 + 0.3 + 2*(0 + 2*(0.2 + 0.9) - 0.3) = 4.0
  np.testing.assert_allclose(out.q_estimate[0, 0], 4.0, atol=1e-6)
  clipped = _vtrace(0, policy=policy, mu=mu, rho=1.0)
  np.testing.assert_allclose(clipped.v_target[0], 1.1, atol=1e-6)


def test_vtrace_ignores_steps_after_the_end():
  valid = jnp.array([True, True, True, False])
  pad = lambda x, v: jnp.concatenate([x, jnp.asarray([v], x.dtype)])
  out = losses.two_player_vtrace(
      pad(VALUE, 7.0), valid, pad(ACTING, 1), pad(ACTION, 1),
      jnp.full(4, 0.5), jnp.full((4, 2), 0.5),
      jnp.concatenate([LOG_RATIO, jnp.ones((1, 2))]), pad(REWARD_P0, 5.0),
      player=0, eta=ETA)
  np.testing.assert_allclose(out.v_target, [1.1, 0.0, 0.9, 0.0], atol=1e-6)


@pytest.mark.parametrize("value", [0.4, 0.0, 3.0, -1.0])
def test_q_estimate_is_unbiased_for_any_value(value):
  """One decision, then the end: averaged over the sampled action a ~ mu,
  the estimate of every action b is its reward minus eta * log-ratio,
  whatever the value V(x) used as the baseline."""
  rewards = jnp.array([1.0, -0.5, 0.25])
  mu = jnp.array([0.2, 0.5, 0.3])
  log_ratio = jnp.array([[0.3, -0.1, 0.2]])
  expected = jnp.zeros(3)
  for a in range(3):
    out = losses.two_player_vtrace(
        jnp.array([value]), jnp.array([True]), jnp.array([0]), jnp.array([a]),
        mu[a:a + 1], mu[None], log_ratio, rewards[a:a + 1], player=0,
        eta=ETA)
    expected += mu[a] * out.q_estimate[0]
  np.testing.assert_allclose(expected, rewards - ETA * log_ratio[0],
                             atol=1e-6)


def test_neurd_loss_and_gradient_by_hand():
  logits = jnp.array([[1.0, 0.0, -1.0]])
  pi = jnp.array([[0.5, 0.3, 0.2]])
  q = jnp.array([[1.0, 0.0, 2.0]])
  legal = jnp.ones((1, 3), bool)
  mask = jnp.array([True])
  # advantage = q - 0.9 = [0.1, -0.9, 1.1]; loss = -sum(centred * adv) = 1.0
  loss = lambda l, beta=2.0, clip=100.0: losses.neurd_loss(
      l, pi, q, legal, mask, beta=beta, clip=clip)
  np.testing.assert_allclose(loss(logits), 1.0, atol=1e-6)
  # d/dl_b = -(adv_b - mean(adv)) = -[0, -1, 1]
  np.testing.assert_allclose(jax.grad(loss)(logits), [[0.0, 1.0, -1.0]],
                             atol=1e-6)
  # beta=0.5: logit 0 (centred +1) may not rise further -> force 0.
  np.testing.assert_allclose(loss(logits, beta=0.5), 1.1, atol=1e-6)
  # clip=0.5: advantages [0.1, -0.5, 0.5] -> -(0.1 - 0.5) = 0.4
  np.testing.assert_allclose(loss(logits, clip=0.5), 0.4, atol=1e-6)
  np.testing.assert_allclose(
      losses.neurd_loss(logits, pi, q, legal, jnp.array([False]), beta=2.0,
                        clip=100.0), 0.0)


def test_neurd_ignores_illegal_actions():
  logits = jnp.array([[1.0, 50.0, -1.0]])
  legal = jnp.array([[True, False, True]])
  pi = jnp.array([[0.5, 0.0, 0.5]])
  q = jnp.array([[1.0, 9.0, 0.0]])
  # centred over legal: [1, -1]; adv = [0.5, -0.5]; loss = -(0.5 + 0.5) = -1
  f = lambda l: losses.neurd_loss(l, pi, q, legal, jnp.array([True]),
                                  beta=2.0, clip=100.0)
  np.testing.assert_allclose(f(logits), -1.0, atol=1e-6)
  assert jax.grad(f)(logits)[0, 1] == 0.0


def test_value_loss_by_hand():
  np.testing.assert_allclose(
      losses.value_loss(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 2.5, 9.0]),
                        jnp.array([True, True, False])), 1.25)


def test_post_processing_by_hand():
  pi = jnp.array([0.5, 0.3, 0.2])
  legal = jnp.ones(3, bool)
  np.testing.assert_allclose(actor.threshold_policy(pi, legal, 0.25),
                             [0.625, 0.375, 0.0], atol=1e-6)
  # scaled [2, 1.2, 0.8] -> floors [2, 1, 0], one unit to the largest remainder
  np.testing.assert_allclose(actor.discretize_policy(pi, legal, 4),
                             [0.5, 0.25, 0.25])
  out = actor.post_process_policy(
      pi, legal, FinetuneConfig(policy_threshold=0.25, policy_discretization=4))
  np.testing.assert_allclose(out, [0.75, 0.25, 0.0])
  # The most likely action survives any threshold.
  np.testing.assert_allclose(
      actor.threshold_policy(jnp.array([0.4, 0.35, 0.25]), legal, 0.9),
      [1.0, 0.0, 0.0])


def test_discretized_policies_sum_to_one_and_stay_legal():
  key = jax.random.key(0)
  legal = jax.random.bernoulli(key, 0.6, (500, 7)).at[:, 0].set(True)
  logits = jax.random.normal(jax.random.key(1), (500, 7))
  pi = jax.nn.softmax(jnp.where(legal, logits, -jnp.inf))
  out = actor.post_process_policy(pi, legal, FinetuneConfig())
  np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-6)
  assert not jnp.any((out > 0) & ~legal)
  np.testing.assert_allclose(out * 32, jnp.round(out * 32), atol=1e-5)


def test_entropy_schedule():
  cfg = RNaDConfig(entropy_schedule_sizes=(4, 6), entropy_schedule_repeats=(2, 1))
  s = EntropySchedule.from_config(cfg)
  steps = jnp.arange(27)
  alpha = jax.vmap(s.alpha)(steps)
  ends = np.flatnonzero(jax.vmap(s.ends_iteration)(steps))
  np.testing.assert_array_equal(ends, [3, 7, 13, 19, 25])
  np.testing.assert_allclose(alpha[:4], [0, 0.5, 1, 1])
  np.testing.assert_allclose(alpha[8:14], [0, 1 / 3, 2 / 3, 1, 1, 1], atol=1e-6)
  assert alpha[14] == 0 and alpha[20] == 0


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), "batch_size"),
    (dict(learning_rate=-1.0), "learning_rate"),
    (dict(entropy_schedule_sizes=(1, 2)), "equal length"),
    (dict(target_network_avg=0.0), "target_network_avg"),
])
def test_config_errors(kwargs, match):
  with pytest.raises(ValueError, match=match):
    RNaDConfig(**kwargs)


def test_softmax_pg_loss_and_gradient_by_hand():
  logits = jnp.log(jnp.array([[0.5, 0.3, 0.2]]))
  pi = jnp.array([[0.5, 0.3, 0.2]])
  q = jnp.array([[1.0, 0.0, 2.0]])
  legal = jnp.ones((1, 3), bool)
  mask = jnp.array([True])
  loss = lambda l, clip=100.0: losses.softmax_pg_loss(
      l, pi, q, legal, mask, clip=clip)
  # advantage = q - 0.9 = [0.1, -0.9, 1.1]; loss = -sum(pi * adv) = 0
  np.testing.assert_allclose(loss(logits), 0.0, atol=1e-6)
  # d/dl_b = -pi_b (adv_b - sum pi adv) = -pi_b adv_b = [-0.05, 0.27, -0.22]:
  # NeuRD's force (test above) scaled by each action's probability.
  np.testing.assert_allclose(jax.grad(loss)(logits), [[-0.05, 0.27, -0.22]],
                             atol=1e-6)
  # clip=0.5: advantages [0.1, -0.5, 0.5] -> -[0.05, -0.15, 0.1]
  np.testing.assert_allclose(jax.grad(lambda l: loss(l, clip=0.5))(logits),
                             [[-0.05, 0.15, -0.1]], atol=1e-6)
  assert losses.softmax_pg_loss(logits, pi, q, legal, jnp.array([False]),
                                clip=100.0) == 0.0


def test_softmax_pg_ignores_illegal_actions():
  logits = jnp.array([[0.0, 50.0, 0.0]])
  legal = jnp.array([[True, False, True]])
  pi = jnp.array([[0.5, 0.0, 0.5]])
  q = jnp.array([[1.0, 9.0, 0.0]])
  f = lambda l: losses.softmax_pg_loss(l, pi, q, legal, jnp.array([True]),
                                       clip=100.0)
  # adv = [0.5, ., -0.5]; gradient -pi * adv = [-0.25, 0, 0.25]
  np.testing.assert_allclose(jax.grad(f)(logits), [[-0.25, 0.0, 0.25]],
                             atol=1e-6)
