"""Plotly figures of the report. Each function takes collected runs and returns a go.Figure."""

from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from nas_optuna.report.data import StudyRun
from nas_optuna.report.metrics import TOP_KS, top_k_curves

K_DASHES = {1: "solid", 5: "dash", 25: "dot"}


def sampler_colours(samplers: list[str]) -> dict[str, str]:
    palette = qualitative.Plotly
    return {s: palette[i % len(palette)] for i, s in enumerate(sorted(samplers))}


def seeds_text(n: int) -> str:
    return "1 seed" if n == 1 else f"{n} seeds"


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _band(x: np.ndarray, low: np.ndarray, high: np.ndarray, colour: str, group: str) -> go.Scatter:
    return go.Scatter(
        x=np.concatenate([x, x[::-1]]),
        y=np.concatenate([high, low[::-1]]),
        fill="toself",
        fillcolor=_rgba(colour, 0.15),
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        legendgroup=group,
    )


def _stack(curves: list[np.ndarray]) -> np.ndarray:
    """Seeds as rows, padded with NaN where a seed has fewer trials."""
    length = max(len(c) for c in curves)
    return np.array([np.pad(c, (0, length - len(c)), constant_values=np.nan) for c in curves])


def _nan_stats(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max over seeds; columns where all seeds are NaN stay NaN (numpy warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(rows, 0), np.nanmin(rows, 0), np.nanmax(rows, 0)


def figure_top_k(grouped: dict[str, list[StudyRun]], ks: tuple[int, ...] = TOP_KS) -> go.Figure:
    """NASNet Fig. 6: mean reward of the top-k unique architectures so far.

    Line = mean over seeds, band = range over seeds (a seed still running counts where it has data).
    """
    colours = sampler_colours(list(grouped))
    fig = go.Figure()
    for sampler, runs in grouped.items():
        per_seed = [top_k_curves(r.trials, ks) for r in runs if r.trials]
        if not per_seed:
            continue
        for k in ks:
            mean, low, high = _nan_stats(_stack([c[k] for c in per_seed]))
            x = np.arange(1, len(mean) + 1)
            group = f"{sampler} top-{k}"
            if len(per_seed) > 1:
                fig.add_trace(_band(x, low, high, colours[sampler], group))
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=mean,
                    mode="lines",
                    name=f"{sampler} top-{k} ({seeds_text(len(per_seed))})",
                    legendgroup=group,
                    line={"color": colours[sampler], "dash": K_DASHES.get(k, "dashdot")},
                )
            )
    fig.update_layout(
        title="Top-1/5/25 unique architectures: mean reward (band: range over seeds)",
        xaxis_title="models sampled (completed trials, in order of completion)",
        yaxis_title="mean reward (validation accuracy)",
    )
    return fig


def figure_best_vs_seconds(grouped: dict[str, list[StudyRun]]) -> go.Figure:
    """Best reward so far against cumulative device-seconds spent training, one line per study."""
    colours = sampler_colours(list(grouped))
    fig = go.Figure()
    for sampler, runs in grouped.items():
        for i, run in enumerate(runs):
            if not run.trials:
                continue
            seconds = np.cumsum([t.train_seconds for t in run.trials])
            best = np.maximum.accumulate(run.values)
            fig.add_trace(
                go.Scatter(
                    x=seconds,
                    y=best,
                    mode="lines",
                    line={"color": colours[sampler], "shape": "hv"},
                    name=sampler,
                    legendgroup=sampler,
                    showlegend=i == 0,
                    text=run.study_name,
                    hovertemplate="%{text}<br>%{x:.0f} s: best %{y:.4f}<extra></extra>",
                )
            )
    fig.update_layout(
        title="Best reward vs device-seconds (one line per seed)",
        xaxis_title="cumulative device-seconds (user attr train_seconds)",
        yaxis_title="best reward so far",
    )
    return fig


def window_size(runs: list[StudyRun], n_windows: int = 10) -> int:
    longest = max((len(r.trials) for r in runs), default=0)
    return max(1, math.ceil(longest / n_windows))


def figure_reward_over_time(grouped: dict[str, list[StudyRun]], n_windows: int = 10) -> go.Figure:
    """Box plot of rewards per window of trials and sampler, seeds pooled."""
    colours = sampler_colours(list(grouped))
    width = window_size([r for runs in grouped.values() for r in runs], n_windows)
    fig = go.Figure()
    for sampler, runs in grouped.items():
        xs, ys = [], []
        for run in runs:
            for i, value in enumerate(run.values):
                start = (i // width) * width
                xs.append(f"{start + 1}-{start + width}")
                ys.append(value)
        fig.add_trace(go.Box(x=xs, y=ys, name=sampler, marker_color=colours[sampler], boxmean=True))
    fig.update_layout(
        boxmode="group",
        title=f"Reward distribution per window of {width} trials (seeds pooled)",
        xaxis_title="trials (window)",
        yaxis_title="reward",
        xaxis_type="category",  # labels like "1-2" would otherwise be read as dates
    )
    return fig


DIAGNOSTIC_KEYS = ("entropy", "approx_kl", "clip_fraction", "baseline", "mean_reward")


def figure_ppo_diagnostics(
    diagnostics: dict[str, list[dict]], keys: tuple[str, ...] = DIAGNOSTIC_KEYS
) -> go.Figure:
    """PPO update statistics per policy update (version), one line per PPO study.

    The x axis is the policy version: a row's n_trials counts the trials of that update only.
    """
    fig = make_subplots(rows=len(keys), cols=1, shared_xaxes=True, subplot_titles=keys)
    colours = sampler_colours(list(diagnostics))
    for study_name, rows in diagnostics.items():
        x = [row.get("policy_version") for row in rows]
        batch = [row.get("n_trials") for row in rows]
        for r, key in enumerate(keys, start=1):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[row.get(key) for row in rows],
                    mode="lines+markers",
                    name=study_name,
                    legendgroup=study_name,
                    showlegend=r == 1,
                    line={"color": colours[study_name]},
                    customdata=batch,
                    hovertemplate=f"update %{{x}} (%{{customdata}} trials): {key} %{{y:.4g}}",
                ),
                row=r,
                col=1,
            )
    versions = [row.get("policy_version") or 0 for rows in diagnostics.values() for row in rows]
    # Versions are whole numbers: ticks every `step` updates, never at 0.5.
    step = max(1, math.ceil((max(versions, default=0) + 1) / 8))
    fig.update_xaxes(tick0=0, dtick=step, tickformat="d")
    fig.update_xaxes(title_text="policy update (version)", row=len(keys), col=1)
    fig.update_layout(title="PPO policy diagnostics per update", height=220 * len(keys))
    return fig


def choice_frequencies(
    runs: list[StudyRun], param: str, width: int
) -> tuple[list[str], list[str], np.ndarray]:
    """Empirical frequency of each choice of `param` per window of trials, seeds pooled.

    Choices are listed in the search space's order, never-sampled ones too (a choice the policy
    abandoned shows as a row of zeros)."""
    counts: dict[int, Counter] = {}
    for run in runs:
        for i, trial in enumerate(run.trials):
            if param in trial.params:
                counts.setdefault(i // width, Counter())[str(trial.params[param])] += 1
    sampled = {c for counter in counts.values() for c in counter}
    declared = [c for run in runs for c in run.choices.get(param, [])]
    choices = list(dict.fromkeys(declared)) + sorted(sampled - set(declared))
    windows = sorted(counts)
    z = np.array([[counts[w][c] / max(1, sum(counts[w].values())) for w in windows] for c in choices])
    labels = [f"{w * width + 1}-{(w + 1) * width}" for w in windows]
    return labels, choices, z


def choice_heatmap(runs: list[StudyRun], param: str, width: int) -> go.Heatmap:
    """How often each choice of `param` was sampled per window of `width` trials (0..1)."""
    labels, choices, z = choice_frequencies(runs, param, width)
    return go.Heatmap(
        x=labels,
        y=choices,
        z=z,
        zmin=0,
        zmax=1,
        coloraxis="coloraxis",
        hovertemplate=f"{param}<br>%{{y}} in trials %{{x}}: %{{z:.2f}}<extra></extra>",
    )


def figure_choice_heatmaps(runs: list[StudyRun], role: str, n_windows: int = 10) -> go.Figure:
    """One heatmap per decision of a cell role: how often each choice was sampled per window."""
    params = list(
        dict.fromkeys(p for r in runs for t in r.trials for p in t.params if p.startswith(f"{role}_"))
    )
    cols = 5 if any(p.endswith("_combine") for p in params) else 4
    n_rows = max(1, math.ceil(len(params) / cols))
    fig = make_subplots(
        rows=n_rows, cols=cols, subplot_titles=params, vertical_spacing=0.3 / n_rows, horizontal_spacing=0.08
    )
    width = window_size(runs, n_windows)
    for i, param in enumerate(params):
        fig.add_trace(choice_heatmap(runs, param, width), row=i // cols + 1, col=i % cols + 1)
    names = ", ".join(r.study_name for r in runs)
    what = "NAS-Bench-201 edges" if role == "edge" else f"{role} cell"
    fig.update_layout(
        title=f"{what}: frequency of each choice per window of {width} trials ({names})",
        coloraxis={"colorscale": "Viridis", "cmin": 0, "cmax": 1},
        height=max(400, 260 * n_rows),
    )
    fig.update_xaxes(showticklabels=False, type="category")
    fig.update_yaxes(tickfont={"size": 8}, type="category")
    return fig
