"""Everything BENCHMARKS.md still needs a GPU for, in one run that fits one device call.

Sections (in this order; --sections picks some), each a JSON line in --out/gpu_check.jsonl as
soon as it is done, so a run stopped at its time limit still returns what it measured:

- env: torch, CUDA, the device.
- correctness: NASNet-A N=2 F=32 logits on CUDA fp32 vs CPU fp32, bf16 autocast + channels_last
  vs CUDA fp32, and a finite training step.
- throughput: training images/s (objectives/train.py, bf16 + channels_last on CUDA) for
  NASNet-A and random genotypes at N=2, F=16 and F=32; NCHW and batch 256 for NASNet-A F=32.
- bound: what limits a training step of NASNet-A N=2 F=32: wall time per step against the
  device's kernel time per step (torch.profiler) and the kernels launched per step; a busy
  fraction well below 1 means the step is bound by launching kernels, not by the GPU.
- overhead: per-trial costs outside training on this device: build, move, mult-add count, and
  the first training step minus a steady one.
- child: one paper-preset child (N=2, F=32, 20 epochs, 45,000 training images): seconds.
- processes: K = 1, 2, 4 training processes on one GPU at once: their summed images/s.

Images are the bundled CIFAR-10 subset tiled to CIFAR-10's size: the timing is the same as on
the real data set, the accuracies are not meaningful. On a device without optuna, carry its
wheels (optuna, sqlalchemy, alembic, colorlog, mako) as the device tool's README says.

    python benchmarks/gpu_check.py --device cuda --out $OUT
    python benchmarks/gpu_check.py --device cpu --quick --out /tmp/gpu-check   # the logic, on CPU
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from nas_optuna.objectives.cifar import CifarObjective
from nas_optuna.objectives.data import ImageData, load_data
from nas_optuna.objectives.train import train_model

from nas_optuna import NASNET_A, build_network, count_mult_adds, random_genotype

SECTION_NAMES = ("env", "correctness", "throughput", "bound", "overhead", "child", "processes")


def tiled_data(n_train: int, n_val: int) -> ImageData:
    """The bundled images repeated to n_train / n_val (same tensors shapes as CIFAR-10)."""
    data = load_data("bundled")

    def tile(images, labels, n):
        index = torch.arange(n) % len(labels)
        return images[index], labels[index]

    train = tile(data.train_images, data.train_labels, n_train)
    val = tile(data.val_images, data.val_labels, n_val)
    return ImageData(*train, *val, data.test_images[:0], data.test_labels[:0], data.classes)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def env(args) -> dict:
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": args.device}
    if args.device.startswith("cuda"):
        info |= {"name": torch.cuda.get_device_name(), "bf16": torch.cuda.is_bf16_supported()}
    return info


def correctness(args) -> dict:
    torch.manual_seed(0)
    model = build_network(NASNET_A, n_cells=2, filters=32).eval()
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        reference = model(x)
        moved = model.to(args.device)
        fp32 = moved(x.to(args.device)).cpu()
        moved = moved.to(memory_format=torch.channels_last)
        with torch.autocast(torch.device(args.device).type, dtype=torch.bfloat16):
            bf16 = moved(x.to(args.device).contiguous(memory_format=torch.channels_last)).float().cpu()
    scale = reference.abs().max().item()
    data = tiled_data(256, 64)
    result = train_model(moved.train(), data, {"epochs": 1, "batch_size": 64}, device=args.device)
    return {
        "fp32_vs_cpu_max_rel": (fp32 - reference).abs().max().item() / scale,
        "bf16_channels_last_vs_cpu_max_rel": (bf16 - reference).abs().max().item() / scale,
        "bf16_same_argmax": float((bf16.argmax(1) == reference.argmax(1)).float().mean()),
        "train_step_finite": bool(np.isfinite(result.val_accuracy)),
    }


def images_per_second(genotype, filters, batch, data, device, memory_format="auto") -> float:
    torch.manual_seed(0)
    model = build_network(genotype, n_cells=2, filters=filters)
    settings = {"epochs": 1, "batch_size": batch, "memory_format": memory_format}
    train_model(model, data, settings, device=device)  # warm-up: cuDNN autotune, allocator
    return train_model(model, data, settings | {"epochs": 2}, device=device).images_per_second


def throughput(args) -> dict:
    data = tiled_data(args.images, 500)
    rng = np.random.default_rng(0)
    genotypes = {"nasnet-a": NASNET_A} | {f"random-{i}": random_genotype(rng) for i in range(args.random)}
    rows = []
    for filters in (16, 32):
        for name, genotype in genotypes.items():
            rate = images_per_second(genotype, filters, args.batch, data, args.device)
            rows.append({"genotype": name, "filters": filters, "batch": args.batch, "rate": rate})
    for batch, fmt in ((args.batch, "contiguous"), (2 * args.batch, "auto")):
        rate = images_per_second(NASNET_A, 32, batch, data, args.device, fmt)
        rows.append({"genotype": "nasnet-a", "filters": 32, "batch": batch, "format": fmt, "rate": rate})
    return {"rows": rows}  # rate: training images per second


def training_steps(model, batch: int, device: str, steps: int) -> None:
    x = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(steps):
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    sync(device)


def bound(args) -> dict:
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    model = build_network(NASNET_A, n_cells=2, filters=32).to(args.device, memory_format=torch.channels_last)
    training_steps(model, args.batch, args.device, 5)  # warm-up
    steps = 20
    start = time.perf_counter()
    training_steps(model, args.batch, args.device, steps)
    wall = (time.perf_counter() - start) / steps
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device.startswith("cuda") else [])
    with profile(activities=activities) as prof:
        training_steps(model, args.batch, args.device, steps)
    events = prof.key_averages()
    device_us = sum(e.self_device_time_total for e in events) / steps
    kernels = sum(e.count for e in events if e.self_device_time_total > 0) / steps
    return {"batch": args.batch, "wall_ms_per_step": 1000 * wall, "kernel_ms_per_step": device_us / 1000,
            "kernels_per_step": kernels, "busy_fraction": device_us / 1e6 / wall}  # fmt: skip


def overhead(args) -> dict:
    times: dict[str, list[float]] = {k: [] for k in ("build", "move", "count", "first_step", "step")}
    x = torch.randn(args.batch, 3, 32, 32, device=args.device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (args.batch,), device=args.device)
    rng = np.random.default_rng(1)
    for _ in range(args.trials):
        genotype = random_genotype(rng)
        start = time.perf_counter()
        model = build_network(genotype, n_cells=2, filters=32)
        times["build"].append(time.perf_counter() - start)
        start = time.perf_counter()
        model = model.to(args.device, memory_format=torch.channels_last)
        sync(args.device)
        times["move"].append(time.perf_counter() - start)
        start = time.perf_counter()
        count_mult_adds(model, (1, 3, 32, 32))
        times["count"].append(time.perf_counter() - start)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        for key in ("first_step", "step", "step", "step"):
            start = time.perf_counter()
            with torch.autocast(torch.device(args.device).type, dtype=torch.bfloat16):
                loss = torch.nn.functional.cross_entropy(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sync(args.device)
            times[key].append(time.perf_counter() - start)
    return {f"{k}_ms_median": 1000 * statistics.median(v) for k, v in times.items()}


def child(args) -> dict:
    data = tiled_data(args.child_images, 5_000)
    settings = {"preset": "paper", "epochs": args.child_epochs, "batch_size": args.child_batch}
    objective = CifarObjective(device=args.device, data=data, **settings)
    start = time.perf_counter()
    result = objective.train(NASNET_A)
    seconds = time.perf_counter() - start
    return {"epochs": args.child_epochs, "train_images": args.child_images, "seconds": seconds,
            "images_per_second": result.images_per_second}  # fmt: skip


def processes(args) -> dict:
    rows = []
    for k in args.process_counts:
        command = [sys.executable, __file__, "--worker", "--device", args.device, "--batch", str(args.batch),
                   "--images", str(args.images), "--worker-seconds", str(args.worker_seconds)]  # fmt: skip
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(k)]
        rates = [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        rows.append({"processes": k, "images_per_second_each": rates, "images_per_second_sum": sum(rates)})
    return {"rows": rows}


def worker(args) -> None:
    """One process of `processes`: NASNet-A N=2 F=32, epochs until --worker-seconds have passed."""
    data = tiled_data(args.images, 500)
    torch.manual_seed(0)
    model = build_network(NASNET_A, n_cells=2, filters=32)
    settings = {"epochs": 1, "batch_size": args.batch}
    train_model(model, data, settings, device=args.device)  # warm-up
    rates, start = [], time.perf_counter()
    while time.perf_counter() - start < args.worker_seconds:
        rates.append(train_model(model, data, settings, device=args.device).images_per_second)
    print(statistics.median(rates))


SECTIONS = {name: globals()[name] for name in SECTION_NAMES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=Path("gpu-check"))
    parser.add_argument("--sections", nargs="+", default=list(SECTION_NAMES), choices=SECTION_NAMES)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script on CPU")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--images", type=int, default=12_800, help="training images per throughput epoch")
    parser.add_argument("--random", type=int, default=2, help="random genotypes besides NASNet-A")
    parser.add_argument("--trials", type=int, default=5, help="genotypes for the overhead section")
    parser.add_argument("--child-epochs", type=int, default=20)
    parser.add_argument("--child-images", type=int, default=45_000)
    parser.add_argument("--child-batch", type=int, default=128, help="the paper preset's batch size")
    parser.add_argument("--process-counts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--worker-seconds", type=float, default=30.0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batch, args.images, args.random, args.trials, args.child_batch = 16, 64, 1, 1, 16
        args.child_epochs, args.child_images, args.process_counts, args.worker_seconds = 1, 64, [1, 2], 1.0
    if args.worker:
        worker(args)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "gpu_check.jsonl", "a") as log:
        for name in args.sections:
            start = time.perf_counter()
            result = {"section": name, **SECTIONS[name](args), "section_seconds": time.perf_counter() - start}
            log.write(json.dumps(result) + "\n")
            log.flush()
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
