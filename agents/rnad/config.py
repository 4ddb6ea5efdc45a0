"""R-NaD hyperparameters (Perolat et al. 2022, arXiv:2206.15378).

Defaults follow the values published with DeepNash's R-NaD reference; the
experiment configs in `configs/` tune them per game.
"""

from __future__ import annotations

import dataclasses
import math

from agents.core import experiment


@dataclasses.dataclass(frozen=True)
class AdamConfig:
  b1: float = 0.0
  b2: float = 0.999
  eps: float = 1e-8


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
  """Policy/value network: one torso read by a policy and a value head.

  kind "mlp": an MLP torso over the flattened observation. kind "deepnash":
  the convolutional residual network of `agents.rnad.deepnash_net` for
  Stratego (deployment, piece and target heads): a `stem_kernel` x
  `stem_kernel` convolution to `channels`, then `num_blocks` residual blocks
  of 3x3 convolutions. The stem reads every observation plane, so a 1x1 stem
  costs far less than a 3x3 one (on a CPU it dominates a small network's
  time) at the price of a smaller field of view.
  """

  kind: str = "mlp"
  hidden_sizes: tuple[int, ...] = (256, 256)
  channels: int = 64
  stem_kernel: int = 3
  num_blocks: int = 4
  value_hidden: int = 128

  def __post_init__(self):
    if self.kind not in ("mlp", "deepnash"):
      raise ValueError(f"network kind must be 'mlp' or 'deepnash', got "
                       f"{self.kind!r}")
    if self.stem_kernel not in (1, 3, 5):
      raise ValueError(f"stem_kernel must be 1, 3 or 5, got {self.stem_kernel}")
    if min(self.channels, self.value_hidden) <= 0 or self.num_blocks < 0:
      raise ValueError("network channels and value_hidden must be > 0 and "
                       f"num_blocks >= 0, got {self}")
    if not self.hidden_sizes or any(h <= 0 for h in self.hidden_sizes):
      raise ValueError(
          f"hidden_sizes must be non-empty positive ints, got {self.hidden_sizes}")


POLICY_LOSSES = ("neurd", "softmax_pg")


@dataclasses.dataclass(frozen=True)
class PolicyLossConfig:
  """The policy loss, trained on R-NaD's v-trace Q estimates either way.

  `loss` "neurd": R-NaD's NeuRD (`agents.rnad.losses.neurd_loss`), which
  pushes each centred logit by its action's advantage and only within
  [-`neurd_beta`, `neurd_beta`]. "softmax_pg": the all-actions softmax policy
  gradient (`losses.softmax_pg_loss`), which scales that push by the
  action's probability and ignores `neurd_beta`. Both clip the advantages to
  [-`clip`, `clip`].
  """

  loss: str = "neurd"
  neurd_beta: float = 2.0
  clip: float = 10_000.0

  def __post_init__(self):
    if self.loss not in POLICY_LOSSES:
      raise ValueError("agent.policy.loss must be 'neurd' or 'softmax_pg', "
                       f"got {self.loss!r}")
    if self.neurd_beta <= 0:
      raise ValueError(
          f"agent.policy.neurd_beta must be > 0, got {self.neurd_beta}")
    if self.clip <= 0:
      raise ValueError(f"agent.policy.clip must be > 0, got {self.clip}")


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
  """Test-time policy post-processing.

  When `at_test_time`, the policy that is evaluated and exported
  (`RNaD.policy_probs`, `load_policy`) drops actions with probability below
  `policy_threshold` and rounds the rest to multiples of
  1/`policy_discretization`. Self-play and learning use the raw policy.
  """

  policy_threshold: float = 0.03
  policy_discretization: int = 32
  at_test_time: bool = True

  def __post_init__(self):
    if not 0.0 <= self.policy_threshold < 1.0:
      raise ValueError(
          f"policy_threshold must be in [0, 1), got {self.policy_threshold}")
    if self.policy_discretization < 0:
      raise ValueError(
          "policy_discretization must be >= 0 (0 disables it), got "
          f"{self.policy_discretization}")


@dataclasses.dataclass(frozen=True)
class RNaDConfig:
  """R-NaD learner hyperparameters.

  Each learner step plays `batch_size` self-play games to the end and applies
  one update. Learning is split into regularisation iterations: the i-th
  schedule entry is an iteration of `entropy_schedule_sizes[i]` learner steps,
  repeated `entropy_schedule_repeats[i]` times; the last size repeats forever.
  """

  batch_size: int = 256
  learning_rate: float = 5e-5
  # 0: constant; else the rate at step t is learning_rate / sqrt(1 + t / this),
  # which lowers the noise floor of long runs.
  learning_rate_decay_steps: int = 0
  adam: AdamConfig = dataclasses.field(default_factory=AdamConfig)
  clip_gradient: float = 10_000.0
  target_network_avg: float = 0.001
  # Polyak averaging rate of the parameters the trained policy is evaluated
  # and exported with (`RNaD.test_params`); 0 uses the online parameters.
  # Averaging damps the last iterate's oscillation around the equilibrium.
  # It does not change learning, but the training state holds the average,
  # so `--resume` cannot switch it on or off.
  test_policy_avg: float = 0.0
  eta_reward_transform: float = 0.2  # regularisation strength (eta)
  entropy_schedule_sizes: tuple[int, ...] = (20_000,)
  entropy_schedule_repeats: tuple[int, ...] = (1,)
  c_vtrace: float = 1.0
  # The learner runs its networks on at most this share of the batch's
  # T x B steps, the valid ones (`networks.compact_steps`); a batch with
  # more valid steps uses all. Saves work where games end well before the
  # longest possible game (Stratego); 1 computes every step.
  compute_fraction: float = 1.0
  rho_vtrace: float = math.inf
  # The policy loss and its settings.
  policy: PolicyLossConfig = dataclasses.field(
      default_factory=PolicyLossConfig)
  finetune: FinetuneConfig = dataclasses.field(default_factory=FinetuneConfig)
  network: NetworkConfig = dataclasses.field(default_factory=NetworkConfig)

  def __post_init__(self):
    if self.batch_size <= 0:
      raise ValueError(f"batch_size must be > 0, got {self.batch_size}")
    if self.learning_rate <= 0:
      raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
    if self.learning_rate_decay_steps < 0:
      raise ValueError("learning_rate_decay_steps must be >= 0, got "
                       f"{self.learning_rate_decay_steps}")
    if not 0.0 < self.target_network_avg <= 1.0:
      raise ValueError(
          f"target_network_avg must be in (0, 1], got {self.target_network_avg}")
    if not 0.0 <= self.test_policy_avg <= 1.0:
      raise ValueError(
          f"test_policy_avg must be in [0, 1], got {self.test_policy_avg}")
    if self.eta_reward_transform < 0:
      raise ValueError(
          f"eta_reward_transform must be >= 0, got {self.eta_reward_transform}")
    if (len(self.entropy_schedule_sizes) != len(self.entropy_schedule_repeats)
        or not self.entropy_schedule_sizes):
      raise ValueError(
          "entropy_schedule_sizes and entropy_schedule_repeats must be "
          "non-empty and of equal length, got "
          f"{self.entropy_schedule_sizes} and {self.entropy_schedule_repeats}")
    if any(s <= 0 for s in self.entropy_schedule_sizes) or any(
        r <= 0 for r in self.entropy_schedule_repeats):
      raise ValueError("entropy schedule sizes and repeats must be > 0")
    if not 0.0 < self.compute_fraction <= 1.0:
      raise ValueError(
          f"compute_fraction must be in (0, 1], got {self.compute_fraction}")
    if self.c_vtrace <= 0 or self.rho_vtrace <= 0:
      raise ValueError("c_vtrace and rho_vtrace must be > 0")


@dataclasses.dataclass(frozen=True)
class RNaDExperiment:
  """R-NaD self-play on a JAX game (the Anakin driver)."""

  game: experiment.GameConfig = dataclasses.field(
      default_factory=experiment.GameConfig)
  agent: RNaDConfig = dataclasses.field(default_factory=RNaDConfig)
  run: experiment.RunConfig = dataclasses.field(
      default_factory=experiment.RunConfig)
  evaluation: experiment.EvalConfig = dataclasses.field(
      default_factory=experiment.EvalConfig)
  league: experiment.LeagueConfig = dataclasses.field(
      default_factory=experiment.LeagueConfig)
  warm_start: experiment.WarmStartConfig = dataclasses.field(
      default_factory=experiment.WarmStartConfig)
