"""Read an ImageFolder tree (a directory or a .zip) of 32x32 images into uint8 tensors, cached.

Layout: ``train/<class>/*.jpg`` (+ optional ``test/<class>/*.jpg``), or ``<class>/*.jpg`` at the
top level (training images only). Labels follow the sorted class names, as in torchvision.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp", ".tif", ".tiff")
IMAGE_SIZE = 32
LAYOUT_HELP = "expected train/<class>/*.jpg (and optionally test/<class>/*.jpg) or <class>/*.jpg"


def default_cache_dir() -> Path:
    return Path(os.environ.get("NAS_OPTUNA_CACHE_DIR", "~/.cache/nas_optuna")).expanduser()


def read_image_folder(path: Path, *, cache_dir=None):
    """(train_images, train_labels, test_images, test_labels, classes) from ``path``."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"image folder {path} does not exist; {LAYOUT_HELP}")
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        names = [p.relative_to(path).as_posix() for p in files]
        stats = [(n, p.stat().st_size, p.stat().st_mtime_ns) for n, p in zip(names, files, strict=True)]
        read = lambda name: (path / name).read_bytes()  # noqa: E731
        key_parts = [(str(path.resolve()), 0, 0), *stats]
        opener = None
    else:
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is neither a directory nor a .zip file; {LAYOUT_HELP}")
        st = path.stat()
        key_parts = [(str(path.resolve()), st.st_size, st.st_mtime_ns)]
        opener = zipfile.ZipFile(path)
        names = [n for n in opener.namelist() if n.lower().endswith(IMAGE_SUFFIXES)]
        read = _zip_reader(path, opener)
    cache_file = Path(cache_dir or default_cache_dir()) / f"folder-{file_fingerprint(key_parts)}.pt"
    try:
        cached = _load_cache(cache_file)
        if cached is not None:
            return cached
        result = _decode(path, names, read)
    finally:
        if opener is not None:
            opener.close()
    _save_cache(cache_file, result)
    return result


def _zip_reader(path: Path, archive: zipfile.ZipFile):
    """archive.read, with a damaged member (bad CRC, truncated data) as one ValueError line."""

    def read(name: str) -> bytes:
        try:
            return archive.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise ValueError(f"{path}: member {name!r} is damaged ({err}); re-create the zip") from None

    return read


def file_fingerprint(entries: list[tuple[str, int, int]]) -> str:
    """A short hash of (name, size, mtime) tuples: the cache key of a decoded folder."""
    return hashlib.sha256(repr(sorted(entries)).encode()).hexdigest()[:20]


def _decode(root: Path, names: list[str], read):
    groups = _group_by_split_and_class(root, names)
    classes = sorted(groups["train"])
    if "test" in groups and sorted(groups["test"]) != classes:
        raise ValueError(f"{root}: test classes {sorted(groups['test'])} differ from train classes {classes}")
    out = []
    for split in ("train", "test"):
        by_class = groups.get(split, {})
        images, labels = [], []
        for label, cls in enumerate(classes if by_class else []):
            for name in sorted(by_class[cls]):
                images.append(_decode_one(root, name, read(name)))
                labels.append(label)
        stacked = np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
        out.append(torch.from_numpy(np.ascontiguousarray(stacked.transpose(0, 3, 1, 2))))
        out.append(torch.tensor(labels, dtype=torch.int64))
    return (*out, classes)


def _group_by_split_and_class(root: Path, names: list[str]) -> dict[str, dict[str, list[str]]]:
    nested = any(n.startswith("train/") for n in names)
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name in names:
        parts = name.split("/")
        if any(part.startswith(".") for part in parts):
            continue
        if nested and len(parts) == 3 and parts[0] in ("train", "test"):
            groups[parts[0]][parts[1]].append(name)
        elif not nested and len(parts) == 2:
            groups["train"][parts[0]].append(name)
    if not groups.get("train"):
        raise ValueError(f"{root}: no training images found; {LAYOUT_HELP}")
    if root.is_dir():  # a class folder with no images shows up only on disk
        base = root / "train" if nested else root
        for split_dir, split in ((base, "train"), (root / "test", "test")):
            if split == "test" and not (nested and split_dir.is_dir()):
                continue
            for sub in split_dir.iterdir():
                if sub.is_dir() and not sub.name.startswith(".") and sub.name not in groups[split]:
                    raise ValueError(f"class folder {sub} holds no images; add images or remove it")
    return groups


def _decode_one(root: Path, name: str, data: bytes) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as img:
            array = np.asarray(img.convert("RGB"))
    except OSError as err:
        raise ValueError(f"{root}/{name}: not a readable image ({err})") from None
    if array.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            f"{root}/{name} is {array.shape[1]}x{array.shape[0]}; child training expects "
            f"{IMAGE_SIZE}x{IMAGE_SIZE} images: resize the folder first"
        )
    return array


def _load_cache(cache_file: Path):
    if not cache_file.exists():
        return None
    try:
        return torch.load(cache_file, weights_only=False)
    except Exception:  # a truncated or stale-format cache is rebuilt, never trusted
        return None


def _save_cache(cache_file: Path, result) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
        torch.save(result, tmp)
        os.replace(tmp, cache_file)  # atomic: concurrent workers never read half a file
    except OSError:
        pass  # a read-only home only costs the decode next time
