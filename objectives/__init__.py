"""Objectives: turn an Optuna trial into a score. Installed as `nas_optuna.objectives`.

`make_objective(config, space, device=...)` builds one from a study configuration's
``[objective]`` table; ``config["name"]`` picks the kind: "synthetic" (a hidden target, no
training) or "cifar" (train the child network, reward = validation accuracy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution

from . import cifar, synthetic
from .cifar import CIFAR_DEFAULTS, CifarObjective
from .settings import check_settings
from .synthetic import SyntheticObjective
from .train import TrainingFailed

Objective = Callable[[optuna.Trial], float]
KINDS = ("synthetic", "cifar")


def check_objective_settings(config: Mapping[str, Any]) -> None:
    """ValueError for an unknown objective, key, type or range; loads no data and trains nothing."""
    settings = dict(config)
    name = settings.pop("name", None)
    if name == "synthetic":
        check_settings("synthetic objective", settings, synthetic.RULES)
    elif name == "cifar":
        cifar.checked_settings(settings)
    else:
        raise ValueError(f"unknown objective {name!r}; choose one of {list(KINDS)} in the [objective] table")


def make_objective(
    config: Mapping[str, Any], space: Mapping[str, CategoricalDistribution], *, device: str = "cpu"
) -> Objective:
    check_objective_settings(config)
    settings = dict(config)
    if settings.pop("name") == "synthetic":
        return SyntheticObjective(space, **settings)
    return CifarObjective(space, device=device, **settings)


__all__ = [
    "CIFAR_DEFAULTS",
    "CifarObjective",
    "Objective",
    "SyntheticObjective",
    "TrainingFailed",
    "check_objective_settings",
    "make_objective",
]
