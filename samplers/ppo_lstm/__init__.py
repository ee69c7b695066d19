"""PPO-LSTM sampler: the NASNet controller (Zoph et al. 2018) as an Optuna sampler."""

from .sampler import PPOLSTMSampler


__all__ = ["PPOLSTMSampler"]
