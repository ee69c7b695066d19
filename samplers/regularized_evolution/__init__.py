"""Regularized (aging) evolution, Real et al. 2019 (AmoebaNet), as an Optuna sampler."""

from .sampler import PAPER_SETTINGS
from .sampler import RegularizedEvolutionSampler


__all__ = ["PAPER_SETTINGS", "RegularizedEvolutionSampler"]
