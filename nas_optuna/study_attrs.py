"""The study's own record of how it is searched, and the checks a joining worker makes.

The first worker writes its settings ("sampler", "sampler_settings", "seed", "budget",
"study_config") as ONE user attr, "worker_settings", in one write that only the first writer
makes (two first workers at once: one wins, whole); every worker then compares its own settings
with that record and refuses to start when they differ, so one study is never searched by mixed
samplers, spaces or budgets. The five keys are also copied to user attrs of their own, for the
report and optuna-dashboard; the record is what workers are compared with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.distributions import BaseDistribution

from nas_optuna._optuna_internals import set_study_user_attr_once

KEYS = ("sampler", "sampler_settings", "seed", "budget", "study_config")
RECORD = "worker_settings"


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
    """Record the settings if the study has none; ValueError listing every difference from the
    record otherwise (also when another first worker won the race to write it)."""
    attrs = study.user_attrs
    if RECORD in attrs:
        recorded = attrs[RECORD]
    elif "sampler" in attrs:  # a study started before the one-write record: its five keys
        recorded = {key: attrs[key] for key in KEYS if key in attrs}
    else:
        recorded = set_study_user_attr_once(study, RECORD, _plain({k: expected[k] for k in KEYS}))
    diff = differences(recorded, expected)
    if diff:
        raise ValueError(
            f"study {study.study_name!r} was started with other settings; this worker refuses to join:\n"
            + "\n".join(diff)
            + "\nuse the same --sampler/--seed/--n-trials/--study-config, or a new study name"
        )
    for key in KEYS:  # copies of the record (never a mix: each equals the record)
        if key in recorded and key not in attrs:
            study.set_user_attr(key, recorded[key])


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
