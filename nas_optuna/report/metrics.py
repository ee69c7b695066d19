"""Numbers behind the report: top-k curves over unique architectures and the sampler comparison.

A genotype sampled more than once counts once, with its best reward so far (the paper's
Fig. 6 plots "unique models"; the report says which value it keeps).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from nas_optuna.report.data import StudyRun, TrialRecord

TOP_KS = (1, 5, 25)


def top_k_curves(trials: list[TrialRecord], ks: tuple[int, ...] = TOP_KS) -> dict[int, np.ndarray]:
    """For each k: mean reward of the k best unique genotypes after each trial (NaN until k exist)."""
    k_max = max(ks)
    best: dict[str, float] = {}
    leaders: list[tuple[float, str]] = []  # the k_max best (value, genotype), best first
    curves = {k: np.full(len(trials), np.nan) for k in ks}
    for i, trial in enumerate(trials):
        old = best.get(trial.genotype, -math.inf)
        if trial.value > old:
            # Bests only rise, so a genotype that left the leaders returns only through this update.
            best[trial.genotype] = trial.value
            leaders = [entry for entry in leaders if entry[1] != trial.genotype]
            leaders.append((trial.value, trial.genotype))
            leaders.sort(key=lambda entry: -entry[0])
            del leaders[k_max:]
        for k in ks:
            if len(leaders) >= k:
                curves[k][i] = float(np.mean([v for v, _ in leaders[:k]]))
    return curves


def unique_best(trials: list[TrialRecord]) -> list[TrialRecord]:
    """The best trial of each genotype, best first."""
    best: dict[str, TrialRecord] = {}
    for trial in trials:
        if trial.genotype not in best or trial.value > best[trial.genotype].value:
            best[trial.genotype] = trial
    return sorted(best.values(), key=lambda t: -t.value)


def top_k_mean(trials: list[TrialRecord], k: int) -> float:
    ranked = unique_best(trials)
    return float(np.mean([t.value for t in ranked[:k]])) if len(ranked) >= k else math.nan


def common_budget(runs: list[StudyRun]) -> int:
    """Completed trials every started study has reached: samplers are compared at this many.

    A study with no completed trial yet (queued behind others) is left out rather than
    pulling the comparison down to zero trials."""
    return min((len(r.trials) for r in runs if r.trials), default=0)


@dataclass(frozen=True)
class SamplerSummary:
    sampler: str
    n_seeds: int
    n_trials: int  # trials per seed used for the comparison (the common budget)
    completed: tuple[int, ...]  # completed trials per seed, all of them
    best: tuple[float, ...]  # per seed, at the common budget
    top5: tuple[float, ...]
    top25: tuple[float, ...]
    hypervolume: tuple[float, ...] = ()  # per seed, when trials record a cost (pareto_figures)


def summarize(grouped: dict[str, list[StudyRun]], n_trials: int) -> list[SamplerSummary]:
    summaries = []
    for sampler, runs in grouped.items():
        cut = [r.trials[:n_trials] for r in runs]
        summaries.append(
            SamplerSummary(
                sampler=sampler,
                n_seeds=len(runs),
                n_trials=n_trials,
                completed=tuple(len(r.trials) for r in runs),
                best=tuple(top_k_mean(t, 1) for t in cut),
                top5=tuple(top_k_mean(t, 5) for t in cut),
                top25=tuple(top_k_mean(t, 25) for t in cut),
            )
        )
    return summaries


def mean_and_spread(values: tuple[float, ...]) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds, ignoring NaN (spread 0 with one seed)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    return float(np.mean(finite)), float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0


def format_budget(budget: object) -> str:
    """A study's budget attr as people write it: "n_trials 30, device_seconds 3600" (unset ones
    left out), "none" when the study records none."""
    if budget is None:
        return "none"
    if isinstance(budget, dict):
        shown = {k: f"{v:,}" if isinstance(v, int) else str(v) for k, v in budget.items() if v is not None}
        return ", ".join(f"{k} {v}" for k, v in shown.items()) or "none"
    return str(budget)


def format_mean_sd(values: tuple[float, ...]) -> str:
    mean, sd = mean_and_spread(values)
    return "n/a" if math.isnan(mean) else f"{mean:.4f} ± {sd:.4f}"


@dataclass(frozen=True)
class Comparison:
    sampler_a: str
    sampler_b: str
    metric: str
    p_value: float | None  # None when there are too few seeds to test at all
    smallest_possible_p: float | None
    note: str


def compare_samplers(
    summaries: list[SamplerSummary], metrics: tuple[str, ...] = ("best", "top5")
) -> list[Comparison]:
    """Two-sided Mann-Whitney U between every pair of samplers on per-seed metrics.

    With n1 and n2 seeds the exact test can never give p below 2 / C(n1+n2, n1), so a pair
    with too few seeds is reported as untestable at the 5% level rather than as "no difference".
    """
    results = []
    for a, b in itertools.combinations(summaries, 2):
        for metric in metrics:
            xs = [v for v in getattr(a, metric) if math.isfinite(v)]
            ys = [v for v in getattr(b, metric) if math.isfinite(v)]
            if len(xs) < 2 or len(ys) < 2:
                note = f"too few seeds ({len(xs)} vs {len(ys)}); the test needs at least 2 per sampler"
                results.append(Comparison(a.sampler, b.sampler, metric, None, None, note))
                continue
            floor = 2.0 / math.comb(len(xs) + len(ys), len(xs))
            p = float(stats.mannwhitneyu(xs, ys, alternative="two-sided").pvalue)
            note = (
                f"too few seeds to reach p < 0.05 (smallest possible p = {floor:.3f}); run more seeds"
                if floor >= 0.05
                else ("significant at 5%" if p < 0.05 else "not significant at 5%")
            )
            results.append(Comparison(a.sampler, b.sampler, metric, p, floor, note))
    return results
