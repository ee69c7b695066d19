"""Small stand-in networks and data for training-loop tests (the real network is
nas_optuna.build_network)."""

import torch
from nas_optuna.objectives.data import ImageData, load_data
from torch import nn

import nas_optuna


def bundled_subset(n_train: int) -> ImageData:
    """The bundled images cut to ``n_train`` training images (100 for validation, no test):
    a few hundred real images keep a training test to about a second on a shared CPU."""
    full = load_data("bundled", val_size=100, seed=0)
    return ImageData(
        full.train_images[:n_train], full.train_labels[:n_train], full.val_images, full.val_labels,
        full.test_images[:0], full.test_labels[:0], full.classes,
    )  # fmt: skip


def stand_in_build_network(monkeypatch) -> list:
    """A TinyNet in place of nas_optuna.build_network (same call signature); returns the list
    of genotypes it was asked to build."""
    built = []

    def build_network(genotype, *, n_cells, filters, num_classes, concat, aux_head, drop_path_keep):
        built.append(genotype)
        return TinyNet(num_classes=num_classes, filters=filters)

    monkeypatch.setattr(nas_optuna, "build_network", build_network)
    return built


class TinyNet(nn.Module):
    """conv-bn-relu-pool-linear; records drop-path progress like the real network."""

    def __init__(self, num_classes=10, filters=8, aux_head=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, filters, 3, padding=1, bias=False),
            nn.BatchNorm2d(filters),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(filters, num_classes)
        self.aux = nn.Linear(filters, num_classes) if aux_head else None
        self.progress_seen = []

    def set_drop_path_progress(self, p):
        self.progress_seen.append(p)

    def forward(self, x):
        features = self.body(x)
        if self.aux is not None and self.training:
            return self.head(features), self.aux(features)
        return self.head(features)


class NaNNet(TinyNet):
    """Produces NaN logits from the given training step on (an injected divergence)."""

    def __init__(self, nan_from_step=2, **kwargs):
        super().__init__(**kwargs)
        self.steps = 0
        self.nan_from_step = nan_from_step

    def forward(self, x):
        logits = super().forward(x)
        if self.training:
            self.steps += 1
            if self.steps >= self.nan_from_step:
                return logits * float("nan")
        return logits


class OOMNet(TinyNet):
    def forward(self, x):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
