"""RegularizedEvolutionSampler: aging evolution (Real et al. 2019, AmoebaNet) as an Optuna sampler."""

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

from .evolution import choose_mutation
from .evolution import inherited_value
from .evolution import Plan
from .evolution import population
from .evolution import tournament


_logger = optuna.logging.get_logger(__name__)

# Published protocol (Real et al. 2019, CIFAR-10 on the NASNet space, 20,000 models).
PAPER_SETTINGS = {"population_size": 100, "sample_size": 25}
# Plans of trials still being sampled; a bound in case a caller never finishes its trials.
_MAX_OPEN_PLANS = 4096


class RegularizedEvolutionSampler(BaseSampler):
    """Aging evolution on the categorical parameters of any single-objective study.

    Each ask reads the population from the storage: the last ``population_size`` COMPLETE
    trials by trial number. Trials numbered below ``population_size`` are random (the initial
    population). Every later child copies the best of ``sample_size`` members drawn at random
    and re-draws one categorical decision to a different value (with ``identity_probability``,
    none: an exact copy). Decisions the parent lacks (a define-by-run branch it did not take)
    are drawn at random. Numeric parameters go to ``independent_sampler``.

    Defaults (P=20, S=5) were measured for searches of hundreds of trials (README: Results);
    ``RegularizedEvolutionSampler.paper()`` is the published P=100, S=25.
    """

    def __init__(
        self,
        *,
        population_size: int = 20,
        sample_size: int = 5,
        identity_probability: float = 0.0,
        independent_sampler: BaseSampler | None = None,
        seed: int | None = None,
    ) -> None:
        if not isinstance(population_size, int) or population_size < 2:
            raise ValueError(f"population_size must be an integer >= 2, got {population_size!r}")
        if not isinstance(sample_size, int) or not 1 <= sample_size <= population_size:
            raise ValueError(
                f"sample_size must be an integer in [1, population_size={population_size}], "
                f"got {sample_size!r}"
            )
        if not 0.0 <= identity_probability <= 1.0:
            raise ValueError(
                f"identity_probability must be in [0, 1], got {identity_probability!r}"
            )
        self.population_size = population_size
        self.sample_size = sample_size
        self.identity_probability = float(identity_probability)
        self._rng = np.random.RandomState(seed)
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._plans: OrderedDict[tuple[str, int], Plan] = OrderedDict()
        self._warned_numeric = False
        self._lock = threading.Lock()

    @classmethod
    def paper(cls, **kwargs: Any) -> RegularizedEvolutionSampler:
        """The published protocol: population 100, tournament 25 (for searches of thousands)."""
        return cls(**{**PAPER_SETTINGS, **kwargs})

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
            found, value = inherited_value(plan, param_name, param_distribution, self._rng)
            if found:
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

    def parent_of(self, study: optuna.Study, trial: FrozenTrial) -> FrozenTrial | None:
        """The parent chosen for a trial still being sampled by this process (None: random)."""
        with self._lock:
            plan = self._plans.get((study.study_name, trial.number))
        return None if plan is None else plan.parent

    # -- internals ------------------------------------------------------------------------------

    def _plan_for(self, study: optuna.Study, trial: FrozenTrial) -> Plan:
        """One plan per trial, made at its first categorical suggest: the population then."""
        key = (study.study_name, trial.number)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._make_plan(study, trial)
            self._plans[key] = plan
            while len(self._plans) > _MAX_OPEN_PLANS:
                self._plans.popitem(last=False)
        return plan

    def _make_plan(self, study: optuna.Study, trial: FrozenTrial) -> Plan:
        if trial.number < self.population_size:
            return Plan()
        members = population(study, self.population_size)
        if not members:  # every earlier trial failed: keep exploring
            return Plan()
        parent = tournament(members, self.sample_size, study.direction, self._rng)
        return choose_mutation(parent, self.identity_probability, self._rng)

    def _warn_numeric_once(self, name: str) -> None:
        if not self._warned_numeric:
            self._warned_numeric = True
            _logger.warning(
                f"RegularizedEvolutionSampler evolves categorical parameters only; {name!r} and other "
                f"numeric ones go to {type(self._independent).__name__}"
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
            "RegularizedEvolutionSampler ranks trials by one objective value; this study has "
            f"{len(study.directions)} objectives. Use a single-objective study or another sampler."
        )
