"""Read an ImageFolder tree (a directory or a .zip) of 32x32 images into uint8 tensors, cached.

Layout: ``train/<class>/*.jpg`` (+ optional ``test/<class>/*.jpg``), or ``<class>/*.jpg`` at the
top level (training images only). Labels follow the sorted class names, as in torchvision.

The cache is a NumPy .npz of plain arrays read with ``allow_pickle=False``: its name is
predictable, so anyone able to write there must not be able to make the loader run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
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
    cache_file = cache_file_for(path, cache_dir)
    cached = _load_cache(cache_file)
    if cached is not None:
        return cached
    if path.is_dir():
        names = [p.relative_to(path).as_posix() for p in _image_files(path)]
        result = _decode(path, names, lambda name: (path / name).read_bytes())
    else:
        with zipfile.ZipFile(path) as opener:
            names = [n for n in opener.namelist() if n.lower().endswith(IMAGE_SUFFIXES)]
            result = _decode(path, names, _zip_reader(path, opener))
    _save_cache(cache_file, result)
    return result


def cache_file_for(path: Path, cache_dir=None) -> Path:
    """Where the decoded ``path`` is cached: keyed by its files' names, sizes and mtimes."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"image folder {path} does not exist; {LAYOUT_HELP}")
    if path.is_dir():
        stats = [
            (p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in _image_files(path)
        ]
        key_parts = [(str(path.resolve()), 0, 0), *stats]
    else:
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is neither a directory nor a .zip file; {LAYOUT_HELP}")
        st = path.stat()
        key_parts = [(str(path.resolve()), st.st_size, st.st_mtime_ns)]
    return Path(cache_dir or default_cache_dir()) / f"folder-{file_fingerprint(key_parts)}.npz"


def _image_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


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


CACHE_KEYS = ("train_images", "train_labels", "test_images", "test_labels", "classes")


def _load_cache(cache_file: Path):
    """The cached result, or None (missing, damaged or not ours: the caller rebuilds it)."""
    if not cache_file.exists():
        return None
    try:
        with np.load(cache_file, allow_pickle=False) as npz:  # arrays only: never unpickles
            arrays = {key: npz[key] for key in CACHE_KEYS}
        _check_cached(arrays)
    except Exception as err:  # a truncated, stale or planted file is rebuilt, never trusted
        warnings.warn(
            f"ignoring the image cache {cache_file} ({type(err).__name__}: {err}); rebuilding it",
            stacklevel=3,
        )
        return None
    tensors = [torch.from_numpy(np.ascontiguousarray(arrays[key])) for key in CACHE_KEYS[:4]]
    return (*tensors, [str(c) for c in arrays["classes"]])


def _check_cached(arrays: dict[str, np.ndarray]) -> None:
    classes = arrays["classes"]
    if classes.ndim != 1 or classes.dtype.kind != "U" or len(classes) == 0:
        raise ValueError("classes is not a list of names")
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (3, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"{split}_images is not N x 3 x {IMAGE_SIZE} x {IMAGE_SIZE} uint8")
        if labels.dtype != np.int64 or labels.shape != images.shape[:1]:
            raise ValueError(f"{split}_labels does not match {split}_images")
        if len(labels) and not 0 <= labels.min() <= labels.max() < len(classes):
            raise ValueError(f"{split}_labels outside 0..{len(classes) - 1}")


def _save_cache(cache_file: Path, result) -> None:
    arrays = {key: np.asarray(value) for key, value in zip(CACHE_KEYS[:4], result[:4], strict=True)}
    arrays["classes"] = np.array(result[4], dtype=str)
    try:
        cache_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private to this user
        tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez(f, **arrays)
        os.replace(tmp, cache_file)  # atomic: concurrent workers never read half a file
    except OSError:
        pass  # a read-only home only costs the decode next time
