"""Which parameters the policy decides, in which order, and how a value maps to an action.

Given a `search_space`, its entries in insertion order (the NASNet space is ordered: cell by
cell, block by block). Without one, the first decisions are inferred once from the earliest
complete trial (once every trial before it has finished, so that racing workers agree), kept
in that trial's order, and frozen in the study so that every worker uses the same ones.
Parameters first seen later join at the end (lineage.py), in the order the trials show them.

A categorical decision's actions are its choices. An Int or Float parameter is cut into
`bins` intervals (uniform in the log domain for log ones, on the step grid for stepped ones; a
grid with no more points than `bins` gets one action per point); the action is the interval and
the value is drawn inside it (where inside: draws.py), so the action is recovered from the
stored value. A position inside an interval is in [0, 1); a value at a position below 0 or from
1 on lies in the neighbouring interval.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import distribution_to_json
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.distributions import json_to_distribution
from optuna.trial import TrialState

from . import _storage


Space = dict[str, BaseDistribution]
NUMERIC_MODES = ("policy", "random")
STUCK_AFTER = 20  # complete trials after which a still-running earlier one stops blocking _infer


def policy_part(space: Mapping[str, BaseDistribution], numeric: str) -> Space:
    """The entries the policy decides: categorical ones, numeric ones too with numeric="policy"."""
    return {name: d for name, d in space.items() if is_decidable(d, numeric)}


def is_decidable(distribution: BaseDistribution, numeric: str) -> bool:
    if isinstance(distribution, CategoricalDistribution):
        return True
    return numeric == "policy" and isinstance(distribution, IntDistribution | FloatDistribution)


def n_actions(distribution: BaseDistribution, bins: int) -> int:
    if isinstance(distribution, CategoricalDistribution):
        return len(distribution.choices)
    grid = _grid_starts(distribution, bins)
    return bins if grid is None else len(grid)


def action_of(distribution: BaseDistribution, value: Any, bins: int) -> int | None:
    """The action that gives `value`; None if the value is not one of the distribution's."""
    try:
        internal = distribution.to_internal_repr(value)
    except (ValueError, TypeError):
        return None
    if isinstance(distribution, CategoricalDistribution):
        return int(internal)
    if not distribution._contains(internal):
        return None
    grid = _grid_starts(distribution, bins)
    if grid is None:  # continuous float: equal intervals in the (log) domain
        low, high, x = _domain(distribution, float(internal))
        if high == low:
            return 0
        return min(bins - 1, max(0, int((x - low) / (high - low) * bins)))
    return int(np.searchsorted(grid, _grid_index(distribution, internal), side="right") - 1)


def value_of(
    distribution: BaseDistribution,
    action: int,
    bins: int,
    rng: np.random.RandomState,
    at: float | None = None,
) -> Any:
    """A value that `action` stands for: the choice, or the value at position `at` of the
    interval (None: a uniform draw; below 0 or from 1 on: in the neighbouring interval, at most
    one away; past the range's end: its last value inside)."""
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[action]
    assert isinstance(distribution, IntDistribution | FloatDistribution)
    grid = _grid_starts(distribution, bins)
    if at is not None and not 0 <= at < 1:  # a local step into the neighbour, in its widths
        n = bins if grid is None else len(grid)
        action, at = (action - 1, at + 1) if at < 0 else (action + 1, at - 1)
        if not 0 <= action < n:  # past the range's end: its last value inside
            action, at = min(max(action, 0), n - 1), 0.0 if action < 0 else 1 - 1e-9
    if grid is None:
        low, high, _ = _domain(distribution, distribution.low)
        width = (high - low) / bins
        x = low + (action + (rng.uniform() if at is None else at)) * width
        value = math.exp(x) if distribution.log else x
        value = min(max(value, distribution.low), distribution.high)
        if action_of(distribution, value, bins) != action:  # rounding at an edge
            x = low + (action + 0.5) * width
            value = math.exp(x) if distribution.log else x
        return value
    start, count = _cell(distribution, grid, action)
    offset = int(rng.randint(count)) if at is None else min(count - 1, int(at * count))
    index = start + offset
    step = distribution.step or 1
    if isinstance(distribution, IntDistribution):
        return int(distribution.low + index * step)
    return float(min(distribution.low + index * step, distribution.high))


def position_of(distribution: BaseDistribution, value: Any, action: int, bins: int) -> float:
    """Where `value` lies inside its interval `action`, in [0, 1) (a grid point: its cell's middle)."""
    assert isinstance(distribution, IntDistribution | FloatDistribution)
    grid = _grid_starts(distribution, bins)
    internal = float(distribution.to_internal_repr(value))
    if grid is None:
        low, high, x = _domain(distribution, internal)
        if high == low:
            return 0.5
        return min(max((x - low) / (high - low) * bins - action, 0.0), 1 - 1e-9)
    start, count = _cell(distribution, grid, action)
    return (_grid_index(distribution, internal) - start + 0.5) / count


def holds_many(distribution: BaseDistribution, bins: int) -> bool:
    """Whether an action stands for more than one value (a numeric interval, not a choice)."""
    if isinstance(distribution, CategoricalDistribution):
        return False
    return _grid_starts(distribution, bins) is None or _grid_size(distribution) > bins


def cell_sizes(distribution: BaseDistribution, bins: int) -> list[float]:
    """How many values each action stands for: 1 for a choice, the grid points of a discrete
    interval, infinitely many in a continuous one."""
    if isinstance(distribution, CategoricalDistribution):
        return [1.0] * len(distribution.choices)
    grid = _grid_starts(distribution, bins)
    if grid is None:
        return [math.inf] * bins
    return [float(_cell(distribution, grid, a)[1]) for a in range(len(grid))]


def _domain(distribution: Any, value: float) -> tuple[float, float, float]:
    if distribution.log:
        return math.log(distribution.low), math.log(distribution.high), math.log(value)
    return distribution.low, distribution.high, value


def _grid_size(distribution: Any) -> int:
    step = distribution.step or 1
    return int(round((distribution.high - distribution.low) / step)) + 1


def _grid_index(distribution: Any, internal: float) -> int:
    return int(round((internal - distribution.low) / (distribution.step or 1)))


def _cell(distribution: Any, grid: np.ndarray, action: int) -> tuple[int, int]:
    """The first grid index of interval `action` and how many grid points it holds."""
    end = grid[action + 1] if action + 1 < len(grid) else _grid_size(distribution)
    return int(grid[action]), int(end - grid[action])


def _grid_starts(distribution: Any, bins: int) -> np.ndarray | None:
    """First grid index of each interval of a discrete parameter; None for a continuous float."""
    if isinstance(distribution, FloatDistribution) and distribution.step is None:
        return None
    size = _grid_size(distribution)
    if size <= bins:
        return np.arange(size)
    if distribution.log:  # IntDistribution with log=True (its step is 1)
        edges = np.exp(
            np.linspace(math.log(distribution.low), math.log(distribution.high + 1), bins + 1)
        )
        starts = np.floor(edges[:-1]).astype(np.int64) - distribution.low
    else:
        starts = (np.arange(bins) * size) // bins
    return np.unique(np.clip(starts, 0, size - 1))


def frozen_space(study: optuna.Study, numeric: str = "policy") -> Space | None:
    """The study's first decisions: read if frozen, else inferred and frozen; None before any result."""
    stored = _storage.read_study_attr(study, _storage.SPACE_KEY)
    if stored is None:
        inferred = _infer(study, numeric)
        if not inferred:
            return None
        _storage.write_study_attr(
            study, _storage.SPACE_KEY, [[n, distribution_to_json(d)] for n, d in inferred.items()]
        )
        stored = _storage.read_study_attr(
            study, _storage.SPACE_KEY
        )  # a racing worker may have won
    return {name: json_to_distribution(text) for name, text in stored}


def _infer(study: optuna.Study, numeric: str) -> Space:
    """The policy part of the first complete trial, once every trial before it has finished:
    then it is the same trial whoever asks, and racing workers freeze the same space (last
    writer wins, so they must agree). While an earlier trial runs, none yet; a trial that never
    finishes (its worker was killed) stops blocking after STUCK_AFTER complete trials."""
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    for trial in trials:
        if trial.state == TrialState.COMPLETE:
            return policy_part(trial.distributions, numeric)
        if not trial.state.is_finished():
            break
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    return policy_part(complete[0].distributions, numeric) if len(complete) >= STUCK_AFTER else {}
