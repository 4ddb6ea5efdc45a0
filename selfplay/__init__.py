"""Self-play drivers: rollouts, the Anakin loop, logging and checkpoints."""
