"""A NASNet cell as a PyTorch module that interprets a genotype cell.

The wiring (which state feeds which op, how blocks combine, which states form the output and
how each is brought to the output size) is resolved once here; ``forward`` only walks it.
"""

from __future__ import annotations

import torch
from torch import nn

from nas_optuna import genotype as gt
from nas_optuna.drop_path import DropPath
from nas_optuna.ops import OPS, FactorizedReduction, relu_conv_bn


def check_cell(spec: gt.Cell, role: str) -> None:
    """Raise ValueError naming the first block field a network cannot be built from."""
    for b, block in enumerate(spec.blocks):
        for field in ("in_a", "in_b"):
            index = getattr(block, field)
            if not isinstance(index, int) or not 0 <= index < gt.N_CELL_INPUTS + b:
                raise ValueError(f"{role} block {b} {field} = {index!r}: must be a state index in 0..{b + 1}")
        for field in ("op_a", "op_b"):
            if getattr(block, field) not in OPS:
                raise ValueError(
                    f"{role} block {b} {field} = {getattr(block, field)!r}: use one of {list(OPS)}"
                )
        if block.combine not in gt.COMBINES:
            raise ValueError(f"{role} block {b} combine = {block.combine!r}: use one of {list(gt.COMBINES)}")
    n_states = gt.N_CELL_INPUTS + len(spec.blocks)
    if spec.concat is not None and not all(0 <= i < n_states for i in spec.concat):
        raise ValueError(f"{role} cell concat {spec.concat} names states outside 0..{n_states - 1}")


class Cell(nn.Module):
    """One Normal or Reduction cell.

    Inputs are ``prev`` (h_i, ``c_prev`` channels) and ``prev_prev`` (h_{i-1}, ``c_prev_prev``
    channels, twice as large spatially when ``prev_prev_larger``). As in the released code,
    h_i always goes through ReLU -> 1x1 conv -> BN; h_{i-1} through ReLU -> factorized
    reduction when larger, ReLU -> 1x1 conv -> BN when its channels differ from ``filters``
    and ``prepare_prev_prev``, and is used as it is otherwise (the first cell reads the raw stem).
    """

    def __init__(
        self,
        spec: gt.Cell,
        *,
        c_prev: int,
        c_prev_prev: int,
        filters: int,
        reduction: bool,
        prev_prev_larger: bool = False,
        prepare_prev_prev: bool = True,
        concat: str = "released",
        drop_path_keep: float = 1.0,
        cell_index: int = 0,
        total_cells: int = 1,
    ):
        super().__init__()
        role = "reduction" if reduction else "normal"
        check_cell(spec, role)
        self.reduction = reduction
        self.prep_prev = relu_conv_bn(c_prev, filters, 1)
        if prev_prev_larger:
            self.prep_prev_prev = nn.Sequential(nn.ReLU(), FactorizedReduction(c_prev_prev, filters))
            c_prev_prev = filters
        elif prepare_prev_prev and c_prev_prev != filters:
            self.prep_prev_prev = relu_conv_bn(c_prev_prev, filters, 1)
            c_prev_prev = filters
        else:
            self.prep_prev_prev = nn.Identity()

        channels = [filters, c_prev_prev]  # per state
        larger = [reduction, reduction]  # cell inputs keep the pre-reduction size
        ops_a, ops_b, wiring = [], [], []
        n_dropped = 0
        for block in spec.blocks:
            slots = []  # index of the op's drop path mask, -1 for none (identity is never dropped)
            for index, name, ops in ((block.in_a, block.op_a, ops_a), (block.in_b, block.op_b, ops_b)):
                stride = 2 if larger[index] else 1
                ops.append(OPS[name](channels[index], filters, stride))
                dropped = name != "identity" and drop_path_keep < 1.0
                slots.append(n_dropped if dropped else -1)
                n_dropped += dropped
            is_concat = block.combine == "concat"
            wiring.append((block.in_a, block.in_b, is_concat, *slots))
            channels.append(2 * filters if is_concat else filters)
            larger.append(False)
        self.ops_a = nn.ModuleList(ops_a)
        self.ops_b = nn.ModuleList(ops_b)
        self._wiring = tuple(wiring)
        # One module draws the masks of all dropped ops at once (few kernels per cell); it has
        # no state_dict entries, so weights load the same with or without drop path.
        self.drop_path = DropPath(n_dropped, drop_path_keep, cell_index, total_cells) if n_dropped else None

        # Output: larger states are brought down by factorized reduction, and cell inputs to
        # `filters` channels (the released code does this for the raw stem in the first cell).
        self._outputs = spec.output_states(concat)
        adapters = []
        out_channels = 0
        for i in self._outputs:
            if larger[i]:
                adapters.append(FactorizedReduction(channels[i], filters, 2))
            elif i < gt.N_CELL_INPUTS and channels[i] != filters:
                adapters.append(FactorizedReduction(channels[i], filters, 1))
            else:
                adapters.append(nn.Identity())
            out_channels += filters if i < gt.N_CELL_INPUTS else channels[i]
        self.out_adapters = nn.ModuleList(adapters)
        self.out_channels = out_channels

    @property
    def dropped_ops(self) -> tuple[tuple[bool, bool], ...]:
        """Per block, whether drop path applies to op A and to op B."""
        return tuple((slot_a >= 0, slot_b >= 0) for *_, slot_a, slot_b in self._wiring)

    def forward(self, prev: torch.Tensor, prev_prev: torch.Tensor) -> torch.Tensor:
        states = [self.prep_prev(prev), self.prep_prev_prev(prev_prev)]
        masks = self.drop_path.masks(states[0]) if self.training and self.drop_path is not None else None
        for (in_a, in_b, is_concat, slot_a, slot_b), op_a, op_b in zip(
            self._wiring, self.ops_a, self.ops_b, strict=True
        ):
            a = op_a(states[in_a])
            b = op_b(states[in_b])
            if masks is not None:
                a = a if slot_a < 0 else a * masks[slot_a]
                b = b if slot_b < 0 else b * masks[slot_b]
            states.append(torch.cat([a, b], dim=1) if is_concat else a + b)
        outputs = [adapt(states[i]) for i, adapt in zip(self._outputs, self.out_adapters, strict=True)]
        return torch.cat(outputs, dim=1)
