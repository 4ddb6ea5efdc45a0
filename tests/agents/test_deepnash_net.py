"""The DeepNash network: shapes, the piece-then-square factorisation, the
deployment head, and that both seats share one set of weights by turning the
board."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games
from agents.rnad import deepnash_net
from agents.rnad.config import NetworkConfig
from agents.rnad.networks import legal_policy, make_networks

@pytest.fixture(scope="module", params=[3, 1], ids=["stem3x3", "stem1x1"])
def setup(request):
  game = games.make("stratego", variant="small", deployment="phase",
                    max_plies=60)
  config = NetworkConfig(kind="deepnash", channels=8, num_blocks=1,
                         value_hidden=16, stem_kernel=request.param)
  nets = make_networks(game.observation_shape, game.num_actions, config)
  params = jax.jit(nets.init)(jax.random.key(0))
  # Random logits everywhere: re-draw every weight so no head is ~0.
  leaves, tree = jax.tree.flatten(params)
  keys = jax.random.split(jax.random.key(1), len(leaves))
  params = jax.tree.unflatten(tree, [
      0.3 * jax.random.normal(k, x.shape) for k, x in zip(keys, leaves)])
  return game, nets, params


def _play(game, num_plies, seed):
  """A state after `num_plies` random legal actions (deployment included)."""
  step, legal_mask = jax.jit(game.step), jax.jit(game.legal_action_mask)
  state = game.init(jax.random.key(seed))
  rng = np.random.default_rng(seed)
  for _ in range(num_plies):
    legal = np.asarray(legal_mask(state))
    state = step(state, jnp.int32(rng.choice(np.flatnonzero(legal))))
  return state


def test_shapes_and_value_per_row(setup):
  game, nets, params = setup
  obs = jnp.stack([game.observe(_play(game, n, n), jnp.int32(n % 2))
                   for n in (0, 3)])
  out = nets.apply(params, obs)
  assert out.logits.shape == (2, game.num_actions)
  assert out.value.shape == (2,)
  out_nested = nets.apply(params, obs[None])
  np.testing.assert_allclose(out_nested.logits[0], out.logits, atol=1e-5)


def test_deployment_phase_uses_only_the_deployment_head(setup):
  game, nets, params = setup
  state = _play(game, 1, 0)  # mid-deployment
  player = state.current_player.astype(jnp.int32)
  obs = game.observe(state, player)
  assert obs[0, 0, deepnash_net._DEPLOY_PLANE] == 1.0
  legal = game.legal_action_mask(state)
  squares = game.variant.num_squares
  assert bool(jnp.all(~legal[squares:])) and bool(jnp.any(legal[:squares]))
  logits = nets.apply(params, obs).logits
  # Beyond the S deployment squares the logits are the constant filler.
  np.testing.assert_array_equal(logits[squares:], 0.0)
  pi = legal_policy(logits, legal)
  np.testing.assert_allclose(jnp.sum(pi[:squares]), 1.0, atol=1e-5)


def test_move_policy_factorises_into_piece_then_square(setup):
  game, nets, params = setup
  state = _play(game, game.deploy_total + 6, 2)  # in play
  player = state.current_player.astype(jnp.int32)
  legal = np.asarray(game.legal_action_mask(state))
  logits = np.asarray(nets.apply(params, game.observe(state, player)).logits,
                      np.float64)
  pi = np.asarray(legal_policy(jnp.asarray(logits), jnp.asarray(legal)),
                  np.float64)
  squares = game.variant.num_squares
  frm = np.arange(game.num_actions) % squares
  # Piece: P(f) = sum over legal moves from f; square given piece: renormalised
  # within f. Their product must be the flat policy, and the conditional must
  # be the softmax of the legal logits of f alone.
  piece = np.bincount(frm, weights=pi, minlength=squares)
  assert np.isclose(piece.sum(), 1.0)
  movable = np.flatnonzero(piece > 0)
  assert len(movable) >= 2
  for f in movable:
    moves = np.flatnonzero(legal & (frm == f))
    z = logits[moves] - logits[moves].max()
    target_given_piece = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(pi[moves], piece[f] * target_given_piece,
                               rtol=1e-5, atol=1e-7)


def test_second_seat_sees_the_board_turned(setup):
  """The second player's output is the first's on the turned board.

  With the seat plane's weights zeroed (it is the only input the turn does
  not move), feeding a board as the second player must give the same value,
  and the logits with squares mirrored and directions up/down, left/right
  swapped.
  """
  game, nets, params = setup
  params = hk.data_structures.to_mutable_dict(params)
  params["stem"]["w"] = params["stem"]["w"].at[
      :, :, deepnash_net._PLAYER_PLANE, :].set(0.0)
  state = _play(game, game.deploy_total + 4, 3)
  obs = game.observe(state, jnp.int32(0))
  obs = obs.at[..., deepnash_net._PLAYER_PLANE].set(0.0)
  turned = obs[::-1, ::-1].at[..., deepnash_net._PLAYER_PLANE].set(1.0)
  out, out_turned = (nets.apply(params, o) for o in (obs, turned))
  np.testing.assert_allclose(out_turned.value, out.value, rtol=1e-5)

  squares = game.variant.num_squares
  per_dir = game.num_actions // (4 * squares)
  a = np.arange(game.num_actions)
  frm, dist, direction = (a % squares, (a // squares) % per_dir,
                          a // (squares * per_dir))
  swap = np.array(deepnash_net._TURNED_DIRECTION)[direction]
  mirrored = (swap * per_dir + dist) * squares + (squares - 1 - frm)
  np.testing.assert_allclose(np.asarray(out_turned.logits)[mirrored],
                             np.asarray(out.logits), rtol=1e-4, atol=1e-5)

