"""A cell that grows block by block, described in parameter names (PNAS's progressive search).

PNAS (Liu et al. 2018, Sec. 3.2) trains every 1-block cell, then expands the K best by one
block at a time up to B blocks. As Optuna trials, a b-block cell is a trial whose ``size_param``
is b and which holds the parameters of blocks 0..b-1 only: a conditional define-by-run space.
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
from typing import Any
from typing import Mapping
from typing import Tuple

import numpy as np
from optuna.distributions import CategoricalDistribution

from .predictor import TokenEncoder


Operand = Tuple[str, ...]  # parameter names, e.g. ("cell_b0_in_a", "cell_b0_op_a")


@dataclass(frozen=True)
class CellGrowth:
    """How a cell grows, in parameter names.

    ``size_param`` is a categorical parameter with choices 1..B: the number of blocks of the
    trial's cell. The objective suggests it first, then the parameters of blocks below it only.
    ``blocks[b]`` lists block b's operands, each a tuple of parameter names (an input and its
    op, say); the operands of one block are interchangeable (their results are added), so only
    one order of them is tried. ``distributions`` holds every parameter named here.
    """

    size_param: str
    blocks: tuple[tuple[Operand, ...], ...]
    distributions: Mapping[str, CategoricalDistribution]

    def __post_init__(self) -> None:
        sizes = self.distributions.get(self.size_param)
        if not isinstance(sizes, CategoricalDistribution) or tuple(sizes.choices) != tuple(
            range(1, len(self.blocks) + 1)
        ):
            raise ValueError(
                f"size_param {self.size_param!r} must be a CategoricalDistribution with choices "
                f"{list(range(1, len(self.blocks) + 1))} (one per block)"
            )
        for name in (n for block in self.blocks for operand in block for n in operand):
            if not isinstance(self.distributions.get(name), CategoricalDistribution):
                raise ValueError(f"block parameter {name!r} needs a CategoricalDistribution")
        for b, block in enumerate(self.blocks):
            shapes = {tuple(self.distributions[n].choices for n in operand) for operand in block}
            if len(shapes) != 1:
                raise ValueError(
                    f"block {b}: its operands must be interchangeable (the same choices in the "
                    f"same order), got {[list(o) for o in block]}"
                )

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def decisions(self) -> dict[str, CategoricalDistribution]:
        """Every decision, size first, then block by block: the predictor's input layout."""
        names = [self.size_param] + [n for b in range(self.n_blocks) for n in self.block_names(b)]
        return {name: self.distributions[name] for name in names}

    def block_names(self, block: int) -> list[str]:
        return [name for operand in self.blocks[block] for name in operand]

    def expansions(self, block: int) -> np.ndarray:
        """Every way to fill ``block``, as rows of choice indices over `block_names`.

        Interchangeable operands are kept in one (sorted) order only: PNAS's 136 one-block
        cells out of 256 on its space."""
        per_operand = [
            list(itertools.product(*(range(len(self.distributions[n].choices)) for n in operand)))
            for operand in self.blocks[block]
        ]
        rows = []
        for combo in itertools.product(*per_operand):
            if list(combo) != sorted(combo):
                continue
            rows.append([i for operand in combo for i in operand])
        return np.array(rows, dtype=np.int64)

    def random_cell(self, size: int, rng: np.random.RandomState) -> dict[str, Any]:
        """Params of a uniformly random cell of ``size`` blocks."""
        params: dict[str, Any] = {self.size_param: size}
        for name in (n for b in range(size) for n in self.block_names(b)):
            choices = self.distributions[name].choices
            params[name] = choices[rng.randint(len(choices))]
        return params


class BlockMeanEncoder(TokenEncoder):
    """PNAS's MLP input: each block's tokens (one-hot, concatenated), averaged over the blocks,
    beside the size. One vector for cells of any size, so what the results of small cells say
    about an op or an input carries over to the block a stage adds (Liu et al. 2018, Sec. 3.3);
    per-position one-hots would leave the new block's columns untrained."""

    def __init__(self, growth: CellGrowth) -> None:
        super().__init__(growth.decisions())
        names = list(self.decisions)
        last = growth.block_names(growth.n_blocks - 1)  # the widest choices (most inputs)
        vocab = [self.decisions[n].choices for n in last]
        self._slots = []  # per block, per token: (column, choice index -> vocab index)
        for b in range(growth.n_blocks):
            self._slots.append(
                [
                    (
                        names.index(n),
                        np.array([vocab[k].index(c) for c in self.decisions[n].choices]),
                    )
                    for k, n in enumerate(growth.block_names(b))
                ]
            )
        self._n_sizes = growth.n_blocks
        self._token_offsets = np.concatenate([[0], np.cumsum([len(v) for v in vocab])[:-1]])
        self._token_offsets = self._token_offsets.astype(np.int64) + self._n_sizes
        self._mean_width = self._n_sizes + sum(len(v) for v in vocab)
        self._positions = self.width  # the per-position one-hots of TokenEncoder
        self.width = self._mean_width + self._positions

    def one_hot(self, indices: np.ndarray) -> np.ndarray:
        positions = np.zeros((len(indices), self._positions), dtype=np.float32)
        rows, cols = np.nonzero(indices >= 0)
        positions[rows, self.offsets[cols] + indices[rows, cols]] = 1.0
        return np.concatenate([self._block_mean(indices), positions], axis=1)

    def _block_mean(self, indices: np.ndarray) -> np.ndarray:
        out = np.zeros((len(indices), self._mean_width), dtype=np.float32)
        rows = np.arange(len(indices))
        has_size = indices[:, 0] >= 0
        out[rows[has_size], indices[has_size, 0]] = 1.0
        n_present = np.zeros(len(indices), dtype=np.float32)
        for slots in self._slots:
            present = (indices[:, [column for column, _ in slots]] >= 0).all(1)
            n_present += present
            for k, (column, to_vocab) in enumerate(slots):
                r = rows[present]
                out[r, self._token_offsets[k] + to_vocab[indices[r, column]]] += 1.0
        out[:, self._n_sizes :] /= np.maximum(n_present, 1.0)[:, None]
        return out
