"""NASNet child networks: a stem, 3 stages of N Normal cells with Reduction cells between, a head."""

from __future__ import annotations

import torch
from torch import nn

from nas_optuna.cell import Cell
from nas_optuna.drop_path import DropPath
from nas_optuna.genotype import CONCAT_RULES, Genotype

STEMS = ("cifar", "imagenet")
N_STAGES = 3
IMAGENET_STEM_SCALINGS = (0.25, 0.5)  # filter scaling of the two ImageNet stem (reduction) cells


class AuxHead(nn.Module):
    """Auxiliary classifier as released: ReLU, avgpool 5/3, 1x1 conv 128, conv over the rest to 768."""

    def __init__(self, c_in: int, size: int, num_classes: int):
        super().__init__()
        pooled = (size - 5) // 3 + 1
        self.layers = nn.Sequential(
            nn.ReLU(),
            nn.AvgPool2d(5, 3),
            nn.Conv2d(c_in, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, pooled, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(768, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class NASNetwork(nn.Module):
    """Built by `build_network`; ``model(x)`` gives logits, plus aux logits in training with an aux head."""

    def __init__(self, stem: nn.Module, cells: list[Cell], keep_prev_prev: list[bool], head, aux_at, aux):
        super().__init__()
        self.stem = stem
        self.cells = nn.ModuleList(cells)
        self._keep_prev_prev = tuple(keep_prev_prev)
        self.head = head
        self._aux_at = aux_at
        self.aux_head = aux
        self._drop_paths = [m for m in self.modules() if isinstance(m, DropPath)]

    def set_drop_path_progress(self, progress: float) -> None:
        """Set the fraction of training done (0..1); ScheduledDropPath scales keep probs by it."""
        if not 0.0 <= progress <= 1.0:
            raise ValueError(
                f"drop path progress must be in [0, 1] (fraction of training done), got {progress}"
            )
        for drop_path in self._drop_paths:
            drop_path.set_progress(progress)

    def forward(self, x: torch.Tensor):
        prev = prev_prev = self.stem(x)
        aux_logits = None
        for index, (cell, keep) in enumerate(zip(self.cells, self._keep_prev_prev, strict=True)):
            prev, prev_prev = cell(prev, prev_prev), (prev_prev if keep else prev)
            if index == self._aux_at and self.training:
                aux_logits = self.aux_head(prev)
        logits = self.head(prev)
        return logits if aux_logits is None else (logits, aux_logits)


def _check_arguments(genotype, n_cells, filters, num_classes, concat, stem, drop_path_keep, dropout) -> None:
    if not isinstance(genotype, Genotype):
        raise ValueError(f"genotype must be a nas_optuna.Genotype, got {type(genotype).__name__}")
    if isinstance(n_cells, bool) or not isinstance(n_cells, int) or n_cells < 1:
        raise ValueError(f"n_cells (Normal cells per stage) must be an int >= 1, got {n_cells!r}")
    min_filters = 8 if stem == "imagenet" else 2  # factorized reduction needs >= 2 channels
    if isinstance(filters, bool) or not isinstance(filters, int) or filters < min_filters:
        raise ValueError(f"filters must be an int >= {min_filters} for the {stem!r} stem, got {filters!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    if concat not in CONCAT_RULES:
        raise ValueError(f"concat rule {concat!r} is unknown; use one of {list(CONCAT_RULES)}")
    if stem not in STEMS:
        raise ValueError(f"stem {stem!r} is unknown; use one of {list(STEMS)}")
    if not 0.0 < drop_path_keep <= 1.0:
        raise ValueError(f"drop_path_keep must be in (0, 1] (1 = no drop path), got {drop_path_keep}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


def build_network(
    genotype: Genotype,
    *,
    n_cells: int,
    filters: int,
    num_classes: int = 10,
    concat: str = "released",
    stem: str = "cifar",
    aux_head: bool = False,
    drop_path_keep: float = 1.0,
    stem_multiplier: float | None = None,
    dropout: float = 0.0,
    image_size: int | None = None,
    skip_reduction_input: bool = False,
) -> NASNetwork:
    """A NASNet network for a genotype.

    ``n_cells`` Normal cells per stage (the N of "N @ P"), ``filters`` the first stage's filters
    (P = 24 * filters). ``stem="cifar"`` is a 3x3 conv of ``stem_multiplier`` (default 3) x
    filters; ``"imagenet"`` a strided 3x3 conv of 32 x ``stem_multiplier`` (default 1) then two
    Reduction cells. ``image_size`` (default 32 / 224) sizes the aux head.
    ``skip_reduction_input`` feeds the cell after a reduction the cell two before it (NASNet-A large).
    """
    _check_arguments(genotype, n_cells, filters, num_classes, concat, stem, drop_path_keep, dropout)
    if stem == "cifar":
        multiplier = 3 if stem_multiplier is None else stem_multiplier
        size = 32 if image_size is None else image_size
        c_stem = int(filters * multiplier)
        stem_module = nn.Sequential(nn.Conv2d(3, c_stem, 3, 1, 1, bias=False), nn.BatchNorm2d(c_stem))
        plans = []
    else:
        multiplier = 1 if stem_multiplier is None else stem_multiplier
        size = 224 if image_size is None else image_size
        c_stem = int(32 * multiplier)
        stem_module = nn.Sequential(nn.Conv2d(3, c_stem, 3, 2, 0, bias=False), nn.BatchNorm2d(c_stem))
        size = (size - 3) // 2 + 1
        plans = [(genotype.reduction, int(filters * s), True, False) for s in IMAGENET_STEM_SCALINGS]
    if c_stem < 1:
        raise ValueError(f"stem_multiplier {stem_multiplier} leaves the stem with no channels")
    aux_stage_end = None
    for stage in range(N_STAGES):
        if stage > 0:
            plans.append((genotype.reduction, filters * 2**stage, True, skip_reduction_input))
        plans += [(genotype.normal, filters * 2**stage, False, False)] * n_cells
        if stage == 1:
            aux_stage_end = len(plans) - 1  # last Normal cell before the 2nd reduction

    cells, keep_prev_prev = [], []
    c_prev = c_prev_prev = c_stem
    level_prev = level_prev_prev = 0  # number of halvings of the spatial size so far
    aux = None
    for index, (spec, cell_filters, reduction, keep) in enumerate(plans):
        cell = Cell(
            spec,
            c_prev=c_prev,
            c_prev_prev=c_prev_prev,
            filters=cell_filters,
            reduction=reduction,
            prev_prev_larger=level_prev_prev < level_prev,
            prepare_prev_prev=index > 0,  # the first cell reads the raw stem, as released
            concat=concat,
            drop_path_keep=drop_path_keep,
            cell_index=index,
            total_cells=len(plans),
        )
        keep_prev_prev.append(keep)
        if not keep:
            c_prev_prev, level_prev_prev = c_prev, level_prev
        c_prev, level_prev = cell.out_channels, level_prev + reduction
        if reduction:
            size = (size - 1) // 2 + 1
        cells.append(cell)
        if aux_head and index == aux_stage_end:
            if size < 5:
                raise ValueError(
                    f"the aux head needs a feature map of >= 5 pixels, got {size}; raise image_size"
                )
            aux = AuxHead(c_prev, size, num_classes)

    head = nn.Sequential(
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(c_prev, num_classes),
    )
    return NASNetwork(stem_module, cells, keep_prev_prev, head, aux_stage_end if aux else None, aux)
