"""The study's own record of how it is searched, and the checks a joining worker makes.

The first worker writes "sampler", "sampler_settings", "seed", "budget" and "study_config"
to the study's user attrs; every later worker compares its own settings and refuses to start
when they differ, so one study is never searched by mixed samplers, spaces or budgets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection

KEYS = ("sampler", "sampler_settings", "seed", "budget", "study_config")


def _plain(value: Any) -> Any:
    """JSON round trip, so tuples and lists compare equal after a trip through storage."""
    return json.loads(json.dumps(value))


def differences(recorded: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    lines = []
    for key in KEYS:
        if key in recorded and _plain(recorded[key]) != _plain(expected[key]):
            lines.append(
                f"  {key}: study has {json.dumps(recorded[key])}, this worker has {json.dumps(expected[key])}"
            )
    return lines


def record_or_check(study: optuna.Study, expected: Mapping[str, Any]) -> None:
    """Write the settings if the study has none; otherwise ValueError listing every difference."""
    recorded = study.user_attrs
    if "sampler" not in recorded:
        for key in KEYS:
            study.set_user_attr(key, _plain(expected[key]))
        recorded = study.user_attrs  # two first workers at once: the later write wins, recheck
    diff = differences(recorded, expected)
    if diff:
        raise ValueError(
            f"study {study.study_name!r} was started with other settings; this worker refuses to join:\n"
            + "\n".join(diff)
            + "\nuse the same --sampler/--seed/--n-trials/--study-config, or a new study name"
        )


def check_direction(study: optuna.Study) -> None:
    if study.directions != [StudyDirection.MAXIMIZE]:
        names = [d.name.lower() for d in study.directions]
        raise ValueError(
            f"study {study.study_name!r} has direction {names}, but the objective is an accuracy to "
            "maximize; create the study with --direction maximize"
        )


def check_space(study: optuna.Study, space: Mapping[str, BaseDistribution]) -> None:
    """ValueError when the study holds trials whose parameters are not those of ``space``."""
    for trial in study.get_trials(deepcopy=False):
        foreign = sorted(name for name in trial.distributions if space.get(name) != trial.distributions[name])
        if foreign:
            name = foreign[0]
            theirs = trial.distributions[name]
            ours = space.get(name)
            raise ValueError(
                f"study {study.study_name!r} holds trials from another search space: trial {trial.number} "
                f"has {name} = {theirs} where this study config has {ours}; use a new study name"
            )
