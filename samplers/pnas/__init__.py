"""PNAS (Liu et al. 2018): a predictor ensemble ranks candidate architectures, as an Optuna sampler."""

from .growth import CellGrowth
from .sampler import PNASSampler


__all__ = ["CellGrowth", "PNASSampler"]
