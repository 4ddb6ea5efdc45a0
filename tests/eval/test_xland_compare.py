"""The curricula comparison's statistics (`eval.xland.compare`), on cases
worked by hand."""

import numpy as np
import pytest

from eval.xland import compare


def test_constant_success_gives_a_point_interval_and_exact_ratios():
  per_task = {"uniform": np.full((3, 50), 0.2),
              "plr": np.full((3, 50), 0.5)}
  out = compare.compare(per_task, baseline="uniform", num_resamples=500)
  assert out["uniform"]["mean"] == pytest.approx(0.2)
  assert (out["uniform"]["low"], out["uniform"]["high"]) == pytest.approx(
      (0.2, 0.2))
  assert out["plr"]["ratio"] == pytest.approx(2.5)
  assert (out["plr"]["ratio_low"], out["plr"]["ratio_high"]) == pytest.approx(
      (2.5, 2.5))
  assert out["uniform"]["ratio"] == pytest.approx(1.0)
  assert out["plr"]["seeds"] == 3
  assert out["plr"]["seed_means"] == pytest.approx([0.5] * 3)


def test_the_seed_level_spans_the_seeds():
  # Tasks alike within a seed; seeds at 0.2, 0.4, 0.6. A resample's mean is
  # that of 3 seeds drawn with replacement: all three the lowest (or all
  # the highest) has probability 1/27 = 3.7% > 2.5%, so the 95% interval
  # runs from 0.2 to 0.6; a task-only bootstrap would give a point.
  values = np.repeat(np.array([[0.2], [0.4], [0.6]]), 40, axis=1)
  out = compare.compare({"uniform": values}, baseline="uniform",
                        num_resamples=20_000, seed=1)
  assert out["uniform"]["mean"] == pytest.approx(0.4)
  assert out["uniform"]["low"] == pytest.approx(0.2)
  assert out["uniform"]["high"] == pytest.approx(0.6)


def test_the_task_level_matches_the_binomial_spread():
  # One seed, 400 tasks each solved or not (40% solved): the resampled mean
  # has standard deviation sqrt(0.4 * 0.6 / 400) = 0.0245, so the 95%
  # interval is about 0.4 +- 1.96 * 0.0245 = [0.352, 0.448].
  values = np.zeros((1, 400))
  values[0, :160] = 1.0
  out = compare.compare({"uniform": values}, baseline="uniform",
                        num_resamples=20_000, seed=2)
  assert out["uniform"]["low"] == pytest.approx(0.352, abs=0.006)
  assert out["uniform"]["high"] == pytest.approx(0.448, abs=0.006)


def test_pairing_by_task_narrows_the_ratio():
  # Each task's success under plr is twice that under uniform (0 or 0.5
  # against 0 or 1). Because tasks are resampled jointly, the
  # ratio stays at 2 in every resample although each mean alone varies.
  rng = np.random.default_rng(0)
  uniform = np.where(rng.random((1, 300)) < 0.25, 0.5, 0.0)
  plr = 2 * uniform
  out = compare.compare({"uniform": uniform, "plr": plr}, baseline="uniform",
                        num_resamples=2_000)
  assert out["uniform"]["high"] > out["uniform"]["low"]
  assert out["plr"]["ratio"] == pytest.approx(2.0)
  assert (out["plr"]["ratio_low"], out["plr"]["ratio_high"]) == pytest.approx(
      (2.0, 2.0))


def test_a_zero_baseline_has_no_ratio():
  out = compare.compare({"uniform": np.zeros((2, 10)),
                         "plr": np.full((2, 10), 0.3)}, baseline="uniform",
                        num_resamples=100)
  assert out["plr"]["ratio"] is None and out["plr"]["ratio_low"] is None
  assert out["plr"]["mean"] == pytest.approx(0.3)


@pytest.mark.parametrize("per_task, baseline, match", [
    ({"plr": np.zeros((2, 5))}, "uniform", "baseline 'uniform'"),
    ({"uniform": np.zeros(5)}, "uniform", r"\[seeds, tasks\]"),
    ({"uniform": np.zeros((2, 5)), "plr": np.zeros((2, 6))}, "uniform",
     "same tasks"),
    ({"uniform": np.full((1, 3), 1.5)}, "uniform", r"\[0, 1\]"),
])
def test_bad_input_is_named(per_task, baseline, match):
  with pytest.raises(ValueError, match=match):
    compare.compare(per_task, baseline=baseline)
