"""PNAS's progressive search, read from the trials in the storage (Liu et al. 2018, Alg. 1).

Stage 1 trains every 1-block cell. Stage b (2..B) expands the K best finished (b-1)-block
cells by every possible block, ranks the expansions with the predictor fitted to all results
so far and trains the K best-ranked. After stage B, mutations of the best B-block cells are
ranked the same way. The stage of the next trial is the first whose quota is not yet filled
(by trials of any state holding that size), so every worker follows one schedule.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from typing import Callable
from typing import List
from typing import Sequence
from typing import Tuple

import numpy as np
import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from .candidates import best_trials
from .candidates import mutations
from .candidates import taken
from .growth import BlockMeanEncoder
from .growth import CellGrowth
from .predictor import Ensemble
from .predictor import TokenEncoder


FitFor = Callable[[List[FrozenTrial], bool], Tuple[TokenEncoder, Ensemble]]
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class GrowthPlanner:
    """Chooses the next trial's cell by PNAS's stages."""

    def __init__(self, growth: CellGrowth, stage_beam: int, mutation_beam: int, n_candidates: int):
        self.growth = growth
        self.stage_beam, self.mutation_beam, self.n_candidates = (
            stage_beam,
            mutation_beam,
            n_candidates,
        )
        self.encoder = BlockMeanEncoder(growth)
        names = list(self.encoder.decisions)
        self._block_columns = [
            np.array([names.index(n) for n in growth.block_names(b)])
            for b in range(growth.n_blocks)
        ]
        self._first_stage = self._expand(np.full((1, len(names)), -1, dtype=np.int64), 1)
        self._finished_rows: dict[int, bytes] = {}
        self._ranking: tuple[Any, np.ndarray] = (None, np.empty((0, len(names)), dtype=np.int64))

    def quota(self, size: int) -> int:
        return len(self._first_stage) if size == 1 else self.stage_beam

    def stage(self, trials: Sequence[FrozenTrial]) -> int | None:
        """The first size whose quota is not filled yet; None once every stage is."""
        counts = Counter(t.params.get(self.growth.size_param) for t in trials)
        for size in range(1, self.growth.n_blocks + 1):
            if counts[size] < self.quota(size):
                return size
        return None

    def plan(
        self, study: optuna.Study, fit_for: FitFor, rng: np.random.RandomState
    ) -> dict[str, Any]:
        trials = study.get_trials(deepcopy=False)
        stage = self.stage(trials)
        size = stage or self.growth.n_blocks
        if stage == 1:
            ranked = self._first_stage[rng.permutation(len(self._first_stage))]
        else:
            complete = [
                t for t in trials if t.state == TrialState.COMPLETE and np.isfinite(t.value)
            ]
            parent_size = self.growth.n_blocks if stage is None else stage - 1
            parents = [t for t in complete if t.params.get(self.growth.size_param) == parent_size]
            if not parents:
                return self.growth.random_cell(size, rng)
            if stage is None:
                ranked = self._ranked_mutations(study, complete, parents, fit_for, rng)
            else:
                ranked = self._ranked_expansions(study, complete, parents, stage, fit_for)
        # Another worker may have started one of the best while this one ranked: look again.
        done, running = self._taken(study.get_trials(deepcopy=False))
        for row in ranked:
            if row.tobytes() not in done and not taken(row, running):
                return self.encoder.params(row)
        return self.growth.random_cell(size, rng)  # everything ranked is taken already

    def _ranked_expansions(
        self,
        study: optuna.Study,
        complete: list[FrozenTrial],
        parents: list[FrozenTrial],
        stage: int,
        fit_for: FitFor,
    ) -> np.ndarray:
        """The expansions of the K best parents, best predicted first; kept for the stage, as
        PNAS ranks once per step, until another parent enters the K best."""
        beam = best_trials(parents, self.stage_beam, study.direction)
        key = (stage, tuple(t.number for t in beam))
        if self._ranking[0] != key:
            rows = self._expand(self.encoder.indices([t.params for t in beam]), stage)
            self._ranking = (key, self._rank(study, rows, fit_for(complete, True)))
        return self._ranking[1]

    def _ranked_mutations(
        self,
        study: optuna.Study,
        complete: list[FrozenTrial],
        parents: list[FrozenTrial],
        fit_for: FitFor,
        rng: np.random.RandomState,
    ) -> np.ndarray:
        beam = best_trials(parents, self.mutation_beam, study.direction)
        sizes = self.encoder.sizes.copy()
        sizes[0] = 1  # the size stays B: a mutation moves block decisions only
        seen: tuple[set[bytes], np.ndarray] = (set(), np.empty((0, len(sizes)), dtype=np.int64))
        rows = mutations(
            self.encoder.indices([t.params for t in beam]), sizes, self.n_candidates, seen, rng
        )
        return self._rank(study, rows, fit_for(complete, False))

    def _rank(
        self, study: optuna.Study, rows: np.ndarray, fit: tuple[TokenEncoder, Ensemble]
    ) -> np.ndarray:
        encoder, ensemble = fit
        mean, _ = ensemble.predict(encoder.one_hot(rows))
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        return rows[np.argsort(-sign * mean, kind="stable")]

    def _expand(self, parents: np.ndarray, size: int) -> np.ndarray:
        """Every parent (a (size-1)-block cell) with every way to fill block size-1."""
        fills = self.growth.expansions(size - 1)
        rows = np.repeat(parents, len(fills), axis=0)
        rows[:, 0] = size - 1  # the size decision's choice index (choices are 1..B)
        rows[:, self._block_columns[size - 1]] = np.tile(fills, (len(parents), 1))
        return rows

    def _taken(self, trials: Sequence[FrozenTrial]) -> tuple[set[bytes], np.ndarray]:
        """Cells finished (any end state), and the rows of those being run by any worker: never
        proposed again.

        A running trial still being suggested holds only its first params (-1 for the rest),
        matched as a prefix; one that holds only its size yet takes nothing (it would take every
        cell of that size), so two asks in the same instant may rarely pick one cell twice."""
        new = [t for t in trials if t.state in _FINISHED and t.number not in self._finished_rows]
        for trial, row in zip(new, self.encoder.indices([t.params for t in new])):
            self._finished_rows[trial.number] = row.tobytes()
        running = [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
        rows = self.encoder.indices([t.params for t in running])
        return set(self._finished_rows.values()), rows[(rows >= 0).sum(1) >= 2]
