"""Candidate architectures for the predictor to rank: mutations of the best finished trials."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from .predictor import TokenEncoder


def decisions_of(trials: Iterable[FrozenTrial]) -> dict[str, CategoricalDistribution]:
    """Every categorical decision the trials hold, in order of first appearance (by trial number)."""
    found: dict[str, CategoricalDistribution] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        for name, d in trial.distributions.items():
            if isinstance(d, CategoricalDistribution) and len(d.choices) > 1:
                found.setdefault(name, d)
    return found


def best_trials(complete: Sequence[FrozenTrial], n: int, direction: StudyDirection) -> list[FrozenTrial]:
    sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
    return sorted(complete, key=lambda t: (sign * t.value, -t.number))[:n]


def seen_rows(study: optuna.Study, encoder: TokenEncoder) -> tuple[set[bytes], np.ndarray]:
    """Architectures tried (finished) and being tried (by any worker): never proposed again.

    A running trial may hold only its first params yet (define-by-run writes them one by one),
    so those come back as rows with -1 for the missing decisions, matched as prefixes."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    partial = encoder.indices([t.params for t in running])
    return {row.tobytes() for row in encoder.indices([t.params for t in done])}, partial[
        (partial >= 0).any(1)
    ]


def taken(child: np.ndarray, partial: np.ndarray) -> bool:
    """True when a running trial's params so far are those of `child`."""
    return bool(len(partial)) and bool(((partial < 0) | (partial == child)).all(1).any())


def mutations(
    parents: np.ndarray,
    sizes: np.ndarray,
    count: int,
    seen: tuple[set[bytes], np.ndarray],
    rng: np.random.RandomState,
) -> np.ndarray:
    """Up to `count` new rows of choice indices, each a parent row with one or two decisions
    (among those it has) moved to another choice."""
    out: dict[bytes, np.ndarray] = {}
    for _ in range(4 * count):  # duplicates and seen ones are skipped: a few more tries
        if len(out) >= count:
            break
        child = parents[rng.randint(len(parents))].copy()
        present = np.flatnonzero((child >= 0) & (sizes > 1))
        if len(present) == 0:
            break
        for j in rng.choice(present, size=min(len(present), 1 + int(rng.uniform() < 0.5)), replace=False):
            child[j] = (child[j] + 1 + rng.randint(sizes[j] - 1)) % sizes[j]  # any other choice
        k = child.tobytes()
        if k not in seen[0] and k not in out and not taken(child, seen[1]):
            out[k] = child
    return np.array(list(out.values()), dtype=np.int64).reshape(-1, len(sizes))
