"""Which parameters the policy decides, in which order.

Given a `search_space`, its categorical entries in insertion order (the NASNet space is ordered:
cell by cell, block by block). Without one, the space is inferred once from the earliest
complete trial (its categorical params present with the same choices in every complete trial),
kept in that trial's order, and frozen in the study so that every worker uses the same one.
"""

from __future__ import annotations

from collections.abc import Mapping

import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import distribution_to_json
from optuna.distributions import json_to_distribution
from optuna.trial import TrialState

from . import _storage


Space = dict[str, CategoricalDistribution]


def categorical_part(space: Mapping[str, BaseDistribution]) -> Space:
    return {name: d for name, d in space.items() if isinstance(d, CategoricalDistribution)}


def frozen_space(study: optuna.Study) -> Space | None:
    """The study's policy space: read if frozen, else inferred and frozen; None before any result."""
    stored = _storage.read_study_attr(study, _storage.SPACE_KEY)
    if stored is None:
        inferred = _infer(study)
        if not inferred:
            return None
        _storage.write_study_attr(
            study, _storage.SPACE_KEY, [[n, distribution_to_json(d)] for n, d in inferred.items()]
        )
        stored = _storage.read_study_attr(
            study, _storage.SPACE_KEY
        )  # a racing worker may have won
    return {name: json_to_distribution(text) for name, text in stored}


def _infer(study: optuna.Study) -> Space:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return {}
    first = min(complete, key=lambda t: t.number)
    space = categorical_part(first.distributions)
    for trial in complete:
        space = {n: d for n, d in space.items() if trial.distributions.get(n) == d}
    return space
