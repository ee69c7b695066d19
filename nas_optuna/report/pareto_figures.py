"""The report's accuracy-vs-cost section: Pareto fronts, hypervolume over trials, best under a budget.

Made for multi-objective studies (``[objective] objectives = ["accuracy", COST]``) and for
single-objective ones whose trials record ``mult_adds``. The cost is the study config's second
objective, else ``mult_adds``. Hypervolume is normalised by that of the pooled front of every
trial in the report (1.0 = all that any sampler found together), with the reference point
(the largest cost seen, the lowest accuracy seen) stated in the figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from nas_optuna.report.data import StudyRun, TrialRecord
from nas_optuna.report.figures import _band, _nan_stats, _stack, sampler_colours, seeds_text
from nas_optuna.report.pareto import Point, best_under_budget, hypervolume, hypervolume_curve, pareto_front

# The paper's published ImageNet mobile networks (NASNET.md): drawn only on an axis of costs at
# the mobile transfer configuration, whose units they are in (their accuracies are ImageNet
# top-1, not the search's, so they are marked as costs, not as points).
PUBLISHED_MOBILE = (("NASNet-A 4@1056 (paper)", 564e6), ("PNASNet-5 mobile (paper)", 588e6))
# The faint cloud behind a sampler's front is context: past this many points it only weighs
# down report.html and the copy of the figure that every study's dashboard page stores (the
# NB201 demo, 30,000 trials with genotypes as hover text: 4.4 MB a copy, 145 MB in its journal).
MAX_CLOUD_POINTS = 1000


@dataclass
class CostView:
    key: str  # the user attr on the cost axis
    points: dict[str, list[tuple[Point, TrialRecord]]]  # per study, in completion order
    reference: Point
    scale: float  # hypervolume of the pooled front: curves are divided by it
    marks: list[tuple[str, float]] = field(default_factory=list)  # (label, cost) vertical lines


def _objective_table(run: StudyRun) -> dict:
    return (run.user_attrs.get("study_config") or {}).get("objective") or {}


def cost_key(runs: list[StudyRun]) -> str | None:
    """The study config's second objective; else the deployed network's multiply-adds when
    trials record them (the cifar objective's ``transfer``), else the child's."""
    for run in runs:
        names = _objective_table(run).get("objectives") or []
        if len(names) > 1:
            return str(names[1])
    for key in ("transfer_mult_adds", "mult_adds"):
        if any(key in t.user_attrs for r in runs for t in r.trials):
            return key
    return None


def accuracy_of(trial: TrialRecord) -> float:
    """The trial's accuracy: its value, unless its reward is another score (a MnasNet reward),
    when the objective records the raw accuracy as the user attr ``accuracy``."""
    return float(trial.user_attrs.get("accuracy", trial.value))


def _points(run: StudyRun, key: str) -> list[tuple[Point, TrialRecord]]:
    return [((float(t.user_attrs[key]), accuracy_of(t)), t) for t in run.trials if key in t.user_attrs]


def cost_view(runs: list[StudyRun]) -> CostView | None:
    """None when no trial records a cost (nothing to draw)."""
    key = cost_key(runs)
    if key is None:
        return None
    points = {r.study_name: _points(r, key) for r in runs}
    every = [p for pts in points.values() for p, _ in pts]
    if not every:
        return None
    # Strictly beyond every point, so that the costliest and the least accurate still count.
    costs, accuracies = [c for c, _ in every], [a for _, a in every]
    reference = (max(costs) * 1.05 + 1e-12, min(accuracies) - 0.05 * (max(accuracies) - min(accuracies) + 1))
    scale = hypervolume(pareto_front(every), reference) or 1.0
    return CostView(key, points, reference, scale)


def figure_pareto_fronts(
    grouped: dict[str, list[StudyRun]], view: CostView, max_cloud: int = MAX_CLOUD_POINTS
) -> go.Figure:
    """Each sampler's front over all its seeds (line and markers, a genotype on each), over a
    faint cloud of its trials: all of them, or `max_cloud` spread evenly over its seeds and
    their completion order."""
    colours = sampler_colours(list(grouped))
    fig = go.Figure()
    for sampler, runs in grouped.items():
        pts = [(p, t, r.study_name) for r in runs for p, t in view.points.get(r.study_name, [])]
        if not pts:
            continue
        colour = colours[sampler]
        cloud = pts
        if len(pts) > max_cloud:
            cloud = [pts[i] for i in np.linspace(0, len(pts) - 1, max_cloud).round().astype(int)]
        shown = f" ({len(cloud):,} of {len(pts):,})" if len(cloud) < len(pts) else ""
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p, _, _ in cloud],
                y=[p[1] for p, _, _ in cloud],
                mode="markers",
                marker={"color": colour, "size": 4, "opacity": 0.25},
                name=f"{sampler}: trials{shown}",
                legendgroup=sampler,
                text=[f"{s} trial {t.number}" for _, t, s in cloud],
                hovertemplate="%{text}<br>cost %{x:.4g}, accuracy %{y:.4g}<extra></extra>",
            )
        )
        front = pareto_front(p for p, _, _ in pts)
        first: dict[Point, tuple[TrialRecord, str]] = {}
        for p, t, s in pts:  # the first trial that reached each point
            first.setdefault(p, (t, s))
        fig.add_trace(
            go.Scatter(
                x=[c for c, _ in front],
                y=[a for _, a in front],
                mode="lines+markers",
                line={"color": colour, "shape": "hv"},
                name=f"{sampler}: Pareto front ({seeds_text(len(runs))} pooled)",
                legendgroup=sampler,
                text=[f"{s} trial {t.number}<br>{t.genotype}" for t, s in (first[p] for p in front)],
                hovertemplate="%{text}<br>cost %{x:.4g}, accuracy %{y:.4g}<extra></extra>",
            )
        )
    for label, cost in view.marks:
        fig.add_vline(x=cost, line_dash="dash", line_color="grey", annotation_text=label)
    fig.update_layout(
        title=f"Pareto fronts: accuracy vs {view.key} (each sampler's seeds pooled)",
        xaxis_title=f"{view.key} (user attr; lower is better)",
        yaxis_title="validation accuracy",
    )
    return fig


def figure_hypervolume(grouped: dict[str, list[StudyRun]], view: CostView) -> go.Figure:
    """Normalised hypervolume of the front so far, against models sampled (band: range over seeds)."""
    colours = sampler_colours(list(grouped))
    fig = go.Figure()
    for sampler, runs in grouped.items():
        curves = [
            np.array(hypervolume_curve([p for p, _ in view.points[r.study_name]], view.reference))
            / view.scale
            for r in runs
            if view.points.get(r.study_name)
        ]
        if not curves:
            continue
        mean, low, high = _nan_stats(_stack(curves))
        x = np.arange(1, len(mean) + 1)
        if len(curves) > 1:
            fig.add_trace(_band(x, low, high, colours[sampler], sampler))
        name = f"{sampler} ({seeds_text(len(curves))})"
        fig.add_trace(go.Scatter(x=x, y=mean, mode="lines", name=name, legendgroup=sampler,
                                 line={"color": colours[sampler]}))  # fmt: skip
    ref_cost, ref_accuracy = view.reference
    fig.update_layout(
        title=(
            f"Hypervolume of accuracy vs {view.key}, mean over seeds (band: range)<br><sup>1 = the "
            f"pooled front of all trials; reference point: {view.key} {ref_cost:.4g}, "
            f"accuracy {ref_accuracy:.4g}</sup>"
        ),
        xaxis_title="models sampled (completed trials with a cost, in order of completion)",
        yaxis_title="hypervolume / pooled front's",
    )
    return fig


def hypervolume_at(view: CostView, run: StudyRun, n_trials: int) -> float:
    """Normalised hypervolume of the run's first ``n_trials`` completed trials."""
    first = {t.number for t in run.trials[:n_trials]}
    points = [p for p, t in view.points.get(run.study_name, []) if t.number in first]
    return hypervolume(pareto_front(points), view.reference) / view.scale


def default_budgets(view: CostView) -> list[float]:
    """The quartiles of the costs seen, to two significant digits."""
    costs = [p[0] for pts in view.points.values() for p, _ in pts]
    return [float(f"{q:.2g}") for q in np.percentile(costs, [25, 50, 75])]


@dataclass(frozen=True)
class BudgetRow:
    sampler: str
    budget: float
    n_seeds_within: int  # seeds with a trial within the budget
    mean_best: float | None  # over those seeds: their best accuracy within the budget
    best: BestWithin | None  # the best over seeds


@dataclass(frozen=True)
class BestWithin:
    study: str
    trial: TrialRecord
    cost: float
    accuracy: float


def budget_rows(grouped: dict[str, list[StudyRun]], view: CostView, budgets: list[float]) -> list[BudgetRow]:
    rows = []
    for budget in budgets:
        for sampler, runs in grouped.items():
            per_seed = []
            for run in runs:
                items = [(p[0], p[1], (run.study_name, t)) for p, t in view.points.get(run.study_name, [])]
                found = best_under_budget(items, budget)
                if found is not None:
                    per_seed.append(found)
            best = max(per_seed, key=lambda it: (it[1], -it[0]), default=None)
            rows.append(
                BudgetRow(
                    sampler,
                    budget,
                    len(per_seed),
                    float(np.mean([it[1] for it in per_seed])) if per_seed else None,
                    None if best is None else BestWithin(best[2][0], best[2][1], best[0], best[1]),
                )
            )
    return rows


def budget_table_html(rows: list[BudgetRow], key: str, n_seeds: dict[str, int]) -> str:
    from html import escape

    body = []
    for row in rows:
        if row.best is None:
            cells = [row.sampler, f"{row.budget:,.0f}", f"0 / {n_seeds[row.sampler]}", "—", "—", "—"]
        else:
            b = row.best
            cells = [
                row.sampler,
                f"{row.budget:,.0f}",
                f"{row.n_seeds_within} / {n_seeds[row.sampler]}",
                f"{row.mean_best:.4f}",
                f"{b.accuracy:.4f} at {b.cost:,.0f} ({escape(b.study)}, trial {b.trial.number})",
                f"<code>{escape(b.trial.genotype)}</code>",
            ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = (
        f"<tr><th>sampler</th><th>budget ({escape(key)} &le;)</th><th>seeds with a network within it</th>"
        "<th>mean over those seeds of their best</th><th>best network</th><th>genotype</th></tr>"
    )
    return f"<table>{head}{''.join(body)}</table>"


MOBILE = {"n_cells": 4, "filters": 44, "stem": "imagenet", "image_size": 224}


def _is_mobile(transfer) -> bool:
    """The cifar objective's ``transfer`` setting names NASNet's mobile configuration."""
    if transfer == "mobile":
        return True
    return isinstance(transfer, dict) and all(transfer.get(k, v) == v for k, v in MOBILE.items())


def reference_marks(runs: list[StudyRun], key: str) -> tuple[list[tuple[str, float]], str | None]:
    """Costs to mark: NASNet-A at the studies' child configuration on a proxy-cost axis, the
    paper's mobile networks on a transfer-cost axis; and a note when NASNet-A cannot be placed."""
    if key.startswith("transfer"):
        if all(_is_mobile(_objective_table(r).get("transfer")) for r in runs):
            return list(PUBLISHED_MOBILE), None
        return [], "The paper's mobile networks are not marked: the transfer configuration is not 4@1056."
    if key != "mult_adds":
        return [], None
    tables = {
        json.dumps((r.user_attrs.get("study_config") or {}).get("objective"), sort_keys=True) for r in runs
    }
    objectives = [json.loads(t) for t in tables if t != "null"]
    if len(objectives) != 1 or objectives[0].get("name") != "cifar":
        return [], None  # NB201 or a synthetic landscape: NASNet-A is not in its units
    try:
        from nas_optuna import NASNET_A, build_network, count_mult_adds
        from nas_optuna.objectives.cifar import NETWORK_KEYS, checked_settings

        settings = checked_settings(
            {k: v for k, v in objectives[0].items() if k not in ("name", "objectives")}
        )
        model = build_network(NASNET_A, num_classes=10, **{k: settings[k] for k in NETWORK_KEYS})
        cost = float(count_mult_adds(model, (1, 3, 32, 32)))
    except Exception as err:  # a marker must not cost the report
        return [], f"NASNet-A not marked on the Pareto front ({type(err).__name__}: {err})."
    return [("NASNet-A at this child configuration", cost)], None
