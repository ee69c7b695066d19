"""Candidate architectures for the predictor to rank: mutations of the best finished trials."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
import heapq

import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from .predictor import TokenEncoder


def decisions_of(trials: Iterable[FrozenTrial]) -> dict[str, CategoricalDistribution]:
    """Every categorical decision the trials hold, in order of first appearance (by trial number)."""
    found: dict[str, CategoricalDistribution] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        for name, d in trial.distributions.items():
            if isinstance(d, CategoricalDistribution) and len(d.choices) > 1:
                found.setdefault(name, d)
    return found


def best_trials(
    complete: Sequence[FrozenTrial], n: int, direction: StudyDirection
) -> list[FrozenTrial]:
    """The n best (ties: the latest first); a heap, so an ask costs O(N), not a sort."""
    sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
    return heapq.nsmallest(n, complete, key=lambda t: (sign * t.value, -t.number))


def seen_rows(
    finished: Sequence[FrozenTrial],
    running: Sequence[FrozenTrial],
    encoder: TokenEncoder,
    done_cache: dict[int, bytes],
) -> tuple[set[bytes], np.ndarray]:
    """Architectures tried (finished) and being tried (by any worker): never proposed again.

    `done_cache` keeps the rows of finished trials by number (they never change), so an ask
    encodes only the trials finished since the last one. A running trial may hold only its
    first params yet (define-by-run writes them one by one), so those come back as rows with
    -1 for the missing decisions, matched as prefixes."""
    new = finished[len(done_cache) :]  # `finished` only grows, in the order rows were cached
    for trial, row in zip(new, encoder.indices([t.params for t in new]), strict=True):
        done_cache[trial.number] = row.tobytes()
    partial = encoder.indices([t.params for t in running])
    return set(done_cache.values()), partial[(partial >= 0).any(1)]


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
    (among those it has) moved to another choice; drawn 4x over at once, then filtered."""
    n = 4 * count
    children = parents[rng.randint(len(parents), size=n)].copy()
    eligible = (children >= 0) & (sizes > 1)[None, :]
    keys = np.where(eligible, rng.uniform(size=children.shape), -1.0)
    order = np.argsort(-keys, axis=1)[:, :2]  # two random eligible decisions per child
    rows = np.arange(n)
    second = (rng.uniform(size=n) < 0.5) & (keys[rows, order[:, 1 % order.shape[1]]] >= 0)
    for column, use in ((0, keys[rows, order[:, 0]] >= 0), (1 % order.shape[1], second)):
        r, j = rows[use], order[use, column]
        children[r, j] = (children[r, j] + 1 + rng.randint(0, sizes[j] - 1)) % sizes[
            j
        ]  # another choice
    moved = keys[rows, order[:, 0]] >= 0
    out: dict[bytes, np.ndarray] = {}
    for child in children[moved]:
        k = child.tobytes()
        if k not in seen[0] and k not in out and not taken(child, seen[1]):
            out[k] = child
            if len(out) >= count:
                break
    return np.array(list(out.values()), dtype=np.int64).reshape(-1, len(sizes))
