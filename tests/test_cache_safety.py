"""The decoded-image cache sits at a predictable path: a file planted there must never run code."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from nas_optuna.objectives.data import bundled_zip_path, load_data
from nas_optuna.objectives.image_folder import cache_file_for
from PIL import Image


class _RunsAShellCommand:
    """Unpickling this runs `touch MARKER`, as a planted cache file would."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    # Both the variable the loader reads and HOME point into tmp_path: the real home is never used.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NAS_OPTUNA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _plant(path, payload: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)


def test_the_payload_really_runs_a_command_when_unpickled(tmp_path):
    marker = tmp_path / "control"  # the test's own control: a plain unpickle does execute it
    pickle.loads(pickle.dumps(_RunsAShellCommand(marker)))
    assert marker.exists()


@pytest.mark.parametrize("wrapping", ["pickle", "torch.save", "npz with an object array"])
def test_planted_cache_file_is_refused_rebuilt_and_never_executed(cache_dir, tmp_path, wrapping):
    marker = tmp_path / "PWNED"
    planted = cache_file_for(bundled_zip_path())  # exactly the file load_data('bundled') reads
    assert planted.parent == cache_dir
    if wrapping == "pickle":
        _plant(planted, pickle.dumps(_RunsAShellCommand(marker)))
    elif wrapping == "torch.save":
        planted.parent.mkdir(parents=True)
        torch.save({"train_images": _RunsAShellCommand(marker)}, planted)
    else:
        planted.parent.mkdir(parents=True)
        with open(planted, "wb") as f:
            np.savez(f, train_images=np.array([_RunsAShellCommand(marker)], dtype=object))
    with pytest.warns(UserWarning, match="ignoring the image cache .*rebuilding it"):
        data = load_data("bundled", val_size=400)
    assert not marker.exists()
    assert data.train_images.shape == (3600, 3, 32, 32) and len(data.classes) == 10
    with np.load(planted, allow_pickle=False) as rebuilt:  # replaced by plain arrays
        assert rebuilt["train_images"].dtype == np.uint8 and len(rebuilt["classes"]) == 10


def test_a_legacy_pickle_cache_beside_it_is_never_read(cache_dir, tmp_path):
    marker = tmp_path / "PWNED"
    legacy = cache_file_for(bundled_zip_path()).with_suffix(".pt")  # the old format's name
    _plant(legacy, pickle.dumps(_RunsAShellCommand(marker)))
    load_data("bundled", val_size=400)
    assert not marker.exists()


def test_cache_with_wrong_shapes_is_rebuilt_and_a_good_one_is_reused(cache_dir, tmp_path):
    root = tmp_path / "imgs"
    for cls in ("cat", "dog"):
        (root / "train" / cls).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(root / "train" / cls / f"{i}.png")
    planted = cache_file_for(root)
    planted.parent.mkdir(parents=True)
    with open(planted, "wb") as f:  # right keys, labels pointing past the class list
        np.savez(
            f,
            train_images=np.zeros((8, 3, 32, 32), np.uint8),
            train_labels=np.full(8, 7, np.int64),
            test_images=np.zeros((0, 3, 32, 32), np.uint8),
            test_labels=np.zeros(0, np.int64),
            classes=np.array(["cat", "dog"]),
        )
    with pytest.warns(UserWarning, match="train_labels outside 0..1"):
        first = load_data(str(root), val_size=2)
    assert sorted(torch.cat([first.train_labels, first.val_labels]).tolist()) == [0] * 4 + [1] * 4
    stamp = planted.stat().st_mtime_ns
    again = load_data(str(root), val_size=2)  # the rebuilt cache is valid: read, not rewritten
    assert planted.stat().st_mtime_ns == stamp and torch.equal(again.train_images, first.train_images)


def test_truncated_cache_is_rebuilt(cache_dir, tmp_path):
    archive = tmp_path / "imgs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for cls in ("a", "b"):
            for i in range(3):
                png = tmp_path / f"{cls}{i}.png"
                Image.fromarray(np.full((32, 32, 3), i, np.uint8)).save(png)
                zf.write(png, f"train/{cls}/{i}.png")
    load_data(str(archive), val_size=2)
    cache = cache_file_for(archive)
    cache.write_bytes(cache.read_bytes()[:100])
    with pytest.warns(UserWarning, match="ignoring the image cache"):
        data = load_data(str(archive), val_size=2)
    assert len(data.train_labels) + len(data.val_labels) == 6
