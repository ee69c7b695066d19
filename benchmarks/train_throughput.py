"""Training images/s of one child network: our loop vs a plain PyTorch loop, side by side.

Ours: uint8 data resident on the device, batched crop/flip/normalise (objectives/train.py).
Plain: torchvision transforms per PIL image + DataLoader, NCHW fp32 -- the usual CIFAR recipe.
Both train the same network (same initial weights) with the same optimizer on the same images;
rounds alternate so background load hits both alike. The ratio is what counts.

    python benchmarks/train_throughput.py                       # NASNet-A N=2 F=16, CPU
    python benchmarks/train_throughput.py --memory-formats      # also channels_last vs NCHW
    python benchmarks/train_throughput.py --random-genotypes 3 --filters 32   # and 3 random cells
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
import torchvision.transforms as T
from nas_optuna.objectives.data import ImageData, load_data
from nas_optuna.objectives.train import train_model
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from nas_optuna import NASNET_A, build_network, parse_genotype, random_genotype


class PILDataset(Dataset):
    """How torchvision's CIFAR10 serves images: an HWC uint8 array -> PIL -> transforms."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform) -> None:
        self.images = images.permute(0, 2, 3, 1).numpy()
        self.labels = labels.tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), self.labels[i]


def plain_loop(model, data: ImageData, args) -> float:
    mean = (data.train_images.float().mean(dim=(0, 2, 3)) / 255).tolist()
    std = (data.train_images.float().std(dim=(0, 2, 3)) / 255).tolist()
    transform = T.Compose(
        [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean, std)]
    )
    loader = DataLoader(
        PILDataset(data.train_images, data.train_labels, transform),
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=args.workers,
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    model.train()
    images, start = 0, time.perf_counter()
    for inputs, labels in loader:
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        images += len(labels)
    return images / (time.perf_counter() - start)


def our_loop(model, data: ImageData, args, memory_format="auto") -> float:
    settings = {"epochs": 1, "batch_size": args.batch_size, "memory_format": memory_format}
    return train_model(model, data, settings, device="cpu").images_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--genotype", default="nasnet-a")
    parser.add_argument("--n-cells", type=int, default=2)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--images", type=int, default=1280, help="training images per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the plain loop")
    parser.add_argument("--memory-formats", action="store_true", help="also time channels_last on CPU")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--random-genotypes", type=int, default=0, help="also K uniformly random genotypes")
    parser.add_argument("--seed", type=int, default=0, help="which random genotypes")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    full = load_data("bundled")
    n = args.images
    data = ImageData(
        full.train_images[:n], full.train_labels[:n], full.val_images[:100], full.val_labels[:100],
        full.test_images[:0], full.test_labels[:0], full.classes,
    )  # fmt: skip
    genotypes = {args.genotype: parse_genotype(args.genotype) if args.genotype != "nasnet-a" else NASNET_A}
    rng = np.random.default_rng(args.seed)
    for i in range(args.random_genotypes):
        genotypes[f"random-{i}"] = random_genotype(rng)
    results = [measure(name, genotype, data, args) for name, genotype in genotypes.items()]
    print(json.dumps(results if len(results) > 1 else results[0], indent=2))


def measure(name: str, genotype, data: ImageData, args) -> dict:
    torch.manual_seed(0)
    template = build_network(genotype, n_cells=args.n_cells, filters=args.filters)

    def fresh():
        model = build_network(genotype, n_cells=args.n_cells, filters=args.filters)
        model.load_state_dict(template.state_dict())
        return model

    runners = {
        "ours": lambda: our_loop(fresh(), data, args),
        "plain": lambda: plain_loop(fresh(), data, args),
    }
    if args.memory_formats:
        runners["ours_channels_last"] = lambda: our_loop(fresh(), data, args, "channels_last")
        runners["ours_nchw"] = lambda: our_loop(fresh(), data, args, "contiguous")
    runners["ours"]()  # warm-up: first-call allocations and thread pools
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for runner, run in runners.items():
            rates[runner].append(run())
    medians = {runner: statistics.median(values) for runner, values in rates.items()}
    return {
        "network": f"{name} N={args.n_cells} F={args.filters}",
        "genotype": str(genotype),
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "images_per_second": {k: round(v, 1) for k, v in medians.items()},
        "all_rounds": {k: [round(x, 1) for x in v] for k, v in rates.items()},
        "ratio_ours_vs_plain": round(medians["ours"] / medians["plain"], 3),
    }


if __name__ == "__main__":
    main()
