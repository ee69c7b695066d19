import pytest
import torch
from nas_optuna.objectives.data import ImageData
from nas_optuna.objectives.train import PAD, DeviceAugmenter, TrainingFailed, channel_stats, train_model
from tiny_models import NaNNet, OOMNet, TinyNet, bundled_subset


@pytest.fixture(scope="module")
def small_data() -> ImageData:
    return bundled_subset(960)


def fast(**overrides):
    return {"epochs": 2, "batch_size": 64, "lr": 0.1, **overrides}


def test_augmented_images_are_padded_crops_or_their_mirror(small_data):
    images = small_data.train_images[:16]
    augmenter = DeviceAugmenter(images, torch.device("cpu"), torch.Generator().manual_seed(0))
    batch = augmenter.augmented_batch(torch.arange(16))
    raw = batch * augmenter.std + augmenter.mean  # undo the normalisation
    padded = augmenter.padded.float()
    flips = 0
    for i in range(16):
        matches = [
            (dy, dx, flip)
            for dy in range(2 * PAD + 1)
            for dx in range(2 * PAD + 1)
            for flip in (False, True)
            if torch.allclose(raw[i], _crop(padded[i], dy, dx, flip), atol=1e-3)
        ]
        assert matches, f"image {i} is not a crop of its padded original"
        flips += matches[0][2]
    assert 0 < flips < 16  # both flipped and unflipped images occur
    assert abs(batch.mean()) < 0.5  # normalised


def test_channel_stats_match_a_float_copy(small_data):
    mean, std = channel_stats(small_data.train_images, chunk=100)
    floats = small_data.train_images.float()
    assert torch.allclose(mean, floats.mean(dim=(0, 2, 3)), atol=1e-3)
    assert torch.allclose(std, floats.std(dim=(0, 2, 3)), rtol=1e-3)


def _crop(padded, dy, dx, flip):
    crop = padded[:, dy : dy + 32, dx : dx + 32]
    return crop.flip(-1) if flip else crop


def test_training_learns_and_reports_every_epoch(small_data):
    reports, epoch_losses = [], []

    def progress(epoch, step, steps, mean_loss):
        if step == steps:
            epoch_losses.append(mean_loss)

    torch.manual_seed(0)
    model = TinyNet(filters=16)
    result = train_model(
        model, small_data, fast(epochs=3), report=lambda v, e: reports.append((e, v)), progress=progress
    )
    assert [e for e, _ in reports] == [0, 1, 2]
    assert result.history == [v for _, v in reports] and result.val_accuracy == reports[-1][1]
    assert epoch_losses[-1] < epoch_losses[0] - 0.05  # it learns
    assert result.val_accuracy > 0.11  # a constant guess scores exactly 0.1 on this balanced split
    assert result.epochs_done == 3 and result.images_per_second > 0
    # drop path sees the fraction of training done, rising from 0 towards 1
    assert model.progress_seen[0] == 0 and 0.8 < model.progress_seen[-1] < 1
    assert model.progress_seen == sorted(model.progress_seen)


def test_same_seed_same_accuracy_on_cpu(small_data):
    def run(seed):
        torch.manual_seed(0)
        model = TinyNet()
        history = train_model(model, small_data, fast(seed=seed, epochs=1)).history
        return history, torch.cat([p.detach().flatten() for p in model.parameters()])

    history_a, weights_a = run(3)
    history_b, weights_b = run(3)
    assert history_a == history_b and torch.equal(weights_a, weights_b)
    _, weights_c = run(4)  # another seed: another batch order and augmentation
    assert not torch.equal(weights_a, weights_c)


def test_aux_head_loss_is_used(small_data):
    result = train_model(TinyNet(aux_head=True), small_data, fast(epochs=1))
    assert 0 <= result.val_accuracy <= 1


def test_nan_loss_fails_the_training(small_data):
    with pytest.raises(TrainingFailed, match="training loss became nan"):
        train_model(NaNNet(nan_from_step=2), small_data, fast())


def test_out_of_memory_fails_the_training(small_data):
    with pytest.raises(TrainingFailed, match="out of memory at batch_size 64"):
        train_model(OOMNet(), small_data, fast())


def test_bad_settings_are_rejected(small_data):
    with pytest.raises(ValueError, match="batch_size 2000 exceeds the 960 training images"):
        train_model(TinyNet(), small_data, fast(batch_size=2000))
    with pytest.raises(ValueError, match="memory_format 'nhwc'"):
        train_model(TinyNet(), small_data, fast(memory_format="nhwc"))
    with pytest.raises(ValueError, match=r"unknown training settings \['epoch'\]; allowed: .*'epochs'"):
        train_model(TinyNet(), small_data, fast(epoch=3))
