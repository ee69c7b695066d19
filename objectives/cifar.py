"""The "cifar" objective: build the trial's child network, train it, return validation accuracy
(or, with ``reward = "mnas"``/``"mnas-hard"``, a reward on the cost at the transfer configuration).

Data is loaded once, when the objective is built; every trial trains from the same seed, so two
trials of one genotype get the same accuracy on CPU and differences between trials come from
the architectures (common random numbers). A trial that diverges or runs out of memory raises
TrainingFailed after recording ``fail_reason``; run the study with
``study.optimize(objective, catch=(TrainingFailed,))`` so the worker goes on.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping
from typing import Any

import optuna
import torch
from optuna.distributions import CategoricalDistribution

from nas_optuna.genotype import Genotype, genotype_user_attrs
from nas_optuna.space import suggest_genotype

from . import reward
from .data import ImageData, load_data, subset_train
from .defaults import CIFAR_DEFAULTS, PRESETS, TRAIN_DEFAULTS
from .settings import (
    ANY_INT,
    FLAG,
    OPTIONAL_TEXT,
    TEXT,
    Rule,
    check_settings,
    number,
    one_of,
    positive_int,
)
from .train import DeviceData, TrainingFailed, TrainResult, data_on_device, train_model

NETWORK_KEYS = ("n_cells", "filters", "concat", "aux_head", "drop_path_keep")
RULES: dict[str, Rule] = {
    "preset": one_of(*PRESETS),
    "dataset": TEXT,  # a source name or a path; load_data checks which
    "data_root": OPTIONAL_TEXT,
    "download": FLAG,
    "val_size": Rule(
        (int, float),
        lambda v: v >= 1 if isinstance(v, int) else 0 < v < 1,
        "",
        kind="a count >= 1 or a fraction in (0, 1)",
        optional=True,
    ),
    "train_images": positive_int(extra=("all",), optional=True),
    "n_cells": positive_int(),
    "filters": positive_int(),
    "concat": one_of("released", "strict"),
    "aux_head": FLAG,
    "drop_path_keep": number(lambda v: 0 < v <= 1, "in (0, 1]"),
    "epochs": positive_int(),
    "batch_size": positive_int(),
    "lr": number(lambda v: v > 0, "> 0"),
    "momentum": number(lambda v: 0 <= v < 1, "in [0, 1)"),
    "nesterov": FLAG,
    "weight_decay": number(lambda v: v >= 0, ">= 0"),
    "grad_clip": number(lambda v: v >= 0, ">= 0 (0: no clipping)"),
    "aux_weight": number(lambda v: v >= 0, ">= 0"),
    "label_smoothing": number(lambda v: 0 <= v < 1, "in [0, 1)"),
    "eval_batch_size": positive_int(),
    "memory_format": one_of("auto", "channels_last", "contiguous"),
    "seed": ANY_INT,
    **reward.RULES,
}
assert set(RULES) == set(CIFAR_DEFAULTS)


def checked_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    check_settings("cifar objective", settings, RULES)
    reward.check_reward_settings("cifar objective", settings, settings.get("concat", "released"))
    preset = settings.get("preset", "proxy")
    merged = {**CIFAR_DEFAULTS, **PRESETS[preset], **settings}
    if merged["train_images"] == "all":  # TOML has no null
        merged["train_images"] = None
    return merged


class CifarObjective:
    def __init__(
        self,
        space: Mapping[str, CategoricalDistribution] | None = None,
        *,
        device: str = "cpu",
        data: ImageData | None = None,
        **settings: Any,
    ) -> None:
        self.space = space
        self.settings = checked_settings(settings)
        self.device = device
        s = self.settings
        if data is None:
            data = load_data(
                s["dataset"],
                data_root=s["data_root"],
                val_size=s["val_size"],
                seed=s["seed"],
                download=s["download"],
            )
        self.data = subset_train(data, s["train_images"], s["seed"])
        self.train_settings = {k: s[k] for k in TRAIN_DEFAULTS}
        self.transfer = reward.transfer_of(s)
        self.reward = reward.Reward.from_settings(s)
        self._on_device: dict[str, DeviceData] = {}  # built on the first trial, reused by the rest

    def data_on(self, device: str) -> DeviceData:
        """The data and augmenter on ``device``, copied there once for all trials."""
        if device not in self._on_device:
            self._on_device[device] = data_on_device(self.data, device)
        return self._on_device[device]

    def build(self, genotype: Genotype) -> torch.nn.Module:
        from nas_optuna import build_network

        torch.manual_seed(self.settings["seed"])  # same genotype + seed -> same initial weights
        network = {k: self.settings[k] for k in NETWORK_KEYS}
        return build_network(genotype, num_classes=len(self.data.classes), **network)

    def train(
        self, genotype: Genotype, trial: optuna.Trial | None = None, progress=None, on_epoch=None
    ) -> TrainResult:
        """Train one child; with a trial, report every epoch (may raise TrialPruned).

        ``progress(epoch, step, steps, loss)`` and ``on_epoch(val_acc, epoch)`` are for displays.
        """
        from nas_optuna import count_mult_adds, count_parameters

        # On the training device first: counting mult-adds is a forward pass, fast on a GPU.
        model = self.build(genotype).to(self.device)
        if trial is not None:
            trial.set_user_attr("n_params", count_parameters(model))
            trial.set_user_attr("mult_adds", count_mult_adds(model, (1, 3, 32, 32)))
            trial.set_user_attr("device", device_description(self.device))

        def report(value: float, epoch: int) -> None:
            if on_epoch is not None:
                on_epoch(value, epoch)
            if trial is not None:
                trial.set_user_attr("epochs_done", epoch + 1)
                trial.report(value, epoch)
                # After the last epoch the trial is done: its value is the result, not a hint.
                if epoch + 1 < self.train_settings["epochs"] and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {epoch + 1} at {value:.4f}")

        return train_model(
            model,
            self.data,
            self.train_settings,
            device=self.device,
            report=report,
            progress=progress,
            on_device=self.data_on(self.device),
        )

    def __call__(self, trial: optuna.Trial) -> float:
        genotype = suggest_genotype(trial, self.space)
        for key, value in genotype_user_attrs(genotype).items():
            trial.set_user_attr(key, value)
        cost = self.record_transfer_cost(genotype, trial)
        skip = self.reward.over_budget(cost) if cost is not None else None
        if skip is not None:  # hard budget: a low score, no training, and the trial still completes
            trial.set_user_attr("over_budget", skip)
            trial.set_user_attr("train_seconds", 0.0)
            return 0.0
        reason, start = None, time.perf_counter()
        try:
            result = self.train(genotype, trial)
        except TrainingFailed as err:
            reason = str(err)
        finally:  # pruned and failed trials spend device time too
            trial.set_user_attr("train_seconds", time.perf_counter() - start)
        if reason is not None:
            # Outside the except block: the traceback (and the model it holds) is gone now.
            trial.set_user_attr("fail_reason", reason)
            release_memory()
            raise TrainingFailed(reason)
        trial.set_user_attr("images_per_second", result.images_per_second)
        if self.reward.kind == "accuracy":
            return result.val_accuracy
        trial.set_user_attr("accuracy", result.val_accuracy)
        return self.reward.score(result.val_accuracy, cost)

    def record_transfer_cost(self, genotype: Genotype, trial: optuna.Trial):
        """The genotype's cost at the transfer configuration as user attrs; None without one."""
        if self.transfer is None:
            return None
        from nas_optuna.cost import transfer_cost

        start = time.perf_counter()
        cost = transfer_cost(genotype, self.transfer, latency=self.settings["latency"])
        trial.set_user_attr("transfer_mult_adds", cost.mult_adds)
        trial.set_user_attr("transfer_params", cost.params)
        if cost.latency_ms is not None:
            trial.set_user_attr("transfer_latency_ms", cost.latency_ms)
        trial.set_user_attr("transfer_seconds", time.perf_counter() - start)  # 0 when cached
        return cost


def device_description(device: str) -> str:
    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(dev)})"
    return str(device)


def release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
