"""Which parameters the policy decides, in which order, and how a value maps to an action.

Given a `search_space`, its entries in insertion order (the NASNet space is ordered: cell by
cell, block by block). Without one, the first decisions are inferred once from the earliest
complete trial (once every trial before it has finished, so that racing workers agree), kept
in that trial's order, and frozen in the study so that every worker uses the same ones.
Parameters first seen later join at the end (lineage.py), in the order the trials show them.

A categorical decision's actions are its choices. An Int or Float parameter is cut into
`bins` intervals (uniform in the log domain for log ones, on the step grid for stepped ones; a
grid with no more points than `bins` gets one action per point); the action is the interval and
the value is drawn inside it, so the action is recovered from the stored value: uniformly, or
(numeric_value="local") mostly around the best value seen in that interval, with steps from a
third of a percent to half of its width, so the search refines below an interval's width. Such a
step may cross into the neighbouring interval; that trial's actions then differ from its
rollout's, and like an enqueued trial it is not in PPO's ratio (lineage.py) but counts
everywhere else (baseline, visits, elites, best positions). With `refine_best`, a share of the
trials instead take the best trial's numeric values and move them all by one joint step.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
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
from .memory import BestTrial


Space = dict[str, BaseDistribution]
NUMERIC_MODES = ("policy", "random")
NUMERIC_VALUES = ("uniform", "centre", "local")
LOCAL_HALF = 5  # numeric_value="local": trials in an interval before half its draws are local
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
    centre: bool = False,
    near: float | None = None,
) -> Any:
    """A value that `action` stands for: the choice, or a uniform draw inside the interval
    (`centre`: its middle; `near`: a draw around that position in it, which may step into a
    neighbouring interval, see `local_position`)."""
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[action]
    assert isinstance(distribution, IntDistribution | FloatDistribution)
    grid = _grid_starts(distribution, bins)
    at = 0.5 if centre else None if near is None else local_position(near, rng)
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


def local_position(near: float, rng: np.random.RandomState) -> float:
    """A position around `near`: a normal step whose scale is log-uniform from 0.003 to 0.5 of the
    interval (coarse moves and fine ones alike, no schedule). Below 0 or from 1 on it lies in a
    neighbouring interval (at most one away): a best value near an edge may be better across it."""
    return _stepped(near, _step_scale(rng), rng)


def _step_scale(rng: np.random.RandomState) -> float:
    return 10 ** rng.uniform(-2.5, -0.3)


def _stepped(position: float, scale: float, rng: np.random.RandomState) -> float:
    return float(np.clip(position + rng.normal() * scale, -1.0, 2.0 - 1e-9))


def values_of(
    space: Space,
    actions: Sequence[int],
    bins: int,
    rng: np.random.RandomState,
    numeric_value: str,
    best_of: Callable[[int, int], tuple[float, int] | None],
    best: BestTrial | None = None,
    refine_best: float = 0.0,
) -> dict[str, Any]:
    """The values that `actions` stand for, decision by decision; `best_of(t, a)`: the best
    position seen in interval a of decision t and the trials there (numeric_value="local");
    with probability `refine_best`, if `actions` make the same choices as `best`, the numeric
    decisions `best` used step from its values instead."""
    values = {}
    stepped = step_from_best(best, actions, refine_best, rng)
    for t, ((name, d), a) in enumerate(zip(space.items(), actions, strict=False)):
        if t in stepped:
            interval, position = stepped[t]
            values[name] = value_of(d, interval, bins, rng, near=position)
            continue
        near = local_start(best_of(t, a), rng) if numeric_value == "local" else None
        values[name] = value_of(d, a, bins, rng, numeric_value == "centre", near)
    return values


def step_from_best(
    best: BestTrial | None, actions: Sequence[int], share: float, rng: np.random.RandomState
) -> dict[int, tuple[int, float]]:
    """If `actions` make the best trial's choices, with probability `share`: every numeric
    decision the best trial used, as (its interval, a position around its value). One scale
    for all of them, as in `local_position`: the parameters move together, so a ridge between
    them (the best learning rate moving with the depth) is climbed, where steps of one decision
    at a time only slide along it. Else (and with no best yet) none, and nothing is drawn."""
    if not share or not _same_choices(best, actions) or rng.uniform() >= share:
        return {}
    assert best is not None  # _same_choices is False without one
    scale = _step_scale(rng)
    return {
        t: (best.actions[t], _stepped(p, scale, rng))
        for t, p in enumerate(best.positions)
        if p is not None
    }


def _same_choices(best: BestTrial | None, actions: Sequence[int]) -> bool:
    """Whether `actions` agree with `best` on every decision it used that is not a numeric
    interval (its categorical choices, its branch): only then are its numeric values the ones
    to refine (the mixed space's best x moves with a categorical; BENCHMARKS 17)."""
    if best is None:
        return False
    return all(
        position is not None or (best.used is not None and not best.used[t]) or a == b
        for t, (position, a, b) in enumerate(
            zip(best.positions, best.actions, actions, strict=False)
        )
    )


def local_start(best: tuple[float, int] | None, rng: np.random.RandomState) -> float | None:
    """numeric_value="local": the interval's best position to draw around, or None for a uniform
    draw. After n trials in the interval, local with probability n / (n + LOCAL_HALF): a new
    interval is explored uniformly first, a well-tried one mostly refined."""
    if best is None:
        return None
    position, trials = best
    return position if rng.uniform() < trials / (trials + LOCAL_HALF) else None


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
