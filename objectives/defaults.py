"""Defaults of the training and cifar objectives, without torch: every command's parser reads them,
so `nas-optuna --help` (and report, show) need not load torch."""

from __future__ import annotations

from typing import Any

# One place for every training knob (airbench style); the objective and CLI override keys.
TRAIN_DEFAULTS: dict = {
    "epochs": 20,  # paper: a fixed 20 epochs at N=2
    "batch_size": 128,
    "lr": 0.05,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,
    "grad_clip": 5.0,  # NASNet's reference code clips the global norm at 5
    "aux_weight": 0.4,  # used only when the model returns (logits, aux_logits)
    "label_smoothing": 0.0,
    "eval_batch_size": 500,
    "memory_format": "auto",  # "channels_last" | "contiguous" | "auto" (see pick_memory_format)
    "seed": 0,
}

# Defaults = the "proxy" preset: a CPU trial in ~6 s on one loaded core (measured: NASNet-A N=1
# F=8 trains at ~69 images/s single-threaded on this 2-core box, N=2 F=8 ~43, N=1 F=16 ~26;
# benchmarks/proxy_rank.py: Spearman 0.55 against 5x the epochs over 20 random genotypes).
CIFAR_DEFAULTS: dict[str, Any] = {
    "preset": "proxy",  # base settings: "proxy" (these) or "paper" (PRESETS below)
    "dataset": "bundled",  # "bundled" | "cifar10" | "folder" (with data_root) | a path
    "data_root": None,
    "download": False,
    "val_size": None,  # count or fraction; None = 10% (CIFAR-10's 5,000 of 50,000)
    "train_images": 512,  # train on this many random training images; "all" (or None) = all
    "n_cells": 1,
    "filters": 8,
    "concat": "released",
    "aux_head": False,
    "drop_path_keep": 1.0,
    **TRAIN_DEFAULTS,
    # Cost at the deployed size and the reward built on it (objectives/reward.py).
    "transfer": None,  # None, a preset ("mobile", "cifar") or a table (nas_optuna/cost.py)
    "latency": False,  # also time batch-1 CPU forwards at the transfer size
    "reward": "accuracy",  # "accuracy" | "mnas" (soft, MnasNet) | "mnas-hard" (over budget: 0, untrained)
    "target_mult_adds": None,
    "target_params": None,
    "w": -0.07,  # MnasNet's exponent of (cost / target)
    "epochs": 1,
    "batch_size": 16,  # 32 steps: at batch 32 / lr 0.05, random genotypes stayed at chance (0.10)
    "lr": 0.1,
}
# The paper's search child (NASNET.md "Search protocol"): full CIFAR-10, N=2, F=32, 20 epochs.
# Batch size and lr are not given there; 128 / 0.05 are ours and not yet tuned on a GPU.
PRESETS: dict[str, dict[str, Any]] = {
    "proxy": {},
    "paper": {
        "dataset": "cifar10",
        "train_images": "all",
        "n_cells": 2,
        "filters": 32,
        "epochs": 20,
        "batch_size": 128,
        "lr": 0.05,
    },
}
