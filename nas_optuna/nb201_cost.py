"""Multiply-adds and parameters of every NAS-Bench-201 network, computed analytically.

NAS-Bench-201's shipped table has no cost columns, so they are derived from its macro network
(Dong & Yang 2020, the ``TinyNetwork`` of its code): a 3x3 conv stem of 16 channels + BN; three
stages of 5 cells at C = 16, 32, 64 on 32x32, 16x16, 8x8 maps; between stages a residual
reduction block (ReLU-conv3x3/2-BN, ReLU-conv3x3-BN, shortcut avgpool2 + conv1x1); then
BN-ReLU, global average pooling and a 10-way linear layer.

In a cell only ``nor_conv_1x1`` (ReLU-conv1x1-BN) and ``nor_conv_3x3`` (ReLU-conv3x3-BN) cost
anything: ``none``, ``skip_connect`` and ``avg_pool_3x3`` have no weights, and multiply-adds
count conv and linear layers only, as nas_optuna.flops does for the NASNet space. C*C*H*W is
the same in all three stages (16*16*32*32 = 32*32*16*16 = 64*64*8*8), so a cell's cost does not
depend on its stage. The all-none network (7.78M) and the all-conv3x3 one (220.1M) match the
range of the FLOPs NAS-Bench-201's API reports (in M, 7.78 to 220.11).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nas_optuna.nb201 import NB201_EDGES, NB201_OPS, cellstr_from_params, edge_name

STEM_CHANNELS = 16
STAGES = ((16, 32), (32, 16), (64, 8))  # (channels, feature map side)
CELLS_PER_STAGE = 5
N_CLASSES = 10
KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}  # the ops with weights


@dataclass(frozen=True)
class NB201Cost:
    mult_adds: int
    n_params: int


def _conv_bn(c_in: int, c_out: int, kernel: int, side_out: int) -> tuple[int, int]:
    """(multiply-adds, params) of a bias-free conv followed by an affine BN."""
    weights = kernel * kernel * c_in * c_out
    return weights * side_out * side_out, weights + 2 * c_out


def _fixed_cost() -> tuple[int, int]:
    """Everything but the cells: stem, the two reduction blocks, last BN and classifier."""
    mult_adds, params = _conv_bn(3, STEM_CHANNELS, 3, STAGES[0][1])
    for (c_in, _), (c_out, side) in zip(STAGES, STAGES[1:], strict=False):
        for part in (_conv_bn(c_in, c_out, 3, side), _conv_bn(c_out, c_out, 3, side)):
            mult_adds, params = mult_adds + part[0], params + part[1]
        shortcut = c_in * c_out  # avg pool 2x2, then a 1x1 conv without BN
        mult_adds, params = mult_adds + shortcut * side * side, params + shortcut
    c_last = STAGES[-1][0]
    mult_adds += c_last * N_CLASSES
    params += 2 * c_last + c_last * N_CLASSES + N_CLASSES
    return mult_adds, params


def cost_of_ops(ops: Mapping[str, str]) -> NB201Cost:
    """Cost of the network whose cell has these ops (edge name -> op)."""
    mult_adds, params = _fixed_cost()
    for to, source in NB201_EDGES:
        op = ops[edge_name(to, source)]
        if op not in NB201_OPS:
            raise ValueError(f"unknown NB201 op {op!r}; expected one of {list(NB201_OPS)}")
        if op in KERNEL:
            for channels, side in STAGES:
                m, p = _conv_bn(channels, channels, KERNEL[op], side)
                mult_adds, params = mult_adds + CELLS_PER_STAGE * m, params + CELLS_PER_STAGE * p
    return NB201Cost(mult_adds, params)


@functools.cache
def _cost_of_cellstr(cellstr: str) -> NB201Cost:
    from nas_optuna.nb201 import params_from_cellstr

    return cost_of_ops(params_from_cellstr(cellstr))


def nb201_cost(params: Mapping[str, Any]) -> NB201Cost:
    """Cost of a trial's NB201 architecture (cached per cell: 15,625 at most)."""
    return _cost_of_cellstr(cellstr_from_params(params))
