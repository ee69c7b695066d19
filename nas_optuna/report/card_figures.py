"""The report's figures cut and sized for optuna-dashboard's plot cards.

optuna-dashboard draws every attached figure in a card 450 px tall and half the page wide
(about 620 px at a 1,400 px window) and lets plotly size the figure to it: a figure with its
own height or dozens of subplots is clipped there. So the dashboard gets figures without a
fixed size, with short titles, and the choice heatmaps one figure per block, PPO diagnostics
in two figures, instead of the report page's tall ones.
"""

from __future__ import annotations

import math
import re

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nas_optuna.report.data import StudyRun
from nas_optuna.report.figures import choice_heatmap, figure_ppo_diagnostics, window_size

CARD_TITLES = {
    "top_k": "Top-1/5/25 unique architectures: mean reward",
    "best_vs_seconds": "Best reward vs device-seconds",
    "reward_over_time": "Reward per window of trials",
    "pareto_fronts": "Pareto fronts: accuracy vs cost",
    "hypervolume": "Hypervolume vs models sampled (1 = pooled front)",
}
# Entropy, KL and clip fraction move together on a small scale; baseline and reward share one.
DIAGNOSTIC_CARDS = {
    "ppo_policy": ("PPO policy per update", ("entropy", "approx_kl", "clip_fraction")),
    "ppo_reward": ("PPO reward and baseline per update", ("baseline", "mean_reward")),
}
# A block's decisions: ops (the long labels) on the first row, inputs on the second.
DECISION_ORDER = ("op_a", "op_b", "combine", "in_a", "in_b")
PER_ROW = 3


def fit_card(fig: go.Figure, title: str) -> go.Figure:
    """A copy that takes the card's size, with a title and fonts that fit its width."""
    card = go.Figure(fig)
    card.update_layout(
        height=None,
        width=None,
        autosize=True,
        title={"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"},
        font={"size": 11},
        legend={"font": {"size": 10}},
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
    )
    return card


def decision_groups(params: list[str]) -> dict[str, list[str]]:
    """Params by block ("normal_b0": [...]); names without a block (NAS-Bench-201's edges) in
    groups of 6 named by their first word ("edge", "edge_2", ...)."""
    groups: dict[str, list[str]] = {}
    loose = []
    for param in params:
        match = re.match(r"^(.+_b\d+)_(.+)$", param)
        if match:
            groups.setdefault(match.group(1), []).append(param)
        else:
            loose.append(param)
    for i in range(0, len(loose), 6):
        name = loose[i].split("_")[0] + (f"_{i // 6 + 1}" if i else "")
        groups[name] = loose[i : i + 6]
    rank = {d: i for i, d in enumerate(DECISION_ORDER)}
    for block, members in groups.items():
        members.sort(key=lambda p: rank.get(p.removeprefix(block + "_"), len(rank)))
    return groups


def figure_block_choices(runs: list[StudyRun], block: str, params: list[str], n_windows: int) -> go.Figure:
    """Heatmaps of one block's decisions: frequency of each choice per window of trials."""
    width = window_size(runs, n_windows)
    titles = [p.removeprefix(block + "_") for p in params]
    n_rows = math.ceil(len(params) / PER_ROW)
    fig = make_subplots(
        rows=n_rows, cols=PER_ROW, subplot_titles=titles, horizontal_spacing=0.17, vertical_spacing=0.2
    )
    for i, param in enumerate(params):
        fig.add_trace(choice_heatmap(runs, param, width), row=i // PER_ROW + 1, col=i % PER_ROW + 1)
    role, _, number = block.rpartition("_b")
    what = f"{role} cell, block {number}" if role and number.isdigit() else f"{block} decisions"
    fig.update_layout(
        title=f"{what}: choices per {width} trials",
        coloraxis={"colorscale": "Viridis", "cmin": 0, "cmax": 1, "colorbar": {"thickness": 10}},
    )
    fig.update_xaxes(showticklabels=False, type="category")
    fig.update_yaxes(tickfont={"size": 9}, type="category")
    for annotation in fig.layout.annotations:
        annotation.font = {"size": 11}
    return fig


def block_choice_cards(runs: list[StudyRun], n_windows: int) -> dict[str, go.Figure]:
    """One card per block, keyed by block ("normal_b0"), for the runs of one PPO arm."""
    params = list(dict.fromkeys(p for r in runs for t in r.trials for p in t.params))
    cards = {}
    for block, members in decision_groups(params).items():
        card = figure_block_choices(runs, block, members, n_windows)
        cards[block] = fit_card(card, card.layout.title.text)
    return cards


def diagnostic_cards(diagnostics: dict[str, list[dict]]) -> dict[str, go.Figure]:
    cards = {}
    for name, (title, keys) in DIAGNOSTIC_CARDS.items():
        card = fit_card(figure_ppo_diagnostics(diagnostics, keys), title)
        card.update_layout(legend={"orientation": "h", "y": -0.25})
        cards[name] = card
    return cards
