"""Assemble the report: load studies, compute the comparison, make figures, write files."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage

from nas_optuna.report import figures, pareto_figures
from nas_optuna.report.arms import held_back_note
from nas_optuna.report.contents import Report
from nas_optuna.report.data import StudyRun, TrialRecord, load_runs, runs_by_sampler
from nas_optuna.report.html import render_html
from nas_optuna.report.metrics import (
    common_budget,
    compare_samplers,
    summarize,
    unique_best,
)

PPO_NAMES = ("ppo", "ppo_lstm", "ppolstm")


def make_report(
    storage: BaseStorage,
    prefix: str | None = None,
    names: list[str] | None = None,
    n_windows: int = 10,
    budgets: list[float] | None = None,
) -> Report:
    left_out: list[str] = []
    runs = load_runs(storage, prefix, names, left_out)
    grouped = runs_by_sampler(runs)
    n_common = common_budget(runs)
    summaries = summarize(grouped, n_common)
    report = Report(
        runs=runs,
        grouped=grouped,
        n_common=n_common,
        summaries=summaries,
        comparisons=compare_samplers(summaries),
        best=_best_per_sampler(grouped),
    )
    held_back = held_back_note({r.study_name: len(r.trials) for r in runs}, n_common)
    report.notes += ([held_back] if held_back else []) + left_out
    running = sum(r.n_running for r in runs)
    if running:
        report.notes.append(f"{running} trials were still running and are not counted.")
    if not any(r.trials for r in runs):
        report.notes.append("No completed trials yet: figures are empty.")
    elif empty := [r.study_name for r in runs if not r.trials]:
        report.notes.append(f"No completed trials yet in {', '.join(empty)}: not part of the comparison.")
    report.figures["top_k"] = figures.figure_top_k(grouped)
    if any("train_seconds" in t.user_attrs for r in runs for t in r.trials):
        report.figures["best_vs_seconds"] = figures.figure_best_vs_seconds(grouped)
    elif any(r.trials for r in runs):  # e.g. a table benchmark (NAS-Bench-201): no training times
        report.notes.append("No trial records train_seconds: no best-reward-vs-device-time figure.")
    report.figures["reward_over_time"] = figures.figure_reward_over_time(grouped, n_windows)
    _add_cost_section(report, budgets)
    _add_ppo_section(report, storage, n_windows)
    return report


def _add_cost_section(report: Report, budgets: list[float] | None) -> None:
    """Pareto fronts, hypervolume and the best network under budgets, when trials record a cost."""
    view = pareto_figures.cost_view(report.runs)
    if view is None:
        if budgets:
            report.notes.append("--budget given, but no trial records a cost (e.g. mult_adds): ignored.")
        return
    view.marks, note = pareto_figures.reference_marks(report.runs, view.key)
    if note:
        report.notes.append(note)
    report.cost_key = view.key
    report.summaries = [
        dataclasses.replace(
            s,
            hypervolume=tuple(
                pareto_figures.hypervolume_at(view, r, report.n_common) for r in report.grouped[s.sampler]
            ),
        )
        for s in report.summaries
    ]
    report.comparisons += compare_samplers(report.summaries, metrics=("hypervolume",))
    report.figures["pareto_fronts"] = pareto_figures.figure_pareto_fronts(report.grouped, view)
    report.figures["hypervolume"] = pareto_figures.figure_hypervolume(report.grouped, view)
    chosen = budgets or pareto_figures.default_budgets(view)
    report.budget_rows = pareto_figures.budget_rows(report.grouped, view, chosen)


def _best_per_sampler(grouped: dict[str, list[StudyRun]]) -> dict[str, tuple[StudyRun, TrialRecord]]:
    best = {}
    for sampler, runs in grouped.items():
        candidates = [(run, unique_best(run.trials)[0]) for run in runs if run.trials]
        if candidates:
            best[sampler] = max(candidates, key=lambda pair: pair[1].value)
    return best


def _add_ppo_section(report: Report, storage: BaseStorage, n_windows: int) -> None:
    ppo_runs = [r for r in report.runs if r.sampler.lower() in PPO_NAMES and r.trials]
    if not ppo_runs:
        return
    arms = runs_by_sampler(ppo_runs)
    for arm_runs in arms.values():  # one set per PPO arm: two settings' choices are never pooled
        for role in _roles(arm_runs):
            name = choice_figure_name(role, arm_runs[0], several_arms=len(arms) > 1)
            report.figures[name] = figures.figure_choice_heatmaps(arm_runs, role, n_windows)
    try:
        from nas_optuna import PPOLSTMSampler  # imports torch: only for reports with PPO studies
    except ImportError as err:
        report.notes.append(f"PPO diagnostics skipped: cannot import PPOLSTMSampler ({err}).")
        return
    diagnostics = {}
    for run in ppo_runs:
        try:
            rows = PPOLSTMSampler.diagnostics(optuna.load_study(study_name=run.study_name, storage=storage))
        except Exception as err:  # a diagnostics problem must not cost the rest of the report
            report.notes.append(f"PPO diagnostics of {run.study_name} failed: {type(err).__name__}: {err}")
            continue
        if rows:
            diagnostics[run.study_name] = list(rows)
    report.diagnostics = diagnostics
    if diagnostics:
        report.figures["ppo_diagnostics"] = figures.figure_ppo_diagnostics(diagnostics)
    else:
        report.notes.append("PPO diagnostics: no policy update recorded yet.")


def choice_figure_name(role: str, run: StudyRun, several_arms: bool) -> str:
    """ "ppo_choices_normal", or with several PPO arms "ppo_choices_normal-ppo-learning_rate-0.0035"."""
    if not several_arms:
        return f"ppo_choices_{role}"
    return f"ppo_choices_{role}-" + re.sub(r"[^A-Za-z0-9_.]+", "-", run.arm).strip("-")


def _roles(runs: list[StudyRun]) -> list[str]:
    names = {p for r in runs for t in r.trials for p in t.params}
    # "edge": NAS-Bench-201's edges (edge_1_0 ...).
    prefixes = {"normal": "normal_b", "reduction": "reduction_b", "cell": "cell_b", "edge": "edge_"}
    return [role for role, prefix in prefixes.items() if any(n.startswith(prefix) for n in names)]


def write_report(report: Report, out_dir: str | Path, static: bool = True) -> list[Path]:
    """report.html (self-contained), figures/*.json, and figures/*.png/svg when kaleido works."""
    out = Path(out_dir)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in report.figures.items():
        path = fig_dir / f"{name}.json"
        path.write_text(fig.to_json())
        written.append(path)
    if static:
        written += _export_static(report, fig_dir)
    summary = out / "summary.json"
    summary.write_text(json.dumps(summary_dict(report), indent=2))
    html_path = out / "report.html"
    html_path.write_text(render_html(report), encoding="utf-8")
    return [html_path, summary, *written]


def _export_static(report: Report, fig_dir: Path) -> list[Path]:
    """PNG and SVG through kaleido (it drives a local Chromium); skipped with a note if that fails."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        report.notes.append("Static PNG/SVG export skipped: install kaleido (it needs Chromium) for it.")
        return []
    written = []
    try:
        for name, fig in report.figures.items():
            for ext in ("png", "svg"):
                path = fig_dir / f"{name}.{ext}"
                _write_image(fig, path)
                written.append(path)
    except Exception as err:  # kaleido raises various errors when no browser can start
        report.notes.append(
            f"Static PNG/SVG export failed ({type(err).__name__}: {err}); HTML and JSON are complete."
        )
    return written


def _write_image(fig: Any, path: Path, attempts: int = 2) -> None:
    """One figure through kaleido, tried again once: on a loaded machine its Chromium page can
    be asked to render before its script has loaded ("kaleido_scopes is not defined")."""
    for attempt in range(attempts):
        try:
            fig.write_image(path, width=1100, height=fig.layout.height or 550)
            return
        except Exception:
            if attempt == attempts - 1:
                raise


def summary_dict(report: Report) -> dict:
    return {
        "studies": [r.study_name for r in report.runs],
        "compared_at_n_trials": report.n_common,
        "samplers": [vars(s) for s in report.summaries],
        "tests": [vars(c) for c in report.comparisons],
        "best": {
            sampler: {"study": run.study_name, "trial": t.number, "value": t.value, "genotype": t.genotype}
            for sampler, (run, t) in report.best.items()
        },
        "notes": report.notes,
        "best_under_budget": [
            {
                "sampler": row.sampler,
                "budget": row.budget,
                "cost": report.cost_key,
                "seeds_within": row.n_seeds_within,
                "mean_best": row.mean_best,
                "best": None
                if row.best is None
                else {
                    "study": row.best.study,
                    "trial": row.best.trial.number,
                    "accuracy": row.best.accuracy,
                    "cost": row.best.cost,
                },
            }
            for row in report.budget_rows
        ],
    }
