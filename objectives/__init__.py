"""Objectives: turn an Optuna trial into a score. Installed as `nas_optuna.objectives`.

`make_objective(config, space, device=...)` builds one from a study configuration's
``[objective]`` table; ``config["name"]`` picks the kind: "synthetic" (no training; its
``landscape`` is "hidden", a hidden target with no interactions, or "pairwise", a random
pairwise model), "cifar" (train the child network, reward = validation accuracy) or "nb201"
(NAS-Bench-201's CIFAR-10 table: reward = the trained network's validation accuracy).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import CategoricalDistribution

from .nb201 import NB201Objective
from .pairwise import PairwiseObjective
from .synthetic import SyntheticObjective

if TYPE_CHECKING:
    from .cifar import CIFAR_DEFAULTS, CifarObjective
    from .train import TrainingFailed

# The training objective loads on first use: a worker on a table or a synthetic reward then
# starts without importing torch (seconds per process; the demo starts one per study).
_LAZY = {"CIFAR_DEFAULTS": ".cifar", "CifarObjective": ".cifar", "TrainingFailed": ".train"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Objective = Callable[[optuna.Trial], float]
KINDS = ("synthetic", "cifar", "nb201")
LANDSCAPES = {"hidden": SyntheticObjective, "pairwise": PairwiseObjective}


def make_objective(
    config: Mapping[str, Any], space: Mapping[str, CategoricalDistribution], *, device: str = "cpu"
) -> Objective:
    settings = dict(config)
    name = settings.pop("name", None)
    if name == "synthetic":
        landscape = settings.pop("landscape", "hidden")
        if landscape not in LANDSCAPES:
            raise ValueError(f"unknown synthetic landscape {landscape!r}; choose one of {list(LANDSCAPES)}")
        cls = LANDSCAPES[landscape]
        allowed = [p for p in inspect.signature(cls).parameters if p != "space"]
        unknown = sorted(set(settings) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown synthetic objective settings {unknown}; allowed: {['landscape', *allowed]} "
                f"(landscape {landscape!r})"
            )
        return cls(space, **settings)
    if name == "cifar":
        from .cifar import CifarObjective

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
    "PairwiseObjective",
    "SyntheticObjective",
    "TrainingFailed",
    "make_objective",
]
