"""nas-optuna: NASNet architecture search as an Optuna plugin."""

from nas_optuna.flops import count_mult_adds, count_parameters
from nas_optuna.genotype import (
    COMBINES,
    NASNET_A,
    NASNET_OPS,
    Block,
    Cell,
    Genotype,
    parse_genotype,
)
from nas_optuna.network import build_network
from nas_optuna.samplers.ppo_lstm import PPOLSTMSampler
from nas_optuna.space import (
    PNAS_OPS,
    genotype_from_params,
    nasnet_space,
    params_from_genotype,
    pnas_space,
    suggest_genotype,
)

__all__ = [
    "COMBINES",
    "NASNET_A",
    "NASNET_OPS",
    "PNAS_OPS",
    "PPOLSTMSampler",
    "Block",
    "Cell",
    "Genotype",
    "build_network",
    "count_mult_adds",
    "count_parameters",
    "genotype_from_params",
    "nasnet_space",
    "params_from_genotype",
    "parse_genotype",
    "pnas_space",
    "suggest_genotype",
]
