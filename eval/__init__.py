"""Evaluation: exploitability, and later bots, matches, tournaments and ratings."""
