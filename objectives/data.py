"""Image data for child training: uint8 tensors decoded once, a stratified train/validation split.

Sources (``dataset``):
- ``"bundled"``: a CIFAR-10 subset shipped in the package (400 train + 80 test images per class).
- ``"cifar10"``: torchvision's CIFAR-10 under ``data_root`` (``download=True`` fetches it).
- ``"folder"`` (or any path given as ``dataset``): an ImageFolder tree, a directory or a .zip,
  with ``train/<class>/*`` and optionally ``test/<class>/*`` (or the classes at the top level).
  Decoded images are cached as a .npz of plain arrays keyed by the files' names, sizes and mtimes.

The validation split is held out of the training set; the test set never gives a reward.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .cifar10_batches import read_cifar10
from .image_folder import read_image_folder

BUNDLED_ZIP = Path(__file__).resolve().parents[1] / "nas_optuna" / "data" / "cifar10-bundled.zip"
SOURCES = ("bundled", "cifar10", "folder")
CIFAR10_VAL_FRACTION = 5_000 / 50_000  # the paper's 45,000 / 5,000 split


@dataclass(frozen=True)
class ImageData:
    """uint8 images N x 3 x 32 x 32 with int64 labels; ``test_*`` may be empty."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]

    def describe(self) -> str:
        sizes = f"{len(self.train_labels)} train / {len(self.val_labels)} val / {len(self.test_labels)} test"
        return f"{len(self.classes)} classes, {sizes}"


def bundled_zip_path() -> Path:
    # Installed (non-editable) the zip sits in nas_optuna/data next to the package.
    import nas_optuna

    installed = Path(nas_optuna.__file__).resolve().parent / "data" / "cifar10-bundled.zip"
    return installed if installed.exists() else BUNDLED_ZIP


def load_data(
    dataset: str = "bundled",
    *,
    data_root: str | os.PathLike | None = None,
    val_size: int | float | None = None,
    seed: int = 0,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> ImageData:
    """Load a source and split off a stratified validation set (deterministic by ``seed``).

    ``val_size``: a count, a fraction in (0, 1), or None for CIFAR-10's 10%.
    """
    if dataset == "bundled":
        raw = read_image_folder(bundled_zip_path(), cache_dir=cache_dir)
    elif dataset == "cifar10":
        raw = _read_torchvision_cifar10(data_root, download)
    elif dataset == "folder" or (dataset not in SOURCES and _looks_like_path(dataset)):
        path = data_root if dataset == "folder" else dataset
        if path is None:
            raise ValueError("dataset 'folder' needs data_root = the ImageFolder directory or .zip")
        raw = read_image_folder(Path(path), cache_dir=cache_dir)
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {list(SOURCES)} or give a path")
    train_images, train_labels, test_images, test_labels, classes = raw
    train_idx, val_idx = stratified_split(train_labels, val_size, seed)
    return ImageData(
        train_images[train_idx],
        train_labels[train_idx],
        train_images[val_idx],
        train_labels[val_idx],
        test_images,
        test_labels,
        tuple(classes),
    )


def subset_train(data: ImageData, n_images: int | None, seed: int = 0) -> ImageData:
    """Keep ``n_images`` random training images (a cheaper proxy); validation stays whole."""
    if n_images is None or n_images >= len(data.train_labels):
        return data
    if n_images < 1:
        raise ValueError(f"train_images must be a positive count or None, got {n_images}")
    keep = torch.randperm(len(data.train_labels), generator=torch.Generator().manual_seed(seed))[:n_images]
    keep = keep.sort().values
    return replace(data, train_images=data.train_images[keep], train_labels=data.train_labels[keep])


def stratified_split(labels: torch.Tensor, val_size: int | float | None, seed: int):
    """Indices (train, val): each class gives its share of ``val_size``, picked by ``seed``."""
    n = len(labels)
    if val_size is None:
        val_size = CIFAR10_VAL_FRACTION
    if isinstance(val_size, float) and not isinstance(val_size, bool):
        if not 0 < val_size < 1:
            raise ValueError(f"val_size {val_size} as a fraction must be in (0, 1)")
        val_size = round(val_size * n)
    classes, counts = np.unique(labels.numpy(), return_counts=True)
    if not len(classes) <= val_size < n:
        raise ValueError(
            f"val_size {val_size} must hold at least one image per class ({len(classes)}) "
            f"and leave training images (of {n}); change val_size"
        )
    # Largest-remainder allocation: shares proportional to class sizes, summing to val_size.
    exact = counts * val_size / n
    share = np.floor(exact).astype(int)
    order = np.argsort(-(exact - share), kind="stable")
    share[order[: val_size - share.sum()]] += 1
    rng = np.random.default_rng(seed)
    val_parts = []
    for cls, k in zip(classes, share, strict=True):
        members = np.flatnonzero(labels.numpy() == cls)
        val_parts.append(rng.choice(members, size=k, replace=False))
    val_idx = np.sort(np.concatenate(val_parts))
    train_mask = np.ones(n, dtype=bool)
    train_mask[val_idx] = False
    return torch.from_numpy(np.flatnonzero(train_mask)), torch.from_numpy(val_idx)


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or text.endswith(".zip") or Path(text).exists()


def _read_torchvision_cifar10(data_root, download: bool):
    root = Path(data_root if data_root is not None else "~/.cache/nas_optuna/cifar10").expanduser()
    how = (
        f"put torchvision's 'cifar-10-batches-py' folder under {root}, or set download = true "
        "(needs internet), or use dataset = 'bundled' or an ImageFolder path"
    )
    try:
        return read_cifar10(root)
    except (FileNotFoundError, ValueError) as err:
        if isinstance(err, ValueError) and not download:
            raise ValueError(f"CIFAR-10 under {root}: {err}") from None
        if not download:
            raise FileNotFoundError(f"CIFAR-10 not found under {root} ({err}); {how}") from None
    try:  # torchvision's download checks the archive's MD5; reading stays ours (no full unpickler)
        from torchvision.datasets import CIFAR10
        from torchvision.datasets.utils import download_and_extract_archive

        download_and_extract_archive(CIFAR10.url, str(root), filename=CIFAR10.filename, md5=CIFAR10.tgz_md5)
    except (OSError, RuntimeError, tarfile.TarError) as err:  # URLError is an OSError: offline
        raise FileNotFoundError(f"could not download CIFAR-10 to {root} ({err}); {how}") from None
    return read_cifar10(root)
