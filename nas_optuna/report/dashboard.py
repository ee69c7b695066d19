"""Attach the report to its studies so that `optuna-dashboard STORAGE` shows it.

Each study gets the comparison figures (and, for PPO studies, the policy figures) as
dashboard plots sized for the dashboard's cards, and a Markdown note with its settings,
the summary and its best cell.
"""

from __future__ import annotations

import json

import optuna
import plotly.graph_objects as go
from optuna.storages import BaseStorage

from nas_optuna.report.build import PPO_NAMES, choice_figure_name
from nas_optuna.report.card_figures import CARD_TITLES, block_choice_cards, diagnostic_cards, fit_card
from nas_optuna.report.contents import Report
from nas_optuna.report.data import StudyRun
from nas_optuna.report.metrics import format_budget, format_mean_sd

PLOT_PREFIX = "nas-optuna-"


def dashboard_figures(report: Report, run: StudyRun, n_windows: int = 10) -> dict[str, go.Figure]:
    """The cards for one study: the shared comparison, and its PPO arm's policy figures."""
    # Only the figures this report has: a table benchmark has no device time, most no cost.
    cards = {
        name: fit_card(report.figures[name], title)
        for name, title in CARD_TITLES.items()
        if name in report.figures
    }
    if run.sampler.lower() not in PPO_NAMES or not run.trials:
        return cards
    arm_runs = [r for r in report.grouped.get(run.arm, [run]) if r.trials]
    ppo_arms = {r.arm for r in report.runs if r.sampler.lower() in PPO_NAMES and r.trials}
    for block, card in block_choice_cards(arm_runs, n_windows).items():
        cards[choice_figure_name(block, run, several_arms=len(ppo_arms) > 1)] = card
    if report.diagnostics:
        cards.update(diagnostic_cards(report.diagnostics))
    return cards


def attach_to_dashboard(report: Report, storage: BaseStorage, n_windows: int = 10) -> list[str]:
    """Save plots and a note on every study of the report; returns the study names touched."""
    try:
        from optuna_dashboard import save_note, save_plotly_graph_object
    except ImportError as err:
        raise ValueError("attaching to optuna-dashboard needs it: pip install optuna-dashboard") from err
    for run in report.runs:
        study = optuna.load_study(study_name=run.study_name, storage=storage)
        for name, fig in dashboard_figures(report, run, n_windows).items():
            save_plotly_graph_object(study, fig, graph_object_id=PLOT_PREFIX + name)
        save_note(study, study_note(report, run.study_name))
    return [r.study_name for r in report.runs]


def study_note(report: Report, study_name: str) -> str:
    run = next(r for r in report.runs if r.study_name == study_name)
    facts = f"sampler **{run.arm}**, seed {run.seed}, budget: {format_budget(run.budget)}"
    lines = [f"## {study_name}", "", facts]
    settings = run.user_attrs.get("sampler_settings")
    if settings is not None:
        lines.append(f"sampler settings `{json.dumps(settings, default=str)}`")
    lines += ["", f"{len(run.trials)} completed trials.", ""]
    if run.trials:
        best = max(run.trials, key=lambda t: t.value)
        lines += [f"Best: trial {best.number}, reward {best.value:.4f}", "", f"`{best.genotype}`", ""]
    lines += [
        f"### All samplers, at {report.n_common} trials per seed (mean ± sd over seeds)",
        "",
        "| sampler | seeds | best | top-5 | top-25 |",
        "|---|---|---|---|---|",
    ]
    for s in report.summaries:
        cells = [format_mean_sd(v) for v in (s.best, s.top5, s.top25)]
        lines.append(f"| {s.sampler} | {s.n_seeds} | " + " | ".join(cells) + " |")
    for c in report.comparisons:
        p = "n/a" if c.p_value is None else f"{c.p_value:.4f}"
        lines.append(f"\nMann-Whitney U {c.sampler_a} vs {c.sampler_b} on {c.metric}: p = {p} ({c.note})")
    return "\n".join(lines) + "\n"
