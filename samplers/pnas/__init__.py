"""PNAS (Liu et al. 2018): a predictor ensemble ranks candidate architectures, as an Optuna sampler."""

from .sampler import PNASSampler


__all__ = ["PNASSampler"]
