"""Objectives: turn an Optuna trial into a score. Installed as `nas_optuna.objectives`.

`make_objective(config, space, device=...)` builds one from a study configuration's
``[objective]`` table; ``config["name"]`` picks the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution

from .synthetic import SyntheticObjective

Objective = Callable[[optuna.Trial], float]


def make_objective(
    config: Mapping[str, Any], space: Mapping[str, CategoricalDistribution], *, device: str = "cpu"
) -> Objective:
    settings = dict(config)
    name = settings.pop("name", None)
    if name == "synthetic":
        return SyntheticObjective(space, **settings)
    kinds = ["synthetic"]
    raise ValueError(f"unknown objective {name!r}; choose one of {kinds} in the [objective] table")


__all__ = ["Objective", "SyntheticObjective", "make_objective"]
