import zipfile

import numpy as np
import pytest
import torch
from nas_optuna.objectives.data import load_data, stratified_split, subset_train
from PIL import Image


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NAS_OPTUNA_CACHE_DIR", str(tmp_path / "cache"))


def write_folder(root, classes=("cat", "dog"), per_class=6, size=32, splits=("train", "test")):
    rng = np.random.default_rng(0)
    for split in splits:
        for cls in classes:
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(per_class):
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def test_bundled_data_is_real_cifar10_stratified_uint8():
    data = load_data("bundled", val_size=400, seed=0)
    assert data.classes[:3] == ("airplane", "automobile", "bird") and len(data.classes) == 10
    assert data.train_images.shape == (3600, 3, 32, 32) and data.train_images.dtype == torch.uint8
    assert data.train_labels.dtype == torch.int64
    assert torch.equal(data.val_labels.bincount(), torch.full((10,), 40))
    assert torch.equal(data.test_labels.bincount(), torch.full((10,), 80))
    assert data.train_images.float().std() > 30  # real pictures, not blanks


def test_split_is_deterministic_by_seed_and_disjoint():
    labels = torch.arange(103) % 4
    train_a, val_a = stratified_split(labels, 0.2, seed=1)
    train_b, val_b = stratified_split(labels, 0.2, seed=1)
    _, val_c = stratified_split(labels, 0.2, seed=2)
    assert torch.equal(val_a, val_b) and torch.equal(train_a, train_b)
    assert not torch.equal(val_a, val_c)
    assert len(val_a) == round(0.2 * 103) and len(train_a) + len(val_a) == 103
    assert set(train_a.tolist()).isdisjoint(val_a.tolist())
    counts = labels[val_a].bincount()
    assert counts.max() - counts.min() <= 1  # each class gives its share


def test_split_rejects_sizes_that_leave_a_class_out():
    with pytest.raises(ValueError, match="val_size 3 must hold at least one image per class"):
        stratified_split(torch.arange(40) % 4, 3, seed=0)


def test_image_folder_directory_and_zip_read_the_same(tmp_path):
    root = write_folder(tmp_path / "imgs")
    from_dir = load_data(str(root), val_size=2)
    archive = tmp_path / "imgs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(root.rglob("*.png")):
            zf.write(path, path.relative_to(root).as_posix())
    from_zip = load_data("folder", data_root=archive, val_size=2)
    assert from_dir.classes == from_zip.classes == ("cat", "dog")
    assert torch.equal(from_dir.train_images, from_zip.train_images)
    assert torch.equal(from_dir.test_labels, torch.tensor([0] * 6 + [1] * 6))
    pixel = np.array(Image.open(root / "train" / "cat" / "0.png"))
    all_train = torch.cat([from_dir.train_images, from_dir.val_images])
    assert any(torch.equal(img, torch.from_numpy(pixel).permute(2, 0, 1)) for img in all_train)


def test_folder_cache_is_invalidated_when_files_change(tmp_path):
    root = write_folder(tmp_path / "imgs", splits=("train",))
    first = load_data(str(root), val_size=2)
    assert len(first.test_labels) == 0
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(root / "train" / "dog" / "extra.png")
    second = load_data(str(root), val_size=2)
    assert len(second.train_labels) + len(second.val_labels) == 13


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda root: (root / "train" / "bird").mkdir(), "class folder .*bird holds no images"),
        (
            lambda root: Image.fromarray(np.zeros((28, 28, 3), np.uint8)).save(
                root / "train" / "cat" / "x.png"
            ),
            "is 28x28; child training expects 32x32",
        ),
        (lambda root: (root / "train" / "cat" / "bad.png").write_bytes(b"junk"), "not a readable image"),
    ],
)
def test_malformed_folders_give_one_clear_error(tmp_path, make_bad, message):
    root = write_folder(tmp_path / "imgs")
    make_bad(root)
    with pytest.raises(ValueError, match=message):
        load_data(str(root))


def test_missing_sources_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; expected train/<class>"):
        load_data(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*download"):
        load_data("cifar10", data_root=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        load_data("imagenet")


def test_train_subset_is_random_across_classes_and_keeps_validation():
    data = load_data("bundled", val_size=400)
    small = subset_train(data, 500, seed=0)
    assert len(small.train_labels) == 500 and torch.equal(small.val_labels, data.val_labels)
    assert small.train_labels.bincount().min() > 20  # the bundled order is by class; a subset is not
    assert subset_train(data, None) is data
    with pytest.raises(ValueError, match="train_images must be a positive count"):
        subset_train(data, 0)
