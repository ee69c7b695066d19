"""Read torchvision's ``cifar-10-batches-py`` folder without letting a planted file run code.

The batches are pickles. torchvision checks each file's MD5 and then opens it again to unpickle
it with the full unpickler, so a file swapped in between (a shared ``data_root``) would run.
Here each file is read once, its bytes are checked against the published MD5, and those same
bytes are unpickled by an unpickler that knows only NumPy's array reconstruction.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import numpy as np
import torch

FOLDER = "cifar-10-batches-py"
# torchvision.datasets.CIFAR10's file list and MD5s (the files of the official release).
TRAIN_FILES = (
    ("data_batch_1", "c99cafc152244af753f735de768cd75f"),
    ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
    ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
    ("data_batch_4", "634d18415352ddfa80567beed471001a"),
    ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
)
TEST_FILES = (("test_batch", "40351d587109b95175f43aff81a1287e"),)
META_FILE = ("batches.meta", "5ff9c542aee3614f3951f8cda6e48888")

# What a CIFAR-10 batch pickle may name: NumPy's array reconstruction (both module spellings,
# NumPy 1 and 2) and the codec Python 3 uses for bytes. Anything else is refused unread.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing {module}.{name}: a CIFAR-10 batch holds only arrays")


def read_batch(path: Path, md5: str) -> dict:
    """One batch file, checked and unpickled from the same bytes."""
    data = path.read_bytes()
    if hashlib.md5(data).hexdigest() != md5:
        raise ValueError(
            f"{path} is not the published CIFAR-10 file (MD5 differs); delete it and download again"
        )
    try:
        return _ArraysOnly(io.BytesIO(data), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as err:
        raise ValueError(f"{path}: not a CIFAR-10 batch ({err})") from None


def read_cifar10(root: Path):
    """(train_images, train_labels, test_images, test_labels, classes) as uint8 / int64 tensors."""
    folder = Path(root) / FOLDER
    missing = [name for name, _ in (*TRAIN_FILES, *TEST_FILES, META_FILE) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}")
    out = []
    for files in (TRAIN_FILES, TEST_FILES):
        batches = [read_batch(folder / name, md5) for name, md5 in files]
        images = np.concatenate([np.asarray(b["data"], np.uint8).reshape(-1, 3, 32, 32) for b in batches])
        labels = [label for b in batches for label in b["labels"]]
        out += [torch.from_numpy(np.ascontiguousarray(images)), torch.tensor(labels, dtype=torch.int64)]
    classes = [str(c) for c in read_batch(folder / META_FILE[0], META_FILE[1])["label_names"]]
    return (*out, classes)
