"""Attach the report to its studies so that `optuna-dashboard STORAGE` shows it.

Each study gets the comparison figures (and, for PPO studies, the policy figures) as
dashboard plots, and a Markdown note with its settings, the summary and its best cell.
"""

from __future__ import annotations

import json

import optuna
from optuna.storages import BaseStorage

from nas_optuna.report.build import PPO_NAMES, Report, choice_figure_name
from nas_optuna.report.metrics import format_mean_sd

SHARED_FIGURES = ("top_k", "best_vs_seconds", "reward_over_time")


def attach_to_dashboard(report: Report, storage: BaseStorage) -> list[str]:
    """Save plots and a note on every study of the report; returns the study names touched."""
    try:
        from optuna_dashboard import save_note, save_plotly_graph_object
    except ImportError as err:
        raise ValueError("attaching to optuna-dashboard needs it: pip install optuna-dashboard") from err
    for run in report.runs:
        study = optuna.load_study(study_name=run.study_name, storage=storage)
        names = list(SHARED_FIGURES)
        if run.sampler.lower() in PPO_NAMES:  # the policy's figures, of this run's arm only
            names.append("ppo_diagnostics")
            for role in ("normal", "reduction", "cell"):
                names += [choice_figure_name(role, run, several_arms=many) for many in (False, True)]
        for name in names:
            if name in report.figures:
                save_plotly_graph_object(study, report.figures[name], graph_object_id=f"nas-optuna-{name}")
        save_note(study, study_note(report, run.study_name))
    return [r.study_name for r in report.runs]


def study_note(report: Report, study_name: str) -> str:
    run = next(r for r in report.runs if r.study_name == study_name)
    lines = [f"## {study_name}", "", f"sampler **{run.arm}**, seed {run.seed}, budget `{run.budget}`"]
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
