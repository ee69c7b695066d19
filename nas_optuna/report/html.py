"""The report as one self-contained HTML page (plotly.js inlined once, diagrams as inline SVG)."""

from __future__ import annotations

from html import escape

from nas_optuna.genotype import Genotype
from nas_optuna.report.contents import Report
from nas_optuna.report.diagram import genotype_svgs
from nas_optuna.report.metrics import format_budget, format_mean_sd
from nas_optuna.report.pareto_figures import budget_table_html

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
code { font-size: 0.85em; word-break: break-all; }
.note { color: #7a4b00; }
.diagram svg { max-width: 100%; height: auto; }  /* scaled to the page, concat node included */
"""

FIGURE_TITLES = {
    "top_k": "Top-1 / top-5 / top-25 unique architectures (NASNet Fig. 6)",
    "best_vs_seconds": "Best reward vs device time",
    "reward_over_time": "Reward distribution over time",
    "pareto_fronts": "Pareto fronts: accuracy vs cost",
    "hypervolume": "Hypervolume vs models sampled",
    "ppo_diagnostics": "PPO policy diagnostics",
    "ppo_choices_normal": "PPO choices over time: Normal cell",
    "ppo_choices_reduction": "PPO choices over time: Reduction cell",
    "ppo_choices_cell": "PPO choices over time: shared cell",
    "ppo_choices_edge": "PPO choices over time: NAS-Bench-201 cell edges",
}


def summary_table(report: Report) -> str:
    rows = []
    for s in report.summaries:
        budgets = {format_budget(r.budget) for r in report.grouped[s.sampler]}
        cells = [
            escape(s.sampler),
            str(s.n_seeds),
            escape(", ".join(sorted(budgets))),
            escape(", ".join(map(str, s.completed))),
            format_mean_sd(s.best),
            format_mean_sd(s.top5),
            format_mean_sd(s.top25),
        ]
        if report.cost_key:
            cells.append(format_mean_sd(s.hypervolume))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = (
        "<tr><th>sampler</th><th>seeds</th><th>budget (user attr)</th><th>completed per seed</th>"
        f"<th>best @ {report.n_common}</th><th>top-5 mean @ {report.n_common}</th>"
        f"<th>top-25 mean @ {report.n_common}</th>"
        + (
            f"<th>hypervolume (accuracy vs {escape(report.cost_key)}) @ {report.n_common}</th>"
            if report.cost_key
            else ""
        )
        + "</tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def tests_table(report: Report) -> str:
    if not report.comparisons:
        return "<p>Only one sampler: nothing to test.</p>"
    rows = []
    for c in report.comparisons:
        p = "—" if c.p_value is None else f"{c.p_value:.4f}"
        cells = [f"{escape(c.sampler_a)} vs {escape(c.sampler_b)}", escape(c.metric), p, escape(c.note)]
        rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    head = (
        "<tr><th>pair</th><th>per-seed metric</th><th>p (Mann-Whitney U, two-sided)</th><th>verdict</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def best_cells(report: Report) -> str:
    sections = []
    for sampler, (run, trial) in report.best.items():
        facts = [f"reward {trial.value:.4f}", f"study {escape(run.study_name)}, trial {trial.number}"]
        for key, label in (("n_params", "parameters"), ("mult_adds", "multiply-adds")):
            if key in trial.user_attrs:
                facts.append(f"{label} {int(trial.user_attrs[key]):,}")
        if "test_accuracy" in trial.user_attrs:  # tables like NAS-Bench-201: shown, never searched on
            facts.append(f"test accuracy {float(trial.user_attrs['test_accuracy']):.2f} (not the reward)")
        if "genotype" not in trial.user_attrs and "cellstr" in trial.user_attrs:
            diagrams = '<p class="note">no cell diagram: a NAS-Bench-201 cell, not a NASNet genotype</p>'
        else:
            diagrams = _diagrams(trial.genotype)
        sections.append(
            f"<h3>Best of {escape(sampler)}</h3><p>{'; '.join(facts)}</p>"
            f"<p><code>{escape(trial.genotype)}</code></p>{diagrams}"
        )
    return "".join(sections) or "<p>No completed trials yet.</p>"


def _diagrams(genotype: str) -> str:
    try:
        svgs = genotype_svgs(Genotype.from_string(genotype)).values()
        return "".join(f'<div class="diagram">{svg}</div>' for svg in svgs)
    except ValueError as err:
        return f'<p class="note">cannot draw this genotype: {escape(str(err))}</p>'


def _budget_section(report: Report) -> str:
    if not report.budget_rows:
        return ""
    n_seeds = {sampler: len(runs) for sampler, runs in report.grouped.items()}
    table = budget_table_html(report.budget_rows, report.cost_key or "cost", n_seeds)
    return f"<h2>Best network under a budget of {escape(report.cost_key or 'cost')}</h2>{table}"


def render_html(report: Report) -> str:
    figures_html = []
    for i, (name, fig) in enumerate(report.figures.items()):
        # Inline plotly.js with the first figure only, so the file works offline and stays one file.
        div = fig.to_html(full_html=False, include_plotlyjs=i == 0, div_id=f"fig-{name}")
        base, _, arm = name.partition("-")  # "ppo_choices_normal-<arm>" with several PPO arms
        title = FIGURE_TITLES.get(base, name) + (f" ({arm})" if arm and base in FIGURE_TITLES else "")
        figures_html.append(f"<h2>{escape(title)}</h2>{div}")
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in report.notes)
    studies = ", ".join(escape(r.study_name) for r in report.runs)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>nas-optuna report</title><style>{STYLE}</style></head>
<body>
<h1>nas-optuna: sampler comparison</h1>
<p>Studies: {studies}. Only completed trials count;
a genotype sampled twice counts once, with its best reward.
Samplers are compared at {report.n_common} completed trials per seed (the fewest any started study has).</p>
{notes}
<h2>Summary</h2>{summary_table(report)}
<p>Mean ± sample standard deviation over seeds.</p>
<h2>Significance</h2>{tests_table(report)}
{"".join(figures_html)}
{_budget_section(report)}
<h2>Best cells</h2>{best_cells(report)}
</body></html>
"""
