"""Comparing training setups (curricula) by held-out success, with
bootstrap confidence intervals over seeds and tasks.

Each setup is trained with S seeds and every run is played on the same N
held-out tasks, giving a [S, N] array of per-task success rates (in trial
K, say). The figure of a setup is its mean over seeds and tasks; the figure
of a comparison is the ratio of a setup's mean to the baseline's.

Intervals come from a two-level percentile bootstrap (Efron 1979; the
stratified form Agarwal et al. 2021, "Deep RL at the Edge of the
Statistical Precipice", arXiv 2108.13264, recommend for few runs): each
resample draws the N tasks with replacement (one draw shared by all setups,
since they are played on the same tasks: a paired comparison) and, for each
setup separately, its S seeds with replacement (the runs are independent).
With S = 3 the seed level has only 10 distinct multisets, so the interval
is coarse; it still widens with the spread between seeds, which a
task-only bootstrap would hide.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

_MAX_COUNTS = 10_000_000  # entries of one chunk of resample counts


def compare(per_task: Mapping[str, np.ndarray], *, baseline: str,
            num_resamples: int = 10_000, confidence: float = 0.95,
            seed: int = 0) -> dict[str, dict[str, float | list[float]]]:
  """Means, intervals and ratios to `baseline` of each setup.

  Args:
    per_task: setup name -> [S, N] per-seed, per-task success rates in
      [0, 1]; every setup has the same N tasks, in the same order (S may
      differ).
    baseline: the setup the others are divided by.
    num_resamples: bootstrap resamples.
    confidence: the interval's central mass, in (0, 1).
    seed: the resampling's seed.

  Returns:
    setup name -> {"seeds": S, "seed_means": [S per-seed means], "mean",
    "low", "high", "ratio", "ratio_low", "ratio_high"} (the ratio is the
    setup's mean over the baseline's, 1.0 for the baseline itself; None
    where the baseline's mean is 0).

  Raises:
    ValueError: an unknown baseline, arrays that are not [S, N] with the
      same N, values outside [0, 1], or a bad `num_resamples` or
      `confidence`.
  """
  if baseline not in per_task:
    raise ValueError(f"baseline {baseline!r} is not one of the setups "
                     f"{sorted(per_task)}")
  if not isinstance(num_resamples, int) or num_resamples < 1:
    raise ValueError(f"num_resamples must be an integer >= 1, got "
                     f"{num_resamples!r}")
  if not 0.0 < confidence < 1.0:
    raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
  arrays = {}
  for name, values in per_task.items():
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or 0 in values.shape:
      raise ValueError(f"{name}: expected [seeds, tasks] with both >= 1, got "
                       f"shape {values.shape}")
    if np.any(values < 0) or np.any(values > 1) or np.any(np.isnan(values)):
      raise ValueError(f"{name}: success rates must lie in [0, 1]")
    arrays[name] = values
  num_tasks = {v.shape[1] for v in arrays.values()}
  if len(num_tasks) != 1:
    raise ValueError(f"every setup must be played on the same tasks; got "
                     f"task counts {sorted(num_tasks)}")
  (n,) = num_tasks
  rng = np.random.default_rng(seed)
  # One task resample per bootstrap draw, shared by every setup, as counts:
  # the resampled task mean of a row x is x @ counts / n. Drawn in chunks of
  # resamples so that [N, chunk] stays within _MAX_COUNTS entries (80 MB).
  chunk = max(1, _MAX_COUNTS // n)
  boot = {name: [] for name in arrays}
  for start in range(0, num_resamples, chunk):
    b = min(chunk, num_resamples - start)
    counts = rng.multinomial(n, np.full(n, 1.0 / n),
                             size=b).T.astype(np.float64)  # [N, b]
    for name, values in arrays.items():
      s = values.shape[0]
      task_means = values @ counts / n  # [S, b]
      pick = rng.integers(0, s, size=(b, s))  # [b, S]
      boot[name].append(task_means[pick, np.arange(b)[:, None]].mean(axis=1))
  boot = {name: np.concatenate(parts) for name, parts in boot.items()}
  tail = (1.0 - confidence) / 2 * 100
  qs = (tail, 100 - tail)
  base_mean = float(arrays[baseline].mean())
  out = {}
  for name, values in arrays.items():
    mean = float(values.mean())
    low, high = np.percentile(boot[name], qs)
    entry = {"seeds": int(values.shape[0]),
             "seed_means": [float(m) for m in values.mean(axis=1)],
             "mean": mean, "low": float(low), "high": float(high),
             "ratio": None, "ratio_low": None, "ratio_high": None}
    if base_mean > 0:
      with np.errstate(divide="ignore", invalid="ignore"):
        ratios = boot[name] / boot[baseline]
      ratios = ratios[np.isfinite(ratios)]
      entry["ratio"] = mean / base_mean
      if ratios.size:
        r_low, r_high = np.percentile(ratios, qs)
        entry["ratio_low"], entry["ratio_high"] = float(r_low), float(r_high)
    out[name] = entry
  return out
