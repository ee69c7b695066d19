"""Collect finished trials per study, grouped by sampler and seed, for the report.

Only COMPLETE trials count: RUNNING, WAITING, PRUNED and FAILED ones are skipped, so a
report can be made while workers are still writing to the storage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from nas_optuna.report.arms import not_an_arm, sampler_from_name
from nas_optuna.space import genotype_of_trial
from nas_optuna.storage_url import list_study_names


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial, in the order it finished."""

    number: int
    value: float
    genotype: str
    train_seconds: float
    params: dict[str, Any]
    user_attrs: dict[str, Any]


@dataclass
class StudyRun:
    """One study: one sampler with one seed."""

    study_name: str
    sampler: str
    seed: int | None
    budget: Any
    user_attrs: dict[str, Any]
    trials: list[TrialRecord] = field(default_factory=list)
    n_running: int = 0
    label: str = ""  # the arm it is compared as: the sampler, plus settings that tell its runs apart
    choices: dict[str, list[str]] = field(default_factory=dict)  # categorical params, in space order

    @property
    def arm(self) -> str:
        return self.label or self.sampler

    @property
    def values(self) -> list[float]:
        return [t.value for t in self.trials]


def load_runs(
    storage: BaseStorage,
    prefix: str | None = None,
    names: list[str] | None = None,
    left_out: list[str] | None = None,
) -> list[StudyRun]:
    """Runs for the studies named, or for all search arms whose name starts with `prefix`.

    A study that is no search arm (a rerank study, a foreign name) is refused when named, and
    left out of a prefix with a line in `left_out` saying why."""
    available = list_study_names(storage)
    selected = names if names else [n for n in available if prefix is None or n.startswith(prefix)]
    missing = sorted(set(selected) - set(available))
    if missing or not selected:
        wanted = f"studies {missing}" if missing else f"study whose name starts with {prefix!r}"
        raise ValueError(f"this storage has no {wanted}; studies there: {available or 'none'}")
    runs = []
    for name in selected:
        study = optuna.load_study(study_name=name, storage=storage)
        reason = not_an_arm(name, study.user_attrs)
        if reason is None:
            runs.append(load_run(study))
        elif names:
            raise ValueError(f"study {name!r} is {reason}; name search studies only in --studies")
        elif left_out is not None:
            left_out.append(f"{name} left out: {reason}.")
    if not runs:
        where = f" starts with {prefix!r}" if prefix else " is in this storage"
        raise ValueError(f"no search study (NAME-<sampler>-s<seed>){where}; studies there: {available}")
    label_arms(runs)
    return runs


def label_arms(runs: list[StudyRun]) -> None:
    """Runs of one sampler with different recorded settings are different arms: label each with
    the settings that differ, e.g. "ppo (learning_rate=0.0035)", so they are not pooled as seeds."""
    by_sampler: dict[str, list[StudyRun]] = {}
    for run in runs:
        by_sampler.setdefault(run.sampler, []).append(run)
    for sampler, group in by_sampler.items():
        settings = [run.user_attrs.get("sampler_settings") or {} for run in group]
        keys = sorted({k for s in settings for k in s if len({repr(t.get(k)) for t in settings}) > 1})
        for run, own in zip(group, settings, strict=True):
            parts = [f"{k}={own[k]}" if k in own else f"{k}=default" for k in keys]
            run.label = f"{sampler} ({', '.join(parts)})" if parts else sampler


def load_run(study: optuna.Study) -> StudyRun:
    attrs = dict(study.user_attrs)
    run = StudyRun(
        study_name=study.study_name,
        sampler=str(attrs.get("sampler", sampler_from_name(study.study_name) or "unknown")),
        seed=attrs.get("seed"),
        budget=attrs.get("budget"),
        user_attrs=attrs,
    )
    trials = study.get_trials(deepcopy=False)
    run.n_running = sum(t.state == TrialState.RUNNING for t in trials)
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    done.sort(key=lambda t: (t.datetime_complete is None, t.datetime_complete, t.number))
    run.trials = [_record(t) for t in done if all(math.isfinite(v) for v in t.values)]
    for trial in done:
        for name, dist in trial.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                run.choices.setdefault(name, [str(c) for c in dist.choices])
    return run


def _record(trial: optuna.trial.FrozenTrial) -> TrialRecord:
    attrs = trial.user_attrs
    return TrialRecord(
        number=trial.number,
        value=float(trial.values[0]),  # a multi-objective study's first value is its accuracy
        # NAS-Bench-201 trials carry their table's cell string instead of a NASNet genotype.
        genotype=str(attrs.get("genotype") or attrs.get("cellstr") or _genotype_key(trial.params, attrs)),
        train_seconds=float(attrs.get("train_seconds", 0.0)),
        params=dict(trial.params),
        user_attrs=dict(attrs),
    )


def _genotype_key(params: dict[str, Any], user_attrs: dict[str, Any]) -> str:
    """Genotype string for deduplication; trials outside the NASNet spaces fall back to their params."""
    try:
        return str(genotype_of_trial(params, user_attrs))
    except (ValueError, KeyError, IndexError):
        return repr(sorted(params.items()))


def runs_by_sampler(runs: list[StudyRun]) -> dict[str, list[StudyRun]]:
    grouped: dict[str, list[StudyRun]] = {}
    for run in runs:
        grouped.setdefault(run.arm, []).append(run)
    return dict(sorted(grouped.items()))
