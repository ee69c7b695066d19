"""Objectives: turn an Optuna trial into a score. Installed as `nas_optuna.objectives`.

`make_objective(config, space, device=...)` builds one from a study configuration's
``[objective]`` table; ``config["name"]`` picks the kind: "synthetic" (a hidden target, no
training), "cifar" (train the child network, reward = validation accuracy) or "nb201"
(NAS-Bench-201's CIFAR-10 table: reward = the trained network's validation accuracy).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution

from .cifar import CIFAR_DEFAULTS, CifarObjective
from .nb201 import NB201Objective
from .synthetic import SyntheticObjective
from .train import TrainingFailed

Objective = Callable[[optuna.Trial], float]
KINDS = ("synthetic", "cifar", "nb201")


def make_objective(
    config: Mapping[str, Any], space: Mapping[str, CategoricalDistribution], *, device: str = "cpu"
) -> Objective:
    settings = dict(config)
    name = settings.pop("name", None)
    if name == "synthetic":
        allowed = [p for p in inspect.signature(SyntheticObjective).parameters if p != "space"]
        unknown = sorted(set(settings) - set(allowed))
        if unknown:
            raise ValueError(f"unknown synthetic objective settings {unknown}; allowed: {allowed}")
        return SyntheticObjective(space, **settings)
    if name == "cifar":
        return CifarObjective(space, device=device, **settings)
    if name == "nb201":
        if settings:
            raise ValueError(f"the nb201 objective takes no settings, got {sorted(settings)}")
        return NB201Objective(space)
    raise ValueError(f"unknown objective {name!r}; choose one of {list(KINDS)} in the [objective] table")


__all__ = [
    "CIFAR_DEFAULTS",
    "CifarObjective",
    "NB201Objective",
    "Objective",
    "SyntheticObjective",
    "TrainingFailed",
    "make_objective",
]
