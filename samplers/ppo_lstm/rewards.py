"""A trial's reward: its value, or on a multi-objective study a declared scalarization of its values.

PPO learns from one number per trial. On a study with several objectives the user declares how
the values become that number, with ``PPOLSTMSampler(scalarization=...)``:

- weights ``[w_1, ..., w_k]``: reward = sum of w_i * v_i, each value counted in its better
  direction (a value the study minimises enters negated), e.g. ``[1.0, 1e-7]`` on
  (accuracy %, multiply-adds) costs one accuracy point per 10M multiply-adds;
- a callable ``values -> float``, given the values as the study stores them; larger is better.

Without one, the sampler refuses a multi-objective study with a message naming the argument.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import math
from typing import Union

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState


Scalarization = Union[Sequence[float], Callable[[Sequence[float]], float], None]


def check_scalarization(scalarization: Scalarization) -> None:
    """ValueError for weights that are not finite numbers (a callable is taken as it is)."""
    if scalarization is None or callable(scalarization):
        return
    if isinstance(scalarization, str | bytes) or not isinstance(scalarization, Sequence):
        raise ValueError(
            f"scalarization must be a list of weights (one per objective) or a callable "
            f"values -> float, got {scalarization!r}"
        )
    for w in scalarization:
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
            raise ValueError(
                f"scalarization weights must be finite numbers, got {list(scalarization)!r}"
            )
    if len(scalarization) < 2:
        raise ValueError(
            f"scalarization {list(scalarization)!r}: give one weight per objective (2 or more)"
        )


def check_study(study: optuna.Study, scalarization: Scalarization) -> None:
    """ValueError when the study has several objectives and no (fitting) scalarization."""
    n = len(study.directions)
    if scalarization is None and n > 1:
        raise ValueError(
            f"PPOLSTMSampler learns from one value per trial; this study has {n} objectives. "
            "Pass scalarization=[w_1, ..., w_k] (weights, each value counted in its better "
            "direction) or scalarization=callable(values) -> float, or use another sampler."
        )
    if scalarization is not None and not callable(scalarization) and len(scalarization) != n:
        raise ValueError(
            f"scalarization has {len(scalarization)} weights, but this study has {n} objectives"
        )


def scalarize(
    values: Sequence[float], directions: Sequence[StudyDirection], scalarization: Scalarization
) -> float:
    """One number to maximise from a trial's values."""
    if len(values) == 1 and scalarization is None:
        return values[0] if directions[0] == StudyDirection.MAXIMIZE else -values[0]
    if callable(scalarization):
        return float(scalarization(list(values)))
    if scalarization is None:
        raise ValueError("several objective values but no scalarization")
    signs = [1.0 if d == StudyDirection.MAXIMIZE else -1.0 for d in directions]
    return float(sum(w * s * v for w, s, v in zip(scalarization, signs, values, strict=True)))


def reward_of(
    trial: FrozenTrial, directions: Sequence[StudyDirection], scalarization: Scalarization
) -> float | None:
    """The reward of a finished trial (pruned: its last reported value); None when it has none."""
    return reward_at(trial.state, trial.values, trial, directions, scalarization)


def reward_at(
    state: TrialState,
    final: Sequence[float] | None,
    trial: FrozenTrial,
    directions: Sequence[StudyDirection],
    scalarization: Scalarization,
) -> float | None:
    """`reward_of` for a trial finishing with `state` and `final` values, before the storage
    holds them (a sampler's after_trial)."""
    values = None
    if state == TrialState.COMPLETE:
        values = final
    elif state == TrialState.PRUNED and trial.intermediate_values:
        values = [trial.intermediate_values[max(trial.intermediate_values)]]
    if not values or not all(v is not None and math.isfinite(v) for v in values):
        return None
    reward = scalarize(values, directions[: len(values)], scalarization)
    return reward if math.isfinite(reward) else None
