"""PNASSampler: predictor-guided search after PNAS (Liu et al. 2018), as an Optuna sampler."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
import threading
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from .candidates import mutations
from .candidates import seen_rows
from .candidates import taken
from .fits import Fit
from .fits import FitCache
from .growth import CellGrowth
from .ledger import RUNNING
from .ledger import TrialLedger
from .predictor import Ensemble
from .predictor import TokenEncoder
from .progressive import GrowthPlanner


_logger = optuna.logging.get_logger(__name__)
_MAX_OPEN_PLANS = 4096


class PNASSampler(BaseSampler):
    """Ranks candidate architectures with an ensemble of MLP regressors fitted to the finished trials.

    Trials numbered below ``n_startup_trials`` are random. Afterwards, each ask refits the
    ensemble (5 MLPs, each on a different 4/5 of the COMPLETE trials, L1 loss, as in PNAS) once
    ``refit_every`` new results have come in, makes ``n_candidates`` mutations (one or two
    decisions re-drawn) of the ``beam_size`` best trials, drops those already tried or being
    tried by any worker, and proposes the one with the best predicted value. Its state is the
    trials in the storage, so workers share one search. Numeric parameters go to
    ``independent_sampler``.

    With ``growth`` (a `CellGrowth`), it runs PNAS's progressive search on that conditional
    space instead (`progressive.GrowthPlanner`): every 1-block cell, then stage by stage the
    ``growth_beam_size`` best-predicted one-block expansions of the best cells of the last size.
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 20,
        beam_size: int = 10,
        n_candidates: int = 200,
        ensemble_size: int = 5,
        hidden_size: int = 32,
        fit_steps: int = 100,
        refit_every: int = 10,
        growth: CellGrowth | None = None,
        growth_beam_size: int = 16,
        independent_sampler: BaseSampler | None = None,
        seed: int | None = None,
    ) -> None:
        for name, value, low in (
            ("n_startup_trials", n_startup_trials, 2), ("beam_size", beam_size, 1),
            ("n_candidates", n_candidates, 1), ("ensemble_size", ensemble_size, 1),
            ("hidden_size", hidden_size, 1), ("fit_steps", fit_steps, 1), ("refit_every", refit_every, 1),
            ("growth_beam_size", growth_beam_size, 1),
        ):  # fmt: skip
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        self.n_startup_trials, self.beam_size = n_startup_trials, beam_size
        self.n_candidates = n_candidates
        if growth is not None and not isinstance(growth, CellGrowth):
            raise ValueError(f"growth must be a CellGrowth (or None), got {type(growth).__name__}")
        self.growth, self.growth_beam_size = growth, growth_beam_size
        self._planners: dict[str, GrowthPlanner] = {}
        self._ledgers: dict[str, TrialLedger] = {}
        self._rng = np.random.RandomState(seed)
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._fits = FitCache(ensemble_size, hidden_size, fit_steps, refit_every, growth)
        self._plans: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._warned_numeric = False
        self._lock = threading.Lock()

    # -- Optuna's sampler interface -------------------------------------------------------------

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        _single_objective_only(study)
        return {}  # decided per parameter name, so define-by-run spaces work as they come

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        _single_objective_only(study)
        return {
            name: self.sample_independent(study, trial, name, d)
            for name, d in search_space.items()
        }

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        _single_objective_only(study)
        if not isinstance(param_distribution, CategoricalDistribution):
            self._warn_numeric_once(param_name)
            return self._independent.sample_independent(
                study, trial, param_name, param_distribution
            )
        with self._lock:
            plan = self._plan_for(study, trial)
            if param_name in plan:
                value = plan[param_name]
                if any(_same(c, value) for c in param_distribution.choices):
                    return value
            return param_distribution.choices[self._rng.randint(len(param_distribution.choices))]

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        with self._lock:
            self._plans.pop((study.study_name, trial.number), None)
        self._independent.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._independent.reseed_rng()

    # -- public extras --------------------------------------------------------------------------

    def predict(
        self, study: optuna.Study, params: Sequence[dict[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ensemble's mean and spread for architectures (fitted on the study now if needed)."""
        with self._lock:
            ledger = self._ledger(study)
            ledger.update(study.get_trials(deepcopy=False))
            if len(ledger.complete) < 2:
                raise ValueError(
                    "the predictor needs at least 2 COMPLETE trials; run some trials first"
                )
            fit = self._fit_for(study, ledger.complete, self._decisions(ledger))
            return fit.ensemble.predict(fit.encoder.encode(params))

    # -- internals ------------------------------------------------------------------------------

    def _plan_for(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
        key = (study.study_name, trial.number)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._make_plan(study, trial)
            self._plans[key] = plan
            while len(self._plans) > _MAX_OPEN_PLANS:
                self._plans.popitem(last=False)
        return plan

    def _make_plan(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
        if self.growth is not None:
            return self._growth_plan(study)
        if trial.number < self.n_startup_trials:
            return {}
        ledger = self._ledger(study)
        running = ledger.update(study.get_trials(deepcopy=False))  # one read per ask
        complete, decisions = ledger.complete, self._decisions(ledger)
        if len(complete) < 2 or not decisions:
            return {}
        fit = self._fit_for(study, complete, decisions)
        parents = fit.encoder.indices([t.params for t in ledger.best(self.beam_size)])
        seen = seen_rows(ledger.finished, running, fit.encoder, fit.done_rows)
        candidates = mutations(parents, fit.encoder.sizes, self.n_candidates, seen, self._rng)
        if len(candidates) == 0:
            return {}  # every neighbour of the beam is taken: a random architecture
        mean, _ = fit.ensemble.predict(fit.encoder.one_hot(candidates))
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        # Another worker may have started one of the best meanwhile: look again, take the best left.
        running = study.get_trials(deepcopy=False, states=RUNNING)
        done, partial = seen_rows(ledger.finished, running, fit.encoder, fit.done_rows)
        for i in np.argsort(-sign * mean, kind="stable"):
            if candidates[i].tobytes() not in done and not taken(candidates[i], partial):
                return fit.encoder.params(candidates[i])
        return {}

    def _growth_plan(self, study: optuna.Study) -> dict[str, Any]:
        growth = self.growth
        assert growth is not None
        planner = self._planners.get(study.study_name)
        if planner is None:
            planner = GrowthPlanner(
                growth, self.growth_beam_size, self.beam_size, self.n_candidates
            )
            self._planners[study.study_name] = planner

        def fit_for(complete: list[FrozenTrial], fresh: bool) -> tuple[TokenEncoder, Ensemble]:
            fit = self._fit_for(study, complete, growth.decisions(), fresh)
            return fit.encoder, fit.ensemble

        return planner.plan(study, fit_for, self._rng)

    def _ledger(self, study: optuna.Study) -> TrialLedger:
        ledger = self._ledgers.get(study.study_name)
        if ledger is None:
            ledger = self._ledgers[study.study_name] = TrialLedger(study.direction)
        return ledger

    def _decisions(self, ledger: TrialLedger) -> dict:
        """The predictor's decisions: the growth's, or every categorical one the trials hold."""
        return ledger.decisions if self.growth is None else self.growth.decisions()

    def _fit_for(
        self,
        study: optuna.Study,
        complete: list[FrozenTrial],
        decisions: dict,
        fresh: bool = False,
    ) -> Fit:
        return self._fits.get(study.study_name, complete, decisions, self._rng, fresh)

    def _warn_numeric_once(self, name: str) -> None:
        if not self._warned_numeric:
            self._warned_numeric = True
            _logger.warning(
                f"PNASSampler predicts from categorical parameters only; {name!r} and other numeric "
                f"ones go to {type(self._independent).__name__}"
            )

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _single_objective_only(study: optuna.Study) -> None:
    if len(study.directions) > 1:
        raise ValueError(
            "PNASSampler predicts one objective value per trial; this study has "
            f"{len(study.directions)} objectives. Use a single-objective study or another sampler."
        )


def _same(choice: Any, value: Any) -> bool:
    return choice is value or (type(choice) is type(value) and choice == value)
