"""nas-optuna: NASNet architecture search as an Optuna plugin."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from nas_optuna.genotype import (
    COMBINES,
    NASNET_A,
    NASNET_OPS,
    Block,
    Cell,
    Genotype,
    parse_genotype,
)
from nas_optuna.nb201 import nb201_space
from nas_optuna.space import (
    PNAS_OPS,
    genotype_from_params,
    nasnet_space,
    params_from_genotype,
    pnas_space,
    random_genotype,
    suggest_genotype,
)

if TYPE_CHECKING:
    from nas_optuna.flops import count_mult_adds, count_parameters
    from nas_optuna.network import build_network
    from nas_optuna.samplers.ppo_lstm import PPOLSTMSampler

# torch-heavy names load on first use, so that `import nas_optuna` (the space, genotypes, a
# worker's start-up, a report) does not pay for importing torch.
_LAZY = {
    "build_network": "nas_optuna.network",
    "count_mult_adds": "nas_optuna.flops",
    "count_parameters": "nas_optuna.flops",
    "PPOLSTMSampler": "nas_optuna.samplers.ppo_lstm",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nas_optuna' has no attribute {name!r}")


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
    "nb201_space",
    "params_from_genotype",
    "parse_genotype",
    "pnas_space",
    "random_genotype",
    "suggest_genotype",
]
