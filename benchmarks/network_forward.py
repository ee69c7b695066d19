"""Training-step speed of a NASNet child: channels_last vs NCHW (and drop path on vs off), side by side.

    python benchmarks/network_forward.py                   # NASNet-A N=2 F=16, batch 64, CPU
    python benchmarks/network_forward.py --device cuda --amp

Variants run interleaved round by round so that load from other processes hits them alike;
the report gives the median step time per variant and its ratio to the NCHW baseline.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from nas_optuna import NASNET_A, build_network, count_parameters


def make_step(memory_format, drop_path_keep, args):
    torch.manual_seed(0)
    model = build_network(NASNET_A, n_cells=args.n_cells, filters=args.filters, drop_path_keep=drop_path_keep)
    model = model.to(args.device, memory_format=memory_format).train()
    model.set_drop_path_progress(0.5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(args.batch, 3, 32, 32, device=args.device).to(memory_format=memory_format)
    labels = torch.randint(0, 10, (args.batch,), device=args.device)
    dtype = torch.bfloat16 if args.amp else torch.float32

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(args.device.split(":")[0], dtype=dtype, enabled=args.amp):
            loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    return model, step


def timed(step, device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-cells", type=int, default=2)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    variants = {
        "NCHW": make_step(torch.contiguous_format, 1.0, args),
        "channels_last": make_step(torch.channels_last, 1.0, args),
        "NCHW + drop path 0.6": make_step(torch.contiguous_format, 0.6, args),
    }
    model = variants["NCHW"][0]
    print(
        f"NASNet-A N={args.n_cells} F={args.filters} ({count_parameters(model) / 1e6:.3f}M params), "
        f"batch {args.batch}, {args.device}, amp={args.amp}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    for _, step in variants.values():
        for _ in range(args.warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_index in range(args.rounds):
        for name, (_, step) in variants.items():
            times[name].append(timed(step, args.device))
        print(
            f"round {round_index + 1}/{args.rounds}: "
            + ", ".join(f"{n} {t[-1]:.3f}s" for n, t in times.items()),
            flush=True,
        )
    baseline = statistics.median(times["NCHW"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{name:>22}: {median * 1e3:8.1f} ms/step  {args.batch / median:8.1f} img/s  "
            f"ratio to NCHW {median / baseline:.3f}"
        )


if __name__ == "__main__":
    main()
