"""Train a child network fast: the whole dataset on the device, batched augmentation, one dict.

No DataLoader and no per-image Python: images stay uint8 on the training device; each step
gathers a batch, crops (pad 4) and flips it with tensor ops, and normalises it there. Batches
have one fixed shape (the ragged last one is dropped), so cuDNN autotunes once per process.
SGD with momentum and L2 weight decay, single-period cosine schedule, a fixed number of epochs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .data import ImageData
from .defaults import TRAIN_DEFAULTS

PAD = 4
FINITE_CHECK_EVERY = 25  # steps between loss checks (each one syncs the device)


class TrainingFailed(RuntimeError):
    """A trial that cannot give a reward (loss NaN/inf, out of memory); the worker goes on."""


@dataclass
class TrainResult:
    val_accuracy: float
    epochs_done: int
    train_seconds: float  # the whole loop, evaluation included
    images_per_second: float  # training images per second of training steps
    history: list[float] = field(default_factory=list)


def pick_memory_format(requested: str = "auto") -> torch.memory_format:
    if requested == "channels_last":
        return torch.channels_last
    if requested == "contiguous":
        return torch.contiguous_format
    if requested != "auto":
        raise ValueError(f"memory_format {requested!r}: use 'auto', 'channels_last' or 'contiguous'")
    # CUDA: channels_last feeds bf16 tensor cores. CPU: measured too; NASNet-A N=2 F=16 trained
    # at 19.7 images/s channels_last vs 11.4 NCHW (1 thread, benchmarks/train_throughput.py).
    return torch.channels_last


class DeviceAugmenter:
    """Pad-4 random crops, horizontal flips and normalisation, batched on the device."""

    def __init__(self, images: torch.Tensor, device: torch.device, generator: torch.Generator) -> None:
        self.padded = F.pad(images.to(device), (PAD, PAD, PAD, PAD))  # uint8, zero padding
        mean, std = channel_stats(images)
        self.mean, self.std = mean.view(1, 3, 1, 1).to(device), std.view(1, 3, 1, 1).to(device)
        self.generator = generator
        self.size = images.shape[-1]
        self.offsets = torch.arange(self.size, device=device)

    def normalise(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        return (batch_uint8.float() - self.mean) / self.std

    def augmented_batch(self, index: torch.Tensor) -> torch.Tensor:
        n, device = len(index), index.device
        shifts = torch.randint(0, 2 * PAD + 1, (2, n), device=device, generator=self.generator)
        rows = (shifts[0, :, None] + self.offsets)[:, None, :, None]  # n x 1 x H x 1
        cols = (shifts[1, :, None] + self.offsets)[:, None, None, :]  # n x 1 x 1 x W
        flip = torch.rand(n, device=device, generator=self.generator) < 0.5
        cols = torch.where(
            flip[:, None, None, None], 2 * shifts[1, :, None, None, None] + self.size - 1 - cols, cols
        )
        channels = torch.arange(3, device=device)[None, :, None, None]
        crops = self.padded[index[:, None, None, None], channels, rows, cols]
        return self.normalise(crops)


@dataclass(frozen=True)
class DeviceData:
    """A dataset's tensors on the training device, with its augmenter."""

    augmenter: DeviceAugmenter
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor


def data_on_device(data: ImageData, device: str | torch.device) -> DeviceData:
    device = torch.device(device)
    try:
        return DeviceData(
            DeviceAugmenter(data.train_images, device, torch.Generator(device=device)),
            data.train_labels.to(device),
            data.val_images.to(device),
            data.val_labels.to(device),
        )
    except torch.OutOfMemoryError as err:
        raise TrainingFailed(f"out of memory while moving the data to {device}: {err}") from None


def channel_stats(images: torch.Tensor, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images, in chunks (a float copy of CIFAR is 550 MB)."""
    total = torch.zeros(3, dtype=torch.float64)
    squares = torch.zeros(3, dtype=torch.float64)
    for part in images.split(chunk):
        values = part.to(torch.float64)
        total += values.sum(dim=(0, 2, 3))
        squares += values.square().sum(dim=(0, 2, 3))
    count = images.numel() / 3
    mean = total / count
    return mean.float(), (squares / count - mean.square()).clamp_min(1e-12).sqrt().float()


def train_model(
    model: torch.nn.Module,
    data: ImageData,
    settings: dict,
    *,
    device: str | torch.device = "cpu",
    report: Callable[[float, int], None] | None = None,
    progress: Callable[[int, int, int, float], None] | None = None,
    on_device: DeviceData | None = None,
) -> TrainResult:
    """Train ``model`` on ``data.train_*``; validation accuracy after every epoch.

    ``on_device``: ``data_on_device(data, device)`` made once and passed to many runs, so that
    each run does not copy the images to the device and pad them again.

    ``report(val_acc, epoch)`` runs after each epoch (the objective reports to Optuna there and
    may raise TrialPruned); ``progress(epoch, step, steps, loss)`` drives a progress bar.
    Raises TrainingFailed on a non-finite loss or out-of-memory.
    """
    unknown = sorted(set(settings) - set(TRAIN_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown training settings {unknown}; allowed: {sorted(TRAIN_DEFAULTS)}")
    hp = {**TRAIN_DEFAULTS, **settings}
    device = torch.device(device)
    n_train, batch = len(data.train_labels), hp["batch_size"]
    if batch > n_train:
        raise ValueError(f"batch_size {batch} exceeds the {n_train} training images; lower batch_size")
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    fmt = pick_memory_format(hp["memory_format"])
    generator = torch.Generator(device=device).manual_seed(hp["seed"])
    on_device = on_device or data_on_device(data, device)
    try:
        model = model.to(device=device, memory_format=fmt)
    except torch.OutOfMemoryError as err:
        raise TrainingFailed(f"out of memory while moving the model to {device}: {err}") from None
    augmenter, train_labels = on_device.augmenter, on_device.train_labels
    val_images, val_labels = on_device.val_images, on_device.val_labels
    augmenter.generator = generator  # this run's own random stream, also on a shared augmenter
    decay, no_decay = _split_weight_decay(model)
    optimizer = torch.optim.SGD(
        [{"params": decay, "weight_decay": hp["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=hp["lr"],
        momentum=hp["momentum"],
        nesterov=hp["nesterov"],
    )
    steps_per_epoch = n_train // batch  # the ragged last batch is dropped: one batch shape
    total_steps = steps_per_epoch * hp["epochs"]
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()
    set_progress = getattr(model, "set_drop_path_progress", None)

    history: list[float] = []
    step_seconds, start = 0.0, time.perf_counter()
    for epoch in range(hp["epochs"]):
        model.train()
        order = torch.randperm(n_train, device=device, generator=generator)
        epoch_start = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        for step in range(steps_per_epoch):
            done = epoch * steps_per_epoch + step
            for group in optimizer.param_groups:
                group["lr"] = hp["lr"] * 0.5 * (1 + math.cos(math.pi * done / total_steps))
            if set_progress is not None:
                set_progress(done / total_steps)
            index = order[step * batch : (step + 1) * batch]
            inputs = augmenter.augmented_batch(index).contiguous(memory_format=fmt)
            try:
                with autocast:
                    loss = _loss(model(inputs), train_labels[index], hp)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if hp["grad_clip"]:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), hp["grad_clip"])
                optimizer.step()
            except torch.OutOfMemoryError as err:
                raise TrainingFailed(f"out of memory at batch_size {batch} on {device}: {err}") from None
            loss_sum += loss.detach()
            if (step + 1) % FINITE_CHECK_EVERY == 0 or step + 1 == steps_per_epoch:
                _check_finite(loss_sum, epoch, step)
                if progress is not None:
                    progress(epoch, step + 1, steps_per_epoch, loss_sum.item() / (step + 1))
        if cuda:
            torch.cuda.synchronize()
        step_seconds += time.perf_counter() - epoch_start
        try:
            history.append(evaluate(model, augmenter, val_images, val_labels, hp, fmt, autocast))
        except torch.OutOfMemoryError as err:
            raise TrainingFailed(
                f"out of memory evaluating at eval_batch_size {hp['eval_batch_size']}: {err}"
            ) from None
        if report is not None:
            report(history[-1], epoch)
    seconds = time.perf_counter() - start
    images = steps_per_epoch * batch * hp["epochs"]
    return TrainResult(history[-1], hp["epochs"], seconds, images / max(step_seconds, 1e-9), history)


@torch.no_grad()
def evaluate(model, augmenter, images, labels, hp, fmt, autocast) -> float:
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=images.device)
    for start in range(0, len(labels), hp["eval_batch_size"]):
        chunk = augmenter.normalise(images[start : start + hp["eval_batch_size"]])
        with autocast:
            logits = model(chunk.contiguous(memory_format=fmt))
        correct += (logits.argmax(dim=1) == labels[start : start + len(chunk)]).sum()
    return correct.item() / len(labels)


def _loss(output, labels, hp) -> torch.Tensor:
    if isinstance(output, tuple):  # (logits, aux_logits) from a model with an aux head
        logits, aux = output
        main = F.cross_entropy(logits.float(), labels, label_smoothing=hp["label_smoothing"])
        return main + hp["aux_weight"] * F.cross_entropy(aux.float(), labels)
    return F.cross_entropy(output.float(), labels, label_smoothing=hp["label_smoothing"])


def _check_finite(loss_sum: torch.Tensor, epoch: int, step: int) -> None:
    if not torch.isfinite(loss_sum):
        raise TrainingFailed(f"training loss became {loss_sum.item()} by epoch {epoch} step {step + 1}")


def _split_weight_decay(model: torch.nn.Module):
    """L2 on conv/linear weights only; BatchNorm scales and biases are not decayed."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim > 1 else no_decay).append(param)
    return decay, no_decay
