"""PNAS's progressive search on nas-optuna's spaces: the growth description the sampler needs.

A progressive space (``pnas_space(progressive=True)``, or ``[space] progressive = true``)
starts with `SIZE_PARAM`; `cell_growth` tells PNASSampler which parameters make up each block,
so it can train every 1-block cell and then grow the best by one block per stage.
"""

from __future__ import annotations

from collections.abc import Mapping

from optuna.distributions import CategoricalDistribution

from nas_optuna.samplers.pnas import CellGrowth
from nas_optuna.space import SIZE_PARAM, adding_blocks


def cell_growth(space: Mapping[str, CategoricalDistribution]) -> CellGrowth:
    """The blocks of a progressive space, each as its two interchangeable (input, op) operands:
    the block adds them, so (a, b) and (b, a) are one cell and only one is trained."""
    if SIZE_PARAM not in space:
        raise ValueError(f"not a progressive space (no {SIZE_PARAM!r}); use pnas_space(progressive=True)")
    operands = tuple(adding_blocks(space))
    if not operands:
        raise ValueError("a progressive space adds the two operands of a block; drop the combine decision")
    return CellGrowth(SIZE_PARAM, operands, dict(space))
