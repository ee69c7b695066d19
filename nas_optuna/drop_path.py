"""ScheduledDropPath: drop whole op outputs per example, more in deep cells and late in training."""

from __future__ import annotations

import torch
from torch import nn


def layer_keep_prob(keep_prob: float, cell_index: int, total_cells: int) -> float:
    """Keep probability of a cell at the end of training: deeper cells drop more."""
    return 1.0 - (cell_index + 1) / total_cells * (1.0 - keep_prob)


def scheduled_keep_prob(keep_prob: float, cell_index: int, total_cells: int, progress: float) -> float:
    """Keep probability at ``progress`` (fraction of training done): 1 at 0, linear to the layer's."""
    progress = min(max(progress, 0.0), 1.0)
    return 1.0 - progress * (1.0 - layer_keep_prob(keep_prob, cell_index, total_cells))


class DropPath(nn.Module):
    """Per-example masks for the dropped ops of one cell, drawn together for speed.

    ``masks(like)`` returns ``(n_ops, batch, 1, 1, 1)``: 0 for a dropped example, 1/keep for a
    survivor, one independent draw per op and example; ``x * masks[j]`` applies op j's mask.
    The current keep probability lives in a (non-persistent) buffer rather than a Python float,
    so that moving it along the schedule does not recompile a ``torch.compile``d network.
    """

    def __init__(self, n_ops: int, keep_prob: float, cell_index: int, total_cells: int):
        super().__init__()
        self.n_ops = n_ops
        self.keep_prob = keep_prob
        self.cell_index = cell_index
        self.total_cells = total_cells
        self.register_buffer("keep", torch.tensor(1.0), persistent=False)

    def set_progress(self, progress: float) -> None:
        self.keep.fill_(scheduled_keep_prob(self.keep_prob, self.cell_index, self.total_cells, progress))

    def masks(self, like: torch.Tensor) -> torch.Tensor:
        draw = torch.rand((self.n_ops, like.shape[0], 1, 1, 1), device=like.device)
        # A 0-dim keep does not promote the dtype (bf16/fp16 masks stay bf16/fp16).
        return (draw < self.keep).to(like.dtype) / self.keep

    def extra_repr(self) -> str:
        return (
            f"n_ops={self.n_ops}, keep_prob={self.keep_prob}, cell_index={self.cell_index}, "
            f"total_cells={self.total_cells}"
        )
