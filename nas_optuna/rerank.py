"""Take the winners further: retrain the top genotypes of search studies longer and larger.

The search scores each child with a cheap proxy; the paper retrained its top 250 to
convergence and picked the final cells from those. Here the top-K unique genotypes of one or
more search studies become trials of a rerank study (same storage, direction maximize), so
search and rerank results sit side by side in optuna-dashboard.

One rerank process per rerank study: a run marks trials that a killed run left RUNNING (or
WAITING) as FAIL and trains their genotypes again; COMPLETE genotypes are never retrained.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from nas_optuna._optuna_internals import claim_and_fail, set_trial_user_attr, trial_id_of
from nas_optuna.space import genotype_from_params, genotype_of_trial, params_from_genotype, space_of_params
from nas_optuna.storage_url import list_study_names

if TYPE_CHECKING:
    from nas_optuna.cost import Budget, TransferCost

SETTINGS_ATTR = "rerank_settings"
STALE_REASON = "left unfinished by an interrupted rerank run; trained again by a later run"


@dataclass(frozen=True)
class Candidate:
    """One unique genotype from the search, with the best proxy score it got there."""

    rank: int  # 1 = best search value (over all genotypes, also those over a budget)
    genotype: str
    search_value: float
    source_study: str
    source_trial: int
    params: dict[str, Any]  # the genotype's search params in the rerank space
    transfer: TransferCost | None = None  # cost at the budget's transfer configuration


@dataclass(frozen=True)
class RerankResult:
    candidate: Candidate
    value: float | None  # validation accuracy; None when training failed
    seconds: float
    trained_now: bool  # False: COMPLETE in the rerank study already
    fail_reason: str | None = None


def search_space_of(trial: FrozenTrial) -> dict[str, CategoricalDistribution]:
    """The trial's architecture decisions, with its own distributions, in nasnet_space order
    (storages need not keep the order params were suggested in, and the order matters)."""
    names = space_of_params(trial.distributions)
    if not names:
        raise ValueError(f"trial {trial.number} has no architecture parameters (normal_b0_in_a, ...)")
    return {name: trial.distributions[name] for name in names}


def top_genotypes(
    storage: BaseStorage, study_names: list[str], top_k: int, budget: Budget | None = None
) -> list[Candidate]:
    """The top_k unique genotypes by value over the COMPLETE trials of the studies named;
    with a budget, the top_k of those whose network at the budget's transfer config fits it.
    In a multi-objective study the value is the first one, the accuracy (its costs are what a
    budget is for)."""
    if top_k < 1:
        raise ValueError(f"--top-k must be >= 1, got {top_k}")
    available = list_study_names(storage)
    missing = [name for name in study_names if name not in available]
    if missing:
        raise ValueError(f"this storage has no study {missing}; studies there: {available or 'none'}")
    best: dict[str, tuple[float, str, FrozenTrial]] = {}
    for name in study_names:
        study = optuna.load_study(study_name=name, storage=storage)
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            value = trial.values[0] if trial.values else None
            if value is None or not math.isfinite(value):
                continue
            key = str(genotype_of_trial(trial.params, trial.user_attrs))
            if key not in best or value > best[key][0]:  # ties: the first one seen
                best[key] = (value, name, trial)
    if not best:
        raise ValueError(f"studies {study_names} have no COMPLETE trials with a value; nothing to rerank")
    ranked = list(enumerate(sorted(best.values(), key=lambda item: -item[0]), start=1))
    costs = {}
    if budget is not None:
        ranked, costs = _within_budget(ranked, top_k, budget)
    ranked = ranked[:top_k]
    space = search_space_of(ranked[0][1][2])
    candidates = []
    for rank, (value, name, trial) in ranked:
        genotype = genotype_of_trial(trial.params, trial.user_attrs)
        try:
            params = params_from_genotype(genotype, space)
        except ValueError as err:
            raise ValueError(
                f"{name} trial {trial.number} does not fit the search space of the best trial ({err}); "
                "rerank studies with different spaces separately"
            ) from None
        key = str(genotype_from_params(params, space))  # the string the objective will record
        candidates.append(Candidate(rank, key, value, name, trial.number, params, costs.get(rank)))
    return candidates


def _within_budget(ranked: list, top_k: int, budget: Budget) -> tuple[list, dict]:
    """The best top_k entries that fit the budget, and their costs by rank (cost is cached)."""
    from nas_optuna.cost import transfer_cost

    kept, costs = [], {}
    for rank, item in ranked:
        cost = transfer_cost(genotype_of_trial(item[2].params, item[2].user_attrs), budget.config)
        if budget.allows(cost):
            kept.append((rank, item))
            costs[rank] = cost
            if len(kept) == top_k:
                break
    if not kept:
        raise ValueError(
            f"none of the {len(ranked)} genotypes fits the budget ({budget.describe()}); "
            "raise --max-mult-adds / --max-params"
        )
    return kept, costs


def open_rerank_study(
    storage: BaseStorage, name: str, settings: Mapping[str, Any], sources: list[str]
) -> optuna.Study:
    """Create the rerank study, or reopen it when it was made with the same settings."""
    if name in sources:
        raise ValueError(f"--out-study {name!r} is one of the search studies; pick another name")
    settings = dict(settings)
    if name in list_study_names(storage):
        study = optuna.load_study(study_name=name, storage=storage, **_no_search())
        stored = study.user_attrs.get(SETTINGS_ATTR)
        if stored is None:
            raise ValueError(f"study {name!r} exists and is not a rerank study; pass another --out-study")
        if stored != settings:
            changed = sorted(k for k in settings.keys() | stored.keys() if stored.get(k) != settings.get(k))
            diff = ", ".join(f"{k}: {stored.get(k)!r} there, {settings.get(k)!r} now" for k in changed)
            raise ValueError(
                f"rerank study {name!r} was made with other settings ({diff}); "
                "rerun with those settings, or pass a new --out-study"
            )
    else:
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize", **_no_search())
        study.set_user_attr(SETTINGS_ATTR, settings)
    known = list(study.user_attrs.get("source_studies", []))
    study.set_user_attr("source_studies", known + [s for s in sources if s not in known])
    return study


def _no_search() -> dict[str, Any]:
    # Every rerank trial is enqueued with all its params, so the sampler is never asked for
    # one; and no pruner: a rerank trial must not be stopped for trailing another genotype.
    return {"sampler": optuna.samplers.RandomSampler(seed=0), "pruner": optuna.pruners.NopPruner()}


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Mark trials an interrupted run left RUNNING or WAITING as FAIL; their numbers."""
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        try:
            set_trial_user_attr(study, trial_id_of(study, trial), "fail_reason", STALE_REASON)
        except UpdateFinishedTrialError:
            continue  # it finished meanwhile
        if claim_and_fail(study, trial_id_of(study, trial)):
            failed.append(trial.number)
    return failed


def rerank(
    study: optuna.Study,
    candidates: list[Candidate],
    objective: Callable[[optuna.Trial], float],
    on_result: Callable[[RerankResult], None] = lambda result: None,
    catch: tuple[type[Exception], ...] = (),
) -> list[RerankResult]:
    """Train every candidate not COMPLETE in ``study`` yet, one enqueued trial each."""
    fail_stale_trials(study)
    done = {
        t.user_attrs.get("genotype"): t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    }
    results = []
    for candidate in candidates:
        trial = done.get(candidate.genotype)
        trained_now = trial is None
        if trained_now:
            trial = _train(study, candidate, objective, catch)
        result = _result(candidate, trial, trained_now)
        on_result(result)
        results.append(result)
    return results


def _train(study, candidate: Candidate, objective, catch) -> FrozenTrial:
    """One enqueued trial: the study has no other WAITING trial, so optimize runs this one."""
    study.enqueue_trial(
        candidate.params,
        user_attrs={
            "source_study": candidate.source_study,
            "source_trial": candidate.source_trial,
            "search_value": candidate.search_value,
        },
    )
    finished: list[FrozenTrial] = []
    study.optimize(objective, n_trials=1, catch=catch, callbacks=[lambda _, t: finished.append(t)])
    return finished[0]


def _result(candidate: Candidate, trial: FrozenTrial, trained_now: bool) -> RerankResult:
    seconds = float(trial.user_attrs.get("train_seconds", 0.0))
    if trial.state == TrialState.COMPLETE:
        return RerankResult(candidate, float(trial.value), seconds, trained_now)
    reason = str(trial.user_attrs.get("fail_reason", trial.state.name))
    return RerankResult(candidate, None, seconds, trained_now, reason)


def spearman(results: list[RerankResult]) -> tuple[float, float] | None:
    """Spearman rank correlation (rho, p) of search value vs rerank accuracy; None below 3 points."""
    from scipy.stats import spearmanr

    pairs = [(r.candidate.search_value, r.value) for r in results if r.value is not None]
    if len(pairs) < 3:
        return None
    rho, p = spearmanr([a for a, _ in pairs], [b for _, b in pairs])
    return (float(rho), float(p)) if math.isfinite(rho) else None
