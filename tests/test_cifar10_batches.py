"""CIFAR-10's python batches are pickles: read them like torchvision, never run what they name."""

from __future__ import annotations

import hashlib
import os
import pickle

import numpy as np
import pytest
import torch
from nas_optuna.objectives import cifar10_batches
from nas_optuna.objectives.data import load_data
from torchvision.datasets import CIFAR10

N_PER_BATCH = 4


class _RunsAShellCommand:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _write_fake_release(root, monkeypatch, payload=None):
    """A cifar-10-batches-py folder in the release's format (tiny), its MD5s made the expected ones."""
    folder = root / cifar10_batches.FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [n for n, _ in cifar10_batches.TRAIN_FILES + cifar10_batches.TEST_FILES]
    contents = {
        name: {
            "batch_label": f"{name} of 1",
            "labels": [int(x) for x in rng.integers(0, 10, N_PER_BATCH)],
            "data": rng.integers(0, 256, (N_PER_BATCH, 3072), dtype=np.uint8),
            "filenames": [f"img{i}.png" for i in range(N_PER_BATCH)],
        }
        for name in names
    }
    if payload is not None:
        contents["data_batch_3"] = payload
    contents["batches.meta"] = {"label_names": [f"class{i}" for i in range(10)], "num_vis": 3072}
    md5 = {}
    for name, content in contents.items():
        data = pickle.dumps(content, protocol=2)
        (folder / name).write_bytes(data)
        md5[name] = hashlib.md5(data).hexdigest()
    ours = {
        "TRAIN_FILES": tuple((n, md5[n]) for n, _ in cifar10_batches.TRAIN_FILES),
        "TEST_FILES": tuple((n, md5[n]) for n, _ in cifar10_batches.TEST_FILES),
        "META_FILE": ("batches.meta", md5["batches.meta"]),
    }
    for attr, value in ours.items():
        monkeypatch.setattr(cifar10_batches, attr, value)
    # torchvision reads the same folder with the same MD5s, to compare against.
    monkeypatch.setattr(CIFAR10, "train_list", [list(x) for x in ours["TRAIN_FILES"]])
    monkeypatch.setattr(CIFAR10, "test_list", [list(x) for x in ours["TEST_FILES"]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5["batches.meta"]})
    return folder


def test_file_list_and_md5s_are_torchvisions():
    assert tuple(map(tuple, CIFAR10.train_list)) == cifar10_batches.TRAIN_FILES
    assert tuple(map(tuple, CIFAR10.test_list)) == cifar10_batches.TEST_FILES
    assert (CIFAR10.meta["filename"], CIFAR10.meta["md5"]) == cifar10_batches.META_FILE


def test_reads_the_release_format_exactly_as_torchvision(tmp_path, monkeypatch):
    _write_fake_release(tmp_path, monkeypatch)
    train_x, train_y, test_x, test_y, classes = cifar10_batches.read_cifar10(tmp_path)
    reference = CIFAR10(str(tmp_path), train=True), CIFAR10(str(tmp_path), train=False)
    for (x, y), ds in zip(((train_x, train_y), (test_x, test_y)), reference, strict=True):
        assert x.dtype == torch.uint8 and x.shape == (len(ds), 3, 32, 32)
        assert torch.equal(x, torch.from_numpy(ds.data).permute(0, 3, 1, 2))
        assert y.tolist() == ds.targets
    assert classes == reference[0].classes and len(train_y) == 5 * N_PER_BATCH


def test_a_batch_naming_any_other_code_is_refused_even_with_the_right_md5(tmp_path, monkeypatch):
    marker = tmp_path / "PWNED"
    _write_fake_release(tmp_path, monkeypatch, payload=_RunsAShellCommand(marker))
    with pytest.raises(ValueError, match="data_batch_3: not a CIFAR-10 batch .*refusing posix.system"):
        load_data("cifar10", data_root=tmp_path)
    assert not marker.exists()


def test_a_planted_batch_fails_the_md5_check_before_any_unpickling(tmp_path):
    marker = tmp_path / "PWNED"
    folder = tmp_path / cifar10_batches.FOLDER
    folder.mkdir()
    for name, _ in (*cifar10_batches.TRAIN_FILES, *cifar10_batches.TEST_FILES, cifar10_batches.META_FILE):
        (folder / name).write_bytes(pickle.dumps(_RunsAShellCommand(marker)))
    with pytest.raises(ValueError, match="data_batch_1 is not the published CIFAR-10 file"):
        load_data("cifar10", data_root=tmp_path)
    assert not marker.exists()
