"""Agents: the shared learner (`agents.core`) and one package per algorithm."""
