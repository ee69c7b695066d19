"""What the transfer-configuration cost adds to a proxy trial, and NASNet-A against the paper.

Part 1: NASNet-A's parameters and mult-adds at the mobile (4@1056, 224x224, ImageNet stem) and
CIFAR (6@768) presets against the published figures. Part 2: ``--trials`` proxy trials of the
cifar objective at studies/smoke.toml's settings (random genotypes, one process) against
``transfer_cost`` of the same genotypes at ``--transfer``, uncached (each first time) and
cached, and (A/B) with the convs computed instead of shape-only; with ``--latency``, also the
batch-1 CPU latency measurement. Same torch threads for
both (``--threads``, default 1, as the test suite and a loaded worker).

    python benchmarks/transfer_cost.py --trials 8
    python benchmarks/transfer_cost.py --trials 8 --latency
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import optuna
import torch

from nas_optuna import NASNET_A, count_mult_adds, count_parameters, genotype_from_params
from nas_optuna import cost as cost_module
from nas_optuna.cost import TRANSFER_PRESETS, transfer_config, transfer_cost
from nas_optuna.study_config import load_study_config

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = {
    "mobile": (564e6, 5.3e6, "NASNet paper, mobile"),
    "cifar": (None, 3.3e6, "NASNet paper, CIFAR-10"),
}


def published_comparison() -> None:
    print("| preset | network | mult-adds | published | params | published |")
    print("|---|---|---|---|---|---|")
    for name, (mult_adds, params, source) in PUBLISHED.items():
        cost = transfer_cost(NASNET_A, TRANSFER_PRESETS[name])
        pub_m = f"{mult_adds / 1e6:.0f}M ({cost.mult_adds / mult_adds - 1:+.2%})" if mult_adds else "-"
        print(
            f"| {name} | {TRANSFER_PRESETS[name].describe()} | {cost.mult_adds / 1e6:.1f}M | {pub_m} | "
            f"{cost.params / 1e6:.3f}M | {params / 1e6:.1f}M ({cost.params / params - 1:+.2%}, {source}) |"
        )


def proxy_trials(n_trials: int, seed: int) -> tuple[list[float], list]:
    """Wall seconds of each smoke-setting trial (suggest, build, count, train) and its genotype."""
    config = load_study_config(ROOT / "studies" / "smoke.toml")
    objective = config.build_objective()
    space = config.build_space()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed))
    seconds = []

    def timed(trial):
        start = time.perf_counter()
        try:
            return objective(trial)
        finally:
            seconds.append(time.perf_counter() - start)

    objective.data_on("cpu")  # the one-time data copy is not a trial's cost
    study.optimize(timed, n_trials=n_trials)
    return seconds, [genotype_from_params(t.params, space) for t in study.trials]


def cost_seconds(genotypes, transfer: str, latency: bool) -> tuple[list[float], list[float]]:
    config = transfer_config(transfer)
    cost_module.clear_cache()
    first, again = [], []
    for genotype in genotypes:
        start = time.perf_counter()
        transfer_cost(genotype, config, latency=latency)
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        transfer_cost(genotype, config, latency=latency)
        again.append(time.perf_counter() - start)
    return first, again


def shape_only_gain(genotypes, transfer: str) -> tuple[float, float]:
    """Median seconds of build + count with the convs computed vs shape-only, interleaved."""
    config = transfer_config(transfer)
    size = (1, 3, config.image_size, config.image_size)
    times: dict[bool, list[float]] = {False: [], True: []}
    for genotype in genotypes:
        for shape_only in (False, True):
            start = time.perf_counter()
            model = cost_module.build_transfer_network(genotype, config)
            count_parameters(model)
            if shape_only:
                cost_module.shape_only_convs(model)
            count_mult_adds(model, size)
            times[shape_only].append(time.perf_counter() - start)
    return statistics.median(times[False]), statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--transfer", choices=tuple(TRANSFER_PRESETS), default="mobile")
    parser.add_argument("--latency", action="store_true", help="also time the latency measurement")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    published_comparison()
    trials, genotypes = proxy_trials(args.trials, args.seed)
    first, again = cost_seconds(genotypes, args.transfer, latency=False)
    med = statistics.median
    print(f"\n{args.trials} proxy trials (studies/smoke.toml objective), torch threads {args.threads}:")
    print(f"  proxy trial: median {med(trials):.2f} s, min {min(trials):.2f}, max {max(trials):.2f}")
    print(f"  transfer cost at {args.transfer}, first time: median {med(first):.3f} s, max {max(first):.3f}")
    print(f"  transfer cost, cached: median {med(again) * 1e6:.1f} us")
    print(
        f"  ratio (median cost / median trial): {med(first) / med(trials):.1%}; "
        f"per-trial worst (cost / that trial): {max(f / t for f, t in zip(first, trials, strict=True)):.1%}"
    )
    computed, shape_only = shape_only_gain(genotypes, args.transfer)
    print(f"  A/B, same genotypes: convs computed {computed:.3f} s, shape-only {shape_only:.3f} s (median)")
    if args.latency:
        with_latency, _ = cost_seconds(genotypes, args.transfer, latency=True)
        print(
            f"  with latency (5 batch-1 forwards + warm-up): median {med(with_latency):.2f} s, "
            f"ratio {med(with_latency) / med(trials):.1%}"
        )


if __name__ == "__main__":
    main()
