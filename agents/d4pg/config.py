"""D4PG hyperparameters (Barth-Maron et al. 2018, arXiv:1804.08617).

Defaults follow the paper and acme's D4PG agent on the Control Suite: 51
atoms on [-150, 150], 5-step returns, Gaussian exploration noise of 0.3,
target networks copied every 100 learner steps, Adam at 1e-4, batch 256.
"""

from __future__ import annotations

import dataclasses

from agents.core import experiment


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
  """Layer-normed MLP torsos of the policy and the critic."""

  policy_hidden_sizes: tuple[int, ...] = (256, 256, 256)
  critic_hidden_sizes: tuple[int, ...] = (512, 512, 256)

  def __post_init__(self):
    for name in ("policy_hidden_sizes", "critic_hidden_sizes"):
      sizes = getattr(self, name)
      if not sizes or any(h <= 0 for h in sizes):
        raise ValueError(
            f"{name} must be non-empty positive ints, got {sizes}")


@dataclasses.dataclass(frozen=True)
class D4PGConfig:
  """D4PG learner and actor hyperparameters."""

  batch_size: int = 256
  policy_learning_rate: float = 1e-4
  critic_learning_rate: float = 1e-4
  adam_eps: float = 1e-8
  max_gradient_norm: float = 40.0  # global norm, per network; 0 disables
  dqda_clip: float = 0.0  # clip dQ/da by L2 norm before the DPG loss; 0: none
  discount: float = 0.99
  n_step: int = 5
  num_atoms: int = 51
  v_min: float = -150.0
  v_max: float = 150.0
  sigma: float = 0.3  # exploration noise, in units of half the action range
  target_update_period: int = 100  # learner steps between target copies
  network: NetworkConfig = dataclasses.field(default_factory=NetworkConfig)

  def __post_init__(self):
    for name in ("batch_size", "n_step", "target_update_period",
                 "policy_learning_rate", "critic_learning_rate", "adam_eps"):
      if getattr(self, name) <= 0:
        raise ValueError(f"agent.{name} must be > 0, got {getattr(self, name)}")
    if self.num_atoms < 2:
      raise ValueError(f"agent.num_atoms must be >= 2, got {self.num_atoms}")
    if not self.v_min < self.v_max:
      raise ValueError(f"agent.v_min must be < agent.v_max, got "
                       f"[{self.v_min}, {self.v_max}]")
    if not 0.0 <= self.discount <= 1.0:
      raise ValueError(f"agent.discount must be in [0, 1], got {self.discount}")
    for name in ("sigma", "max_gradient_norm", "dqda_clip"):
      if getattr(self, name) < 0:
        raise ValueError(f"agent.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class D4PGExperiment:
  """D4PG on a Control Suite task (the Sebulba driver)."""

  game: experiment.GameConfig = dataclasses.field(
      default_factory=lambda: experiment.GameConfig(name="cartpole_swingup"))
  agent: D4PGConfig = dataclasses.field(default_factory=D4PGConfig)
  runtime: experiment.RuntimeConfig = dataclasses.field(
      default_factory=experiment.RuntimeConfig)
  run: experiment.RunConfig = dataclasses.field(
      default_factory=experiment.RunConfig)
  evaluation: experiment.ControlEvalConfig = dataclasses.field(
      default_factory=experiment.ControlEvalConfig)
