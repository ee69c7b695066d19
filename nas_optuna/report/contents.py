"""What a report holds: the runs compared, the comparison, its figures and notes.

Its own module so that building (build.py) and rendering (html.py, dashboard.py) both depend
on it without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go

from nas_optuna.report.data import StudyRun, TrialRecord
from nas_optuna.report.metrics import Comparison, SamplerSummary
from nas_optuna.report.pareto_figures import BudgetRow


@dataclass
class Report:
    runs: list[StudyRun]
    grouped: dict[str, list[StudyRun]]
    n_common: int
    summaries: list[SamplerSummary]
    comparisons: list[Comparison]
    best: dict[str, tuple[StudyRun, TrialRecord]]  # per sampler: its best unique architecture
    figures: dict[str, go.Figure] = field(default_factory=dict)
    diagnostics: dict[str, list[dict]] = field(default_factory=dict)  # PPO updates per study
    notes: list[str] = field(default_factory=list)
    cost_key: str | None = None  # the cost axis of the Pareto section, when trials record one
    budget_rows: list[BudgetRow] = field(default_factory=list)  # best network under each budget
