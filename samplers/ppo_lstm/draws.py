"""Where inside the interval the policy chose a numeric value is drawn (`numeric_value`).

"uniform": anywhere in it; "centre": its middle; "local": mostly around the best value seen in
that interval, with steps from a third of a percent to half of its width, so the search refines
below an interval's width. Such a step may cross into the neighbouring interval; that trial's
actions then differ from its rollout's, and like an enqueued trial it is not in PPO's ratio
(lineage.py) but counts everywhere else (baseline, visits, elites, best positions). With
`refine_best`, a share of the trials instead take the best trial's numeric values and move them
all by one joint step.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import numpy as np

from .memory import BestTrial
from .space import Space
from .space import value_of


NUMERIC_VALUES = ("uniform", "centre", "local")
LOCAL_HALF = 5  # numeric_value="local": trials in an interval before half its draws are local


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
        if t in stepped:  # then its own local step, as any local draw (BENCHMARKS 18)
            interval, position = stepped[t]
            values[name] = value_of(d, interval, bins, rng, local_position(position, rng))
            continue
        near = local_start(best_of(t, a), rng) if numeric_value == "local" else None
        at = None if near is None else local_position(near, rng)
        values[name] = value_of(d, a, bins, rng, 0.5 if numeric_value == "centre" else at)
    return values


def step_from_best(
    best: BestTrial | None, actions: Sequence[int], share: float, rng: np.random.RandomState
) -> dict[int, tuple[int, float]]:
    """If `actions` make the best trial's choices, with probability `share`: every numeric
    decision the best trial used, as (its interval, a position around its value; `values_of`
    then draws around that position as around an interval's best). One scale
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
