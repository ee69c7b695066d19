"""Aging evolution's steps on plain data: the population, the tournament, one mutation.

Kept apart from the sampler so that each step can be tested on hand-made trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState


@dataclass(frozen=True)
class Plan:
    """What one child inherits: the parent's params, and the one decision to re-draw.

    ``parent is None``: the child is drawn at random (the initial population).
    ``mutated is None`` with a parent: the identity mutation (an exact copy).
    """

    parent: FrozenTrial | None = None
    mutated: str | None = None


def population(study: optuna.Study, size: int) -> list[FrozenTrial]:
    """The last `size` COMPLETE trials by trial number, oldest first: the living population.

    Read from the storage on every ask, so every worker sees the same population and a
    killed worker takes nothing with it. Aging: the oldest leave, not the worst.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    complete = sorted(complete, key=lambda t: t.number)
    return complete[-size:]


def tournament(
    members: Sequence[FrozenTrial],
    sample_size: int,
    direction: StudyDirection,
    rng: np.random.RandomState,
) -> FrozenTrial:
    """The best of `sample_size` members drawn without replacement (ties: the younger wins)."""
    picks = rng.choice(len(members), size=min(sample_size, len(members)), replace=False)
    sign = 1.0 if direction == StudyDirection.MAXIMIZE else -1.0
    return max((members[i] for i in picks), key=lambda t: (sign * t.value, t.number))


def mutable_params(parent: FrozenTrial) -> list[str]:
    """The parent's categorical decisions that have another value to take, in a fixed order."""
    return sorted(
        name
        for name, d in parent.distributions.items()
        if isinstance(d, CategoricalDistribution) and len(d.choices) > 1
    )


def choose_mutation(
    parent: FrozenTrial, identity_probability: float, rng: np.random.RandomState
) -> Plan:
    names = mutable_params(parent)
    if not names or rng.uniform() < identity_probability:
        return Plan(parent, None)
    return Plan(parent, names[rng.randint(len(names))])


def inherited_value(
    plan: Plan, name: str, distribution: CategoricalDistribution, rng: np.random.RandomState
) -> tuple[bool, Any]:
    """(True, value) when the child takes this decision from its parent, (False, None) when it
    must be drawn fresh: no parent, a parameter the parent lacks (another branch of a
    define-by-run space), or a value the child's distribution does not allow."""
    if plan.parent is None or name not in plan.parent.params:
        return False, None
    value = plan.parent.params[name]
    index = _index_of(distribution.choices, value)
    if index is None:
        return False, None
    if name != plan.mutated:
        return True, distribution.choices[index]
    others = [i for i in range(len(distribution.choices)) if i != index]
    if not others:
        return True, distribution.choices[index]
    return True, distribution.choices[others[rng.randint(len(others))]]


def _index_of(choices: Sequence[Any], value: Any) -> int | None:
    for i, choice in enumerate(choices):
        # `is` for None and NaN-like choices, == for the rest; type-checked so 1 != True.
        if choice is value or (type(choice) is type(value) and choice == value):
            return i
    return None
