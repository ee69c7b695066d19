"""Accuracy against cost: Pareto fronts, exact 2-D hypervolume, the best network under a budget.

Points are (cost, accuracy): cost minimised (multiply-adds), accuracy maximised. Optuna's
hypervolume code is private (optuna._hypervolume), and in two dimensions the exact value is a
sort and a sum, so it is computed here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

Point = tuple[float, float]  # (cost, accuracy)


def pareto_front(points: Iterable[Point]) -> list[Point]:
    """The points no other point dominates, by increasing cost (and so increasing accuracy).

    Of equal points one is kept; a point is dominated when another costs no more and is no less
    accurate, and is strictly better in one of the two.
    """
    front: list[Point] = []
    for cost, accuracy in sorted(set(points), key=lambda p: (p[0], -p[1])):
        if not front or accuracy > front[-1][1]:
            front.append((cost, accuracy))
    return front


def hypervolume(front: Sequence[Point], reference: Point) -> float:
    """Area dominated by the points and bounded by ``reference`` = (worst cost, worst accuracy).

    Points beyond the reference (costlier, or less accurate) add nothing. Sweeping by cost, the
    strip from one front point's cost to the next is as tall as that point's accuracy is above
    the reference's.
    """
    ref_cost, ref_accuracy = reference
    inside = pareto_front((c, a) for c, a in front if c < ref_cost and a > ref_accuracy)
    area = 0.0
    next_costs = [c for c, _ in inside[1:]] + [ref_cost]
    for (cost, accuracy), next_cost in zip(inside, next_costs[: len(inside)], strict=True):
        area += (next_cost - cost) * (accuracy - ref_accuracy)
    return area


class FrontTracker:
    """The front and its hypervolume after each added point, without recomputing from scratch
    (a front stays small, so each step costs O(front), not O(points))."""

    def __init__(self, reference: Point) -> None:
        self.reference = reference
        self.front: list[Point] = []
        self.volume = 0.0

    def add(self, point: Point) -> float:
        cost, accuracy = point
        i = bisect.bisect_right(self.front, (cost, float("inf")))
        if i and self.front[i - 1][1] >= accuracy:  # a cheaper-or-equal point is as accurate
            return self.volume
        keep = [p for p in self.front[i:] if p[1] > accuracy]  # costlier ones must be more accurate
        self.front = [*self.front[:i], point, *keep]
        if i and self.front[i - 1][0] == cost:  # same cost, less accurate: replaced
            del self.front[i - 1]
        self.volume = hypervolume(self.front, self.reference)
        return self.volume


def hypervolume_curve(points: Sequence[Point], reference: Point) -> list[float]:
    """Hypervolume of the first n points, for n = 1 .. len(points)."""
    tracker = FrontTracker(reference)
    return [tracker.add(p) for p in points]


def best_under_budget(items: Iterable[tuple[float, float, object]], budget: float):
    """The most accurate (cost, accuracy, item) costing at most ``budget``; None if none does.

    Ties in accuracy go to the cheaper one."""
    within = [it for it in items if it[0] <= budget]
    return max(within, key=lambda it: (it[1], -it[0]), default=None)
