"""Stratego-only evaluation and human play.

- `human`: a human against an agent or bot in the terminal (`arena play`).
- `replay`: a recorded game shown again (`arena play --replay`).
- `record`: game records, written as JSON and replayed.
- `tactics`: what an agent does, move by move (`benchmarks/stratego_tactics.py`).

What the human sees and types is the game's knowledge and lives with it:
`games.stratego.human_view` and `games.stratego.human_input`. The submodules
are imported on use (`from eval.stratego import human`), not here: `tactics`
needs the agents, `human` the players.
"""

__all__ = ["human", "record", "replay", "tactics"]
