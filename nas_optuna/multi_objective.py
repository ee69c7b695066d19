"""Multi-objective studies: which values a trial reports, and the directions the study needs.

``[objective] objectives = ["accuracy", "mult_adds"]`` in the study config: the first value is
the objective's own reward (its accuracy, maximised), each further one a cost the objective
records as a user attr of the trial (``mult_adds``, ``n_params``; a cost attr such as a
latency where the objective records one), minimised. Without the key a study has the one
objective "accuracy". The study must be created with the matching directions
(``optuna create-study --directions maximize minimize``); a worker checks them before it joins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.study import StudyDirection

ACCURACY = "accuracy"
KEY = "objectives"
# Cost attrs each objective records. The cifar objective is open: any cost attr it records
# (e.g. one at a transfer configuration) can be named; a missing one fails the trial, named.
COST_ATTRS: dict[str, tuple[str, ...] | None] = {
    "nb201": ("mult_adds", "n_params"),
    "synthetic": (),
    "cifar": None,
}
# Samplers that handle several objectives themselves; ppo does through a declared scalarization.
MULTI_OBJECTIVE_SAMPLERS = ("random", "tpe", "nsga2")


def objective_names(table: Mapping[str, Any]) -> tuple[str, ...]:
    """The study's objectives from an [objective] table, checked; ValueError names what to do."""
    names = table.get(KEY, [ACCURACY])
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f'objectives = {names!r}: expected a list of names like ["accuracy", "mult_adds"]')
    if names[0] != ACCURACY or ACCURACY in names[1:]:
        raise ValueError(
            f'objectives = {names!r}: the first must be "accuracy" (the reward), the others cost attrs'
        )
    if len(set(names)) != len(names):
        raise ValueError(f"objectives = {names!r}: each objective once")
    reward = table.get("reward", ACCURACY)
    if len(names) > 1 and reward != ACCURACY:  # a cost folded into the reward, and again as an objective
        raise ValueError(
            f"objectives = {names!r} with reward = {reward!r}: a multi-objective study takes the costs "
            'as objectives of their own; leave out reward (or set reward = "accuracy")'
        )
    known = COST_ATTRS.get(table.get("name"))
    for name in names[1:]:
        if known is not None and name not in known:
            raise ValueError(
                f"objectives: the {table.get('name')} objective records no cost {name!r}; "
                f"it records {list(known) or 'none'}"
            )
    return tuple(names)


def directions(names: Sequence[str]) -> list[StudyDirection]:
    return [StudyDirection.MAXIMIZE if n == ACCURACY else StudyDirection.MINIMIZE for n in names]


def direction_words(names: Sequence[str]) -> str:
    return " ".join(d.name.lower() for d in directions(names))


def check_directions(study: optuna.Study, names: Sequence[str]) -> None:
    """ValueError when the study's directions are not those of the configured objectives."""
    if study.directions == directions(names):
        return
    have = [d.name.lower() for d in study.directions]
    flag = "--direction maximize" if len(names) == 1 else f"--directions {direction_words(names)}"
    raise ValueError(
        f"study {study.study_name!r} has direction(s) {have}, but the study config's objectives "
        f"{list(names)} need [{direction_words(names)}]; create the study with {flag}"
        + ("" if len(names) > 1 else ' (or set [objective] objectives = ["accuracy", "mult_adds"])')
    )


def check_sampler(sampler: str, settings: Mapping[str, Any], names: Sequence[str]) -> None:
    """Samplers that learn from one value refuse a multi-objective study here, before it starts
    (and PPO weights that do not fit the objectives, which it would refuse at its first ask)."""
    weights = settings.get("scalarization") if sampler == "ppo" else None
    if isinstance(weights, list) and len(weights) != len(names):
        raise ValueError(
            f"[sampler.ppo] scalarization has {len(weights)} weights, but the objectives are "
            f"{list(names)}: one weight per objective"
            + ("" if len(names) > 1 else ' (it needs [objective] objectives = ["accuracy", ...])')
        )
    if len(names) == 1 or sampler in MULTI_OBJECTIVE_SAMPLERS or weights is not None:
        return
    hint = (
        "set [sampler.ppo] scalarization = [w_accuracy, w_cost, ...] (weights of the values, "
        "each counted in its better direction)"
        if sampler == "ppo"
        else f"use --sampler {' | '.join(MULTI_OBJECTIVE_SAMPLERS)} or ppo with a scalarization"
    )
    raise ValueError(f"--sampler {sampler} learns from one value; the objectives are {list(names)}: {hint}")


class _WithoutIntermediateValues:
    """The trial as the objective sees it in a multi-objective study. Optuna takes no
    intermediate values there (Trial.report raises, nothing can prune), so an objective that
    reports each epoch (cifar) trains to the end: report() keeps nothing, should_prune() is False."""

    def __init__(self, trial: optuna.Trial) -> None:
        self._trial = trial

    def report(self, value: float, step: int) -> None:
        return None

    def should_prune(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)


class MultiObjective:
    """The objective's reward followed by the cost attrs it recorded on the trial."""

    def __init__(self, objective, names: Sequence[str]) -> None:
        self.objective = objective
        self.names = tuple(names)
        self.space = getattr(objective, "space", None)

    def __call__(self, trial: optuna.Trial) -> tuple[float, ...]:
        reward = self.objective(_WithoutIntermediateValues(trial))
        values = [float(reward)]
        attrs = trial.user_attrs
        for name in self.names[1:]:
            if name not in attrs:
                raise ValueError(
                    f"objectives = {list(self.names)}: the objective recorded no user attr {name!r} "
                    f"(it recorded {sorted(attrs)})"
                )
            values.append(float(attrs[name]))
        return tuple(values)


def finite(value) -> bool:
    """A value the worker may tell: a finite number, or a tuple of them."""
    if value is None:
        return False
    values = value if isinstance(value, tuple | list) else (value,)
    return all(v is not None and math.isfinite(float(v)) for v in values)
