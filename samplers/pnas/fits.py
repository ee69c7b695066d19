"""The predictor of each study, refitted as results come in, not at every ask."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Sequence

import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.trial import FrozenTrial

from .growth import BlockMeanEncoder
from .growth import CellGrowth
from .predictor import Ensemble
from .predictor import TokenEncoder


@dataclass
class Fit:
    n_complete: int
    names: tuple[str, ...]
    encoder: TokenEncoder
    ensemble: Ensemble
    done_rows: dict[int, bytes]  # finished trials' rows under this encoder, by trial number


@dataclass
class FitCache:
    """One `Fit` per study. Refitted after ``refit_every`` new results, or 10% more once that is
    more (a few dozen fits per run), or at any new result when asked for a ``fresh`` one."""

    ensemble_size: int
    hidden_size: int
    fit_steps: int
    refit_every: int
    growth: CellGrowth | None = None
    _fits: dict[str, Fit] = field(default_factory=dict)

    def get(
        self,
        study_name: str,
        complete: Sequence[FrozenTrial],
        decisions: dict[str, CategoricalDistribution],
        rng: np.random.RandomState,
        fresh: bool = False,
    ) -> Fit:
        fit = old = self._fits.get(study_name)
        names = tuple(decisions)
        due = max(self.refit_every, fit.n_complete // 10) if fit is not None else 0
        due = min(due, 1) if fresh else due
        if fit is not None and fit.names == names and len(complete) - fit.n_complete < due:
            return fit
        encoder = TokenEncoder(decisions) if self.growth is None else BlockMeanEncoder(self.growth)
        ensemble = Ensemble(
            encoder.width, size=self.ensemble_size, hidden=self.hidden_size, steps=self.fit_steps,
            seed=int(rng.randint(2**31)),
        )  # fmt: skip
        x = encoder.encode([t.params for t in complete])
        y = np.array([t.value for t in complete], dtype=np.float64)
        ensemble.fit(x, y, folds=np.array([t.number for t in complete]))
        done_rows = old.done_rows if old is not None and old.names == names else {}
        fit = Fit(len(complete), names, encoder, ensemble, done_rows)
        self._fits[study_name] = fit
        return fit
