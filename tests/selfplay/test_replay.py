"""Replay buffers, the n-step adder and the samples-per-insert rate limiter."""

import numpy as np
import pytest

from agents.d4pg.losses import n_step_target
from selfplay import replay as replay_lib
from selfplay.replay import NStepAdder, RateLimiter, ReplayBuffer, ReplayConfig

SPEC = {"x": ((2,), np.float32), "r": ((), np.float32)}


def _items(values):
  values = np.asarray(values, np.float32)
  return {"x": np.stack([values, -values], 1), "r": values}


def test_fifo_overwrites_the_oldest():
  buf = ReplayBuffer(5, SPEC)
  buf.insert(_items([0, 1, 2]))
  slots = buf.insert(_items([3, 4, 5, 6]))
  np.testing.assert_array_equal(slots, [3, 4, 0, 1])
  assert buf.size == 5
  items, _, weights = buf.sample(2000, np.random.default_rng(0))
  assert set(items["r"].tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}
  np.testing.assert_array_equal(items["x"][:, 1], -items["r"])
  np.testing.assert_array_equal(weights, 1.0)
  counts = np.bincount(items["r"].astype(int), minlength=7)[2:]
  assert counts.min() > 300  # uniform: 400 each expected


def test_prioritized_sampling_follows_priorities_and_weights():
  config = ReplayConfig(capacity=4, min_size=1, prioritized=True,
                        priority_exponent=1.0, importance_exponent=1.0)
  buf = ReplayBuffer(4, SPEC, config)
  slots = buf.insert(_items([0, 1, 2, 3]))
  buf.update_priorities(slots, np.array([1.0, 2.0, 3.0, 4.0]))
  items, got, weights = buf.sample(10_000, np.random.default_rng(0))
  freq = np.bincount(got, minlength=4) / 10_000
  # Stratified sampling: frequencies match p / sum(p) = [.1, .2, .3, .4].
  np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.002)
  np.testing.assert_array_equal(items["r"], got.astype(np.float32))
  # w = (N P)^-1 normalised by the largest (that of priority 1): w = 1 / p.
  np.testing.assert_allclose(weights, 1.0 / (got + 1.0), rtol=1e-6)
  # New items enter at the largest priority seen.
  buf.insert(_items([9]))
  _, got, _ = buf.sample(10_000, np.random.default_rng(1))
  np.testing.assert_allclose(np.mean(got == 0), 4 / 13, atol=0.002)


def test_empty_buffer_and_bad_items():
  buf = ReplayBuffer(3, SPEC)
  with pytest.raises(ValueError, match="empty"):
    buf.sample(1, np.random.default_rng(0))
  with pytest.raises(ValueError, match="fields"):
    buf.insert({"x": np.zeros((1, 2))})


def test_n_step_adder_hand_example():
  # Rewards 1, 2, 3, 4 with gamma 0.5 and n = 2; the episode ends in a
  # terminal state (discount 0) after the fourth step.
  adder = NStepAdder(2, 0.5, n_step_target)
  obs = [np.array([float(i)]) for i in range(5)]
  adder.start(obs[0])
  out = []
  for t, (r, d) in enumerate([(1, 1), (2, 1), (3, 1), (4, 0)]):
    out += [(o[0], a, ret, disc, no[0]) for o, a, ret, disc, no in
            adder.step(np.array([t]), r, d, obs[t + 1], last=(t == 3))]
  expected = [
      (0.0, 1 + 0.5 * 2, 0.25, 2.0),  # bootstraps from o_2
      (1.0, 2 + 0.5 * 3, 0.25, 3.0),
      (2.0, 3 + 0.5 * 4, 0.0, 4.0),  # the terminal step ends the return
      (3.0, 4.0, 0.0, 4.0),  # a one-step remainder at the end
  ]
  assert len(out) == 4
  for (o, a, ret, disc, no), (eo, eret, edisc, eno) in zip(out, expected):
    assert (o, ret, disc, no) == (eo, pytest.approx(eret), edisc, eno)
    assert a[0] == o  # the action taken at o
  with pytest.raises(ValueError, match="before start"):
    adder.step(np.array([0]), 0.0, 1.0, obs[0], last=False)


def test_n_step_adder_truncated_episode_bootstraps():
  adder = NStepAdder(3, 0.9, n_step_target)
  adder.start(np.zeros(1))
  assert adder.step(np.zeros(1), 1.0, 1.0, np.ones(1), last=False) == []
  out = adder.step(np.zeros(1), 1.0, 1.0, np.full(1, 2.0), last=True)
  assert [round(t[2], 6) for t in out] == [1.9, 1.0]
  assert [round(t[3], 6) for t in out] == [0.81, 0.9]


def test_rate_limiter_blocks_each_side():
  limiter = RateLimiter(samples_per_insert=2.0, min_size=4, error_buffer=4.0)
  assert limiter.can_insert(4) and not limiter.can_sample(1)
  limiter.inserted(4)
  assert limiter.can_sample(4) and not limiter.can_sample(5)
  assert limiter.can_insert(2) and not limiter.can_insert(3)
  limiter.inserted(2)
  # Offset 2 * 4 = 8: samples may lag 2 * inserts by 8 +- 4.
  limiter.sampled(8)  # 6 * 2 - 8 = 4: the least lag allowed
  assert not limiter.can_sample(1)
  assert limiter.can_insert(4) and not limiter.can_insert(5)


@pytest.mark.parametrize("spi,insert_chunk,sample_chunk", [
    (32.0, 25, 2560), (4.0, 25, 64), (0.5, 10, 3)])
def test_rate_limiter_holds_the_ratio_and_never_deadlocks(
    spi, insert_chunk, sample_chunk):
  eb = RateLimiter.required_error_buffer(spi, insert_chunk, sample_chunk)
  limiter = RateLimiter(spi, min_size=100, error_buffer=eb)
  rng = np.random.default_rng(0)
  for _ in range(5_000):
    n = int(rng.integers(1, insert_chunk + 1))
    ins, smp = limiter.can_insert(n), limiter.can_sample(sample_chunk)
    assert ins or smp, "both sides blocked"
    if ins and (not smp or rng.random() < 0.5):
      limiter.inserted(n)
    else:
      limiter.sampled(sample_chunk)
    if limiter.inserts > limiter.min_size:
      drift = limiter.inserts * spi - limiter.samples - spi * limiter.min_size
      assert -eb <= drift <= eb
  assert limiter.samples / limiter.inserts == pytest.approx(spi, rel=0.2)


def test_replay_config_errors():
  with pytest.raises(ValueError, match="samples_per_insert"):
    ReplayConfig(samples_per_insert=0)
  with pytest.raises(ValueError, match="min_size"):
    ReplayConfig(capacity=10, min_size=20)


def _contents(buf):
  """Value -> priority^alpha (1 for uniform buffers) of every item held."""
  state = buf.state()
  prios = state.get("priority", np.ones(buf.size))
  return dict(zip(state["data/r"].tolist(), np.asarray(prios).tolist()))


@pytest.mark.parametrize("prioritized", [False, True])
def test_saved_buffer_comes_back_with_its_order_and_priorities(
    tmp_path, prioritized):
  config = ReplayConfig(capacity=5, min_size=1, prioritized=prioritized,
                        priority_exponent=1.0)
  buf = ReplayBuffer(5, SPEC, config)
  buf.insert(_items([0, 1, 2]))
  slots = buf.insert(_items([3, 4, 5, 6]))  # wraps: 2..6 held, 2 oldest
  buf.update_priorities(slots, np.array([4.0, 5.0, 6.0, 7.0]))
  state = buf.state()
  np.testing.assert_array_equal(state["data/r"], [2, 3, 4, 5, 6])  # oldest 1st
  replay_lib.save(tmp_path / "r.npz", buf)
  again = ReplayBuffer(5, SPEC, config)
  again.restore(replay_lib.load(tmp_path / "r.npz"))
  assert again.size == 5
  assert _contents(again) == _contents(buf)
  if prioritized:
    assert _contents(again) == {2.0: 1.0, 3.0: 4.0, 4.0: 5.0, 5.0: 6.0,
                                6.0: 7.0}
  if prioritized:  # sampling follows the restored priorities
    items, _, _ = again.sample(23_000, np.random.default_rng(0))
    freq = [np.mean(items["r"] == v) for v in (2, 3, 4, 5, 6)]
    np.testing.assert_allclose(freq, np.array([1, 4, 5, 6, 7]) / 23,
                               atol=0.002)
  # The same item is the next to go in both: the oldest (2).
  buf.insert(_items([7]))
  again.insert(_items([7]))
  assert _contents(again) == _contents(buf)
  assert set(_contents(again)) == {3.0, 4.0, 5.0, 6.0, 7.0}


def test_restoring_into_a_smaller_buffer_keeps_the_newest(tmp_path):
  buf = ReplayBuffer(6, SPEC)
  buf.insert(_items([0, 1, 2, 3, 4]))
  small = ReplayBuffer(3, SPEC)
  small.restore(buf.state())
  np.testing.assert_array_equal(small.state()["data/r"], [2, 3, 4])
  empty = ReplayBuffer(3, SPEC)
  empty.restore(ReplayBuffer(3, SPEC).state())
  assert empty.size == 0


def test_bad_saved_replay_is_named(tmp_path):
  buf = ReplayBuffer(3, SPEC)
  other = ReplayBuffer(3, {"x": ((3,), np.float32), "r": ((), np.float32)})
  with pytest.raises(ValueError, match="'x' holds float32\\[3\\]"):
    buf.restore(other.state())
  with pytest.raises(ValueError, match="fields"):
    buf.restore({"data/x": np.zeros((1, 2), np.float32)})
  bad = tmp_path / "bad.npz"
  bad.write_bytes(b"not a zip file")
  with pytest.raises(ValueError, match="bad.npz: not a readable replay"):
    replay_lib.load(bad)
  np.savez(tmp_path / "other.npz", weights=np.zeros(2))
  with pytest.raises(ValueError, match="not a replay file"):
    replay_lib.load(tmp_path / "other.npz")
