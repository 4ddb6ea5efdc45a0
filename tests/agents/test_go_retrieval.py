"""The Go networks: loss, batches, symmetries, the neighbour reader, and
training through `arena train` with the offline driver."""

from __future__ import annotations

import dataclasses
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from agents.core import runs
from agents.go_retrieval import data as data_lib
from agents.go_retrieval import losses, networks, observations
from agents.go_retrieval.config import (GoRetrievalConfig, NetworkConfig,
                                        RetrievalConfig)
from arena import cli
from games.go import symmetry


@pytest.fixture(scope="module")
def store_dir(go_positions):
  return go_positions


def test_loss_matches_hand_computed_values():
  logits = jnp.array([0.0, math.log(3.0), 5.0, 0.0])
  legal = jnp.array([True, True, False, True])  # 5.0 is masked out.
  loss, m = losses.policy_value_loss(logits, jnp.float32(0.5), jnp.int32(1),
                                     jnp.float32(-1.0), legal, 2.0)
  # p(1) = 3 / (1 + 3 + 1); value error (0.5 + 1)^2 = 2.25.
  assert float(m["policy_loss"]) == pytest.approx(-math.log(3 / 5))
  assert float(m["value_loss"]) == pytest.approx(2.25)
  assert float(loss) == pytest.approx(-math.log(3 / 5) + 2 * 2.25)
  assert float(m["accuracy"]) == 1.0  # 2 is illegal, so 1 is the best.


def test_batches_move_boards_and_moves_by_the_same_symmetry(store_dir):
  data = data_lib.PositionData(store_dir)
  rows = data.rows["train"][:8]
  plain = data.batch(rows)
  for s in range(8):
    moved = data.batch(rows, np.full(8, s))
    for i in range(8):
      np.testing.assert_array_equal(
          moved["board"][i], symmetry.transform_points(plain["board"][i], s, 9))
      assert moved["target"][i] == symmetry.transform_actions(
          plain["target"][i], s, 9)
    np.testing.assert_array_equal(moved["outcome"], plain["outcome"])


def test_every_expert_move_is_legal_in_its_batch(store_dir):
  data = data_lib.PositionData(store_dir)
  batch = data.sample(np.random.default_rng(0), 256, augment=True)
  obs, legal = observations({k: jnp.asarray(v) for k, v in batch.items()})
  assert obs.shape == (256, 9, 9, 6)
  assert bool(jnp.all(legal[jnp.arange(256), batch["target"]]))
  # The mover's stones plane is the board seen from the mover's side.
  mover = np.where(batch["player"] == 0, 1, -1)[:, None]
  np.testing.assert_array_equal(np.asarray(obs[..., 0]).reshape(256, 81),
                                batch["board"] == mover)


@pytest.mark.parametrize("encoder", ["attention", "deepsets"])
def test_the_neighbour_reader_ignores_their_order(encoder):
  config = GoRetrievalConfig(
      network=NetworkConfig(channels=8, blocks=1, embedding_dim=8),
      retrieval=RetrievalConfig(num_neighbours=5, next_moves=3,
                                encoder=encoder, neighbour_dim=16))
  nets = networks.make_networks(9, config)
  params = jax.jit(nets.init)(jax.random.key(0))
  keys = jax.random.split(jax.random.key(1), 5)
  nb = networks.Neighbours(
      boards=jax.random.randint(keys[0], (2, 5, 81), -1, 2).astype(jnp.int8),
      next_moves=jax.random.randint(keys[1], (2, 5, 3), -1, 82),
      outcomes=jax.random.choice(keys[2], jnp.array([-1.0, 1.0]), (2, 5)),
      distances=jax.random.uniform(keys[3], (2, 5)))
  obs = jax.random.bernoulli(keys[4], 0.3, (2, 9, 9, 6)).astype(jnp.float32)
  out = nets.apply(params, obs, nb)
  order = jnp.array([3, 0, 4, 1, 2])
  shuffled = nets.apply(params, obs, jax.tree.map(lambda x: x[:, order], nb))
  np.testing.assert_allclose(out.logits, shuffled.logits, rtol=1e-5,
                             atol=1e-5)
  np.testing.assert_allclose(out.value, shuffled.value, rtol=1e-5, atol=1e-6)
  # The neighbours matter: other outcomes change the prediction.
  flipped = nets.apply(params, obs, nb._replace(outcomes=-nb.outcomes))
  assert not np.allclose(out.logits, flipped.logits)
  np.testing.assert_allclose(jnp.linalg.norm(out.embedding, axis=-1), 1.0,
                             rtol=1e-5)
  with pytest.raises(ValueError, match="reads retrieved neighbours"):
    nets.apply(params, obs)


def _train(args: list[str]) -> int:
  return cli.main(["train", "go9_smoke", *args])


def test_training_resumes_to_the_same_network_and_reports_accuracy(
    store_dir, tmp_path, capsys):
  common = ["--set", f"data.positions={store_dir}", "--no-progress"]
  assert _train(["--out", str(tmp_path / "a"), "--steps", "20", *common]) == 0
  assert cli.main(["train", "--resume", str(tmp_path / "a"), "--steps", "40",
                   "--no-progress"]) == 0
  assert _train(["--out", str(tmp_path / "b"), "--steps", "40", *common]) == 0
  out = capsys.readouterr().out
  assert "eval at step 20: test accuracy" in out
  resumed, straight = runs.read_run(tmp_path / "a"), runs.read_run(
      tmp_path / "b")
  assert int(resumed.state.step) == int(straight.state.step) == 40
  jax.tree.map(np.testing.assert_array_equal, resumed.state.params,
               straight.state.params)
  records = [json.loads(line) for line in
             (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
  tested = [r for r in records if "test/accuracy" in r]
  assert tested and all(0 <= r["test/accuracy"] <= 1 for r in tested)
  # A new run from that network (`--init-from`): its own step count; at a
  # learning rate of 1e-12 its network stays the source's.
  assert _train(["--out", str(tmp_path / "c"), "--steps", "10", "--init-from",
                 str(tmp_path / "a"), "--set", "agent.learning_rate=1e-12",
                 *common]) == 0
  tuned = runs.read_run(tmp_path / "c")
  assert int(tuned.state.step) == 10
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-9),
               tuned.state.params, resumed.state.params)


def test_a_missing_positions_store_is_a_one_line_error(tmp_path, capsys):
  code = _train(["--out", str(tmp_path / "r"), "--set",
                 f"data.positions={tmp_path / 'none'}", "--no-progress"])
  err = capsys.readouterr().err
  assert code == 2
  assert "arena go positions" in err and "Traceback" not in err


def test_configs_refuse_bad_values():
  with pytest.raises(ValueError, match="retrieval.source"):
    RetrievalConfig(source="nearest")
  with pytest.raises(ValueError, match="plays go"):
    from agents.core.experiment import GameConfig  # pylint: disable=g-import-not-at-top
    from agents.go_retrieval import GoRetrievalExperiment  # pylint: disable=g-import-not-at-top
    GoRetrievalExperiment(game=GameConfig(name="kuhn_poker"))
  assert dataclasses.is_dataclass(GoRetrievalConfig())
  for bad in (-1, 2.5, True):
    with pytest.raises(ValueError, match="decay_steps"):
      GoRetrievalConfig(decay_steps=bad)


@pytest.mark.parametrize("decay_steps", [0, 2])
def test_the_learning_rate_decays_to_zero_over_decay_steps(decay_steps):
  """Cosine decay: rates lr, lr / 2, 0 for updates 1-3 with decay_steps=2
  (AdamW scales its weight decay by the rate too, so the third update
  moves nothing); constant without it."""
  from agents.core import configs  # pylint: disable=g-import-not-at-top
  from agents.go_retrieval import learner  # pylint: disable=g-import-not-at-top
  config = configs.load("go9_key", [f"agent.decay_steps={decay_steps}",
                                    "agent.learning_rate=0.1"])
  optimizer = learner.make_agent(config).optimizer
  params = {"w": jnp.ones(3)}
  opt_state = optimizer.init(params)
  moved = []
  for _ in range(3):
    updates, opt_state = optimizer.update({"w": jnp.ones(3)}, opt_state,
                                          params)
    moved.append(float(jnp.abs(updates["w"]).max()))
    params = optax.apply_updates(params, updates)
  if decay_steps:
    # Adam's first step is about the rate itself.
    assert moved[0] == pytest.approx(0.1, rel=0.01)
    assert moved[1] == pytest.approx(0.05, rel=0.01)
    assert moved[2] == 0.0
  else:
    assert moved[2] == pytest.approx(0.1, rel=0.01)
