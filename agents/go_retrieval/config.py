"""Configs of the retrieval-augmented Go agent (Humphreys et al. 2022).

`GoRetrievalExperiment` trains one network by supervised learning on expert
positions (`eval.go.positions`), with the offline driver
(`selfplay.offline`): with `agent.retrieval.num_neighbours == 0` it is the
key network (and the plain agent `go9-plain`); with K > 0 neighbours it is
the retrieval-augmented network, which reads the K nearest expert positions
of the retrieval split found by a frozen key network's embedding.
"""

from __future__ import annotations

import dataclasses

from agents.core import experiment

NEIGHBOUR_SOURCES = ("index", "random")


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
  """The residual convolutional torso and its heads."""

  channels: int = 64
  blocks: int = 6
  # The embedding (the key and query of retrieval) that both heads read.
  embedding_dim: int = 64
  # The hidden layer both heads read (over the embedding, and the read of
  # the neighbours when there are some).
  head_hidden: int = 256
  value_hidden: int = 128

  def __post_init__(self):
    for name in ("channels", "embedding_dim", "head_hidden", "value_hidden"):
      if getattr(self, name) <= 0:
        raise ValueError(f"agent.network.{name} must be > 0, got "
                         f"{getattr(self, name)}")
    if self.blocks < 0:
      raise ValueError(f"agent.network.blocks must be >= 0, got "
                       f"{self.blocks}")


@dataclasses.dataclass(frozen=True)
class RetrievalConfig:
  """How neighbours are found and read (K = 0: no retrieval)."""

  num_neighbours: int = 0  # K
  # Moves of each neighbour's game read from its position on (<= the
  # store's next_moves).
  next_moves: int = 4
  # Where neighbours come from: "index" (nearest by the key network's
  # embedding) or "random" (random positions of the retrieval split: the
  # control with the same input size).
  source: str = "index"
  # The permutation-invariant reader of the neighbours: "attention" (the
  # query position attends over them) or "deepsets" (mean of encodings).
  encoder: str = "attention"
  neighbour_dim: int = 128
  # The nearest-neighbour index of the retrieval split (`arena go index`;
  # it names its frozen key network), read in play and for the payload.
  index: str = ""
  # Each training and test position's neighbours, precomputed from the
  # index (`arena go neighbours`; `source` decides which table is made).
  neighbours: str = ""

  def __post_init__(self):
    if self.num_neighbours < 0:
      raise ValueError("agent.retrieval.num_neighbours must be >= 0, got "
                       f"{self.num_neighbours}")
    if self.next_moves <= 0 or self.neighbour_dim <= 0:
      raise ValueError("agent.retrieval.next_moves and neighbour_dim must be "
                       "> 0")
    if self.source not in NEIGHBOUR_SOURCES:
      raise ValueError(f"agent.retrieval.source must be one of "
                       f"{NEIGHBOUR_SOURCES}, got {self.source!r}")
    if self.encoder not in ("attention", "deepsets"):
      raise ValueError("agent.retrieval.encoder must be \"attention\" or "
                       f"\"deepsets\", got {self.encoder!r}")


@dataclasses.dataclass(frozen=True)
class GoRetrievalConfig:
  """The agent: network, retrieval and supervised-learning settings."""

  network: NetworkConfig = dataclasses.field(default_factory=NetworkConfig)
  retrieval: RetrievalConfig = dataclasses.field(
      default_factory=RetrievalConfig)
  batch_size: int = 256
  learning_rate: float = 1e-3
  # 0: a constant learning rate; N > 0: cosine decay from learning_rate to
  # 0 over N updates (set it to run.num_steps; optax.cosine_decay_schedule).
  # With a constant rate the last checkpoint's value loss moved by +-0.05
  # between evaluations on 8,600 games (benchmarks/go_retrieval_results.md).
  decay_steps: int = 0
  weight_decay: float = 1e-4
  # Weight of the value loss (mean squared error to the game's outcome, +-1)
  # next to the policy's cross-entropy with the expert's move.
  value_weight: float = 1.0
  # Train on a random one of the eight board symmetries of each position.
  augment: bool = True

  def __post_init__(self):
    if self.batch_size <= 0 or self.learning_rate <= 0:
      raise ValueError("agent.batch_size and agent.learning_rate must be > 0")
    if isinstance(self.decay_steps, bool) or not isinstance(
        self.decay_steps, int) or self.decay_steps < 0:
      raise ValueError(f"agent.decay_steps must be an integer >= 0, got "
                       f"{self.decay_steps!r}")
    if self.weight_decay < 0 or self.value_weight < 0:
      raise ValueError("agent.weight_decay and agent.value_weight must be "
                       ">= 0")


@dataclasses.dataclass(frozen=True)
class DataConfig:
  """The expert positions (`arena go positions`) and the evaluation sample."""

  positions: str = "runs/go9/positions"
  # Test positions scored at every evaluation (fixed, the first of a
  # seeded permutation of the test split).
  eval_positions: int = 4096


@dataclasses.dataclass(frozen=True)
class GoRetrievalExperiment:
  """Supervised learning of a Go network on expert positions (offline)."""

  game: experiment.GameConfig = dataclasses.field(
      default_factory=lambda: experiment.GameConfig(name="go"))
  agent: GoRetrievalConfig = dataclasses.field(
      default_factory=GoRetrievalConfig)
  data: DataConfig = dataclasses.field(default_factory=DataConfig)
  run: experiment.RunConfig = dataclasses.field(
      default_factory=lambda: experiment.RunConfig(
          num_steps=20_000, steps_per_call=1, log_every=200,
          checkpoint_every=2_000))
  evaluation: experiment.EvalConfig = dataclasses.field(
      default_factory=lambda: experiment.EvalConfig(every=1_000))

  def __post_init__(self):
    if self.game.name != "go":
      raise ValueError(f"the Go retrieval agent plays go, got game "
                       f"{self.game.name!r}")
