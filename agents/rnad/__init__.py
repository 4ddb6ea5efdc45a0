"""R-NaD (Perolat et al. 2022, arXiv:2206.15378): the learning rule of DeepNash."""

from agents.rnad.config import AdamConfig, FinetuneConfig, NetworkConfig, NeuRDConfig, RNaDConfig
from agents.rnad.learner import EntropySchedule, RNaD, RNaDExtras, make_rnad
from agents.rnad.policy import load_policy, openspiel_policy_for

__all__ = [
    "AdamConfig", "EntropySchedule", "FinetuneConfig", "NetworkConfig",
    "NeuRDConfig", "RNaD", "RNaDConfig", "RNaDExtras", "load_policy",
    "make_rnad", "openspiel_policy_for",
]
