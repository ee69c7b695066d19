"""Objectives: turn an Optuna trial into a score. Installed as `nas_optuna.objectives`.

`make_objective(config, space, device=...)` builds one from a study configuration's
``[objective]`` table; ``config["name"]`` picks the kind: "synthetic" (no training; its
``landscape`` is "hidden", a hidden target with no interactions, or "pairwise", a random
pairwise model), "cifar" (train the child network, reward = validation accuracy) or "nb201"
(NAS-Bench-201's CIFAR-10 table: reward = the trained network's validation accuracy).
The cifar objective also takes ``transfer`` (record the cost of the deployed network) and
``reward = "mnas"``/``"mnas-hard"`` with ``target_mult_adds``/``target_params`` (reward.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import CategoricalDistribution

from . import nb201, pairwise, synthetic
from .nb201 import NB201Objective
from .pairwise import PairwiseObjective
from .settings import check_settings
from .synthetic import SyntheticObjective

if TYPE_CHECKING:
    from .cifar import CifarObjective
    from .defaults import CIFAR_DEFAULTS
    from .train import TrainingFailed

# The training objective loads on first use: a worker on a table or a synthetic reward then
# starts without importing torch (seconds per process; the demo starts one per study).
_LAZY = {"CIFAR_DEFAULTS": ".defaults", "CifarObjective": ".cifar", "TrainingFailed": ".train"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Objective = Callable[[optuna.Trial], float]
KINDS = ("synthetic", "cifar", "nb201")
LANDSCAPES = {
    "hidden": (SyntheticObjective, synthetic.RULES),
    "pairwise": (PairwiseObjective, pairwise.RULES),
}


def check_objective_settings(config: Mapping[str, Any]) -> None:
    """ValueError for an unknown objective, key, type or range; loads no data and trains nothing."""
    settings = dict(config)
    name = settings.pop("name", None)
    if name == "synthetic":
        landscape = settings.pop("landscape", "hidden")
        if landscape not in LANDSCAPES:
            raise ValueError(f"unknown synthetic landscape {landscape!r}; choose one of {list(LANDSCAPES)}")
        where = "synthetic objective" if landscape == "hidden" else f"{landscape} synthetic objective"
        check_settings(where, settings, LANDSCAPES[landscape][1])
    elif name == "cifar":
        from .cifar import checked_settings

        checked_settings(settings)
    elif name == "nb201":
        check_settings("nb201 objective", settings, nb201.RULES)
    else:
        raise ValueError(f"unknown objective {name!r}; choose one of {list(KINDS)} in the [objective] table")


def make_objective(
    config: Mapping[str, Any], space: Mapping[str, CategoricalDistribution], *, device: str = "cpu"
) -> Objective:
    check_objective_settings(config)
    settings = dict(config)
    name = settings.pop("name")
    if name == "synthetic":
        return LANDSCAPES[settings.pop("landscape", "hidden")][0](space, **settings)
    if name == "nb201":
        return NB201Objective(space, **settings)
    from .cifar import CifarObjective

    return CifarObjective(space, device=device, **settings)


__all__ = [
    "CIFAR_DEFAULTS",
    "CifarObjective",
    "NB201Objective",
    "Objective",
    "PairwiseObjective",
    "SyntheticObjective",
    "TrainingFailed",
    "check_objective_settings",
    "make_objective",
]
