"""Pareto fronts and 2-D hypervolume on hand cases, and the report's accuracy-vs-cost section."""

from __future__ import annotations

import itertools
import json
import random

import optuna
import pytest
from report_studies import make_multi_objective_studies, make_paired_studies

from nas_optuna.report.build import make_report, write_report
from nas_optuna.report.data import StudyRun, TrialRecord
from nas_optuna.report.pareto import (
    FrontTracker,
    best_under_budget,
    hypervolume,
    hypervolume_curve,
    pareto_front,
)
from nas_optuna.report.pareto_figures import cost_view, reference_marks
from nas_optuna.storage_url import open_storage


def test_front_keeps_only_undominated_points_by_increasing_cost():
    points = [(3, 70), (1, 50), (2, 50), (2, 60), (4, 65), (5, 80), (1, 50)]
    assert pareto_front(points) == [(1, 50), (2, 60), (3, 70), (5, 80)]


def test_hypervolume_of_hand_drawn_staircases():
    # one point: a rectangle from it to the reference
    assert hypervolume([(2, 60)], (10, 0)) == 8 * 60
    # two steps: [1, 3) at height 50, [3, 10) at height 70 (reference accuracy 40)
    assert hypervolume([(1, 90), (3, 110)], (10, 40)) == 2 * 50 + 7 * 70
    # a dominated point and points beyond the reference add nothing
    assert hypervolume([(1, 90), (3, 110), (4, 100), (11, 200), (0, 30)], (10, 40)) == 2 * 50 + 7 * 70
    assert hypervolume([], (10, 0)) == 0.0


def _grid_volume(points, reference, step=0.5):
    """Brute force: count grid cells (of a fine grid) dominated by some point."""
    ref_cost, ref_accuracy = reference
    cells = 0
    for i, j in itertools.product(range(int(ref_cost / step)), range(int((100 - ref_accuracy) / step))):
        x, y = (i + 0.5) * step, ref_accuracy + (j + 0.5) * step
        cells += any(c <= x and a >= y for c, a in points)
    return cells * step * step


def test_hypervolume_equals_a_brute_force_count_and_the_incremental_curve_agrees():
    rng = random.Random(0)
    points = [(rng.randint(0, 19), rng.randint(20, 99)) for _ in range(25)]
    reference = (20, 10)
    assert hypervolume(points, reference) == pytest.approx(_grid_volume(points, reference))
    curve = hypervolume_curve(points, reference)
    assert curve == [hypervolume(points[: n + 1], reference) for n in range(len(points))]
    assert all(a <= b for a, b in itertools.pairwise(curve))
    tracker = FrontTracker(reference)
    for p in points:
        tracker.add(p)
    assert tracker.front == pareto_front(points)


def test_best_under_budget_is_the_most_accurate_within_it_cheaper_on_ties():
    items = [(5, 70, "a"), (3, 70, "b"), (9, 90, "c"), (2, 40, "d")]
    assert best_under_budget(items, 5) == (3, 70, "b")
    assert best_under_budget(items, 10)[2] == "c"
    assert best_under_budget(items, 1) is None


def test_report_of_multi_objective_studies_draws_fronts_hypervolume_and_budget_table(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(str(tmp_path / "mo.log"))
    make_multi_objective_studies(storage, "mo", n_trials=40, seeds=2)
    report = make_report(storage, "mo", budgets=[3e7, 1e9])
    assert report.cost_key == "mult_adds"
    every = [(t.user_attrs["mult_adds"], t.value) for r in report.runs for t in r.trials]
    costs, accuracies = [c for c, _ in every], [a for _, a in every]
    # the reference: just beyond the costliest and the least accurate trial (module docstring)
    reference = (max(costs) * 1.05 + 1e-12, min(accuracies) - 0.05 * (max(accuracies) - min(accuracies) + 1))
    scale = hypervolume(pareto_front(every), reference)
    fronts = report.figures["pareto_fronts"]
    for sampler in ("random", "nsga2"):
        trials = [t for r in report.grouped[sampler] for t in r.trials]
        expected = pareto_front((t.user_attrs["mult_adds"], t.value) for t in trials)
        [line] = [tr for tr in fronts.data if tr.name.startswith(f"{sampler}: Pareto front")]
        assert list(zip(line.x, line.y, strict=True)) == expected
        # the hypervolume curve ends at each seed's own front's volume (mean over seeds, normalised)
        [hv] = [tr for tr in report.figures["hypervolume"].data if tr.name == f"{sampler} (2 seeds)"]
        assert 0 < hv.y[-1] <= 1 and hv.y[0] <= hv.y[-1]
        [summary] = [s for s in report.summaries if s.sampler == sampler]
        per_seed = [  # each seed's own front, by hand, over the report's reference and pooled front
            hypervolume(pareto_front((t.user_attrs["mult_adds"], t.value) for t in r.trials), reference)
            / scale
            for r in report.grouped[sampler]
        ]
        assert summary.hypervolume == pytest.approx(tuple(per_seed))
        assert hv.y[-1] == pytest.approx(sum(per_seed) / 2)  # 40 trials each: the curve ends there
    assert {c.metric for c in report.comparisons} == {"best", "top5", "hypervolume"}
    rows = {(r.sampler, r.budget): r for r in report.budget_rows}
    cheap = rows[("random", 3e7)]
    within = [t for r in report.grouped["random"] for t in r.trials if t.user_attrs["mult_adds"] <= 3e7]
    assert within  # 40 random NB201 cells: several cost under 30M
    assert cheap.best.accuracy == max(t.value for t in within) and cheap.best.cost <= 3e7
    rich = rows[("nsga2", 1e9)]
    assert rich.best.trial.value == max(t.value for r in report.grouped["nsga2"] for t in r.trials)
    paths = write_report(report, tmp_path / "out", static=False)
    html = paths[0].read_text()
    assert "Pareto fronts: accuracy vs cost" in html and "Best network under a budget of mult_adds" in html
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert len(summary["best_under_budget"]) == 4


def test_single_objective_studies_with_mult_adds_get_the_section_and_others_do_not(tmp_path):
    storage = open_storage(str(tmp_path / "so.log"))
    make_paired_studies(storage, "so", n_trials=6, seeds=1)  # synthetic: no cost attrs
    report = make_report(storage, "so")
    assert report.cost_key is None and "pareto_fronts" not in report.figures
    from nas_optuna.objectives import NB201Objective

    study = optuna.create_study(study_name="nb-random-s0", storage=storage, direction="maximize")
    study.set_user_attr("sampler", "random")
    study.optimize(NB201Objective(), n_trials=8)
    report = make_report(storage, "nb")
    assert report.cost_key == "mult_adds" and "hypervolume" in report.figures
    [front] = [t for t in report.figures["pareto_fronts"].data if "Pareto front" in t.name]
    assert list(front.x) == [
        c for c, _ in pareto_front((t.user_attrs["mult_adds"], t.value) for t in study.trials)
    ]


def test_pareto_figure_thins_the_cloud_of_trials_but_not_the_fronts(tmp_path):
    from nas_optuna.report.pareto_figures import cost_view, figure_pareto_fronts

    storage = open_storage(str(tmp_path / "mo.log"))
    make_multi_objective_studies(storage, "mo", n_trials=40, seeds=2)
    report = make_report(storage, "mo")
    view = cost_view(report.runs)
    full = figure_pareto_fronts(report.grouped, view)
    thin = figure_pareto_fronts(report.grouped, view, max_cloud=25)
    for sampler in ("random", "nsga2"):
        [every] = [t for t in full.data if t.name == f"{sampler}: trials"]
        [some] = [t for t in thin.data if t.name == f"{sampler}: trials (25 of 80)"]
        assert len(every.x) == 80 and len(some.x) == 25
        assert set(zip(some.x, some.y, strict=True)) <= set(zip(every.x, every.y, strict=True))
        front, kept = (
            [t for t in f.data if t.name.startswith(f"{sampler}: Pareto front")][0] for f in (full, thin)
        )
        assert front.x == kept.x and front.y == kept.y
        assert all("<br>|" in text for text in kept.text)  # each with its NB201 cell


def test_nasnet_a_is_marked_at_the_child_configuration_of_cifar_studies():
    from nas_optuna import NASNET_A, build_network, count_mult_adds

    table = {"name": "cifar", "preset": "proxy", "objectives": ["accuracy", "mult_adds"]}
    run = StudyRun("c-tpe-s0", "tpe", 0, None, {"study_config": {"objective": table}})
    [(label, cost)] = reference_marks([run], "mult_adds")[0]
    from nas_optuna.objectives.cifar import NETWORK_KEYS, checked_settings

    settings = checked_settings({"preset": "proxy"})
    model = build_network(NASNET_A, num_classes=10, **{k: settings[k] for k in NETWORK_KEYS})
    assert cost == count_mult_adds(model, (1, 3, 32, 32)) and "NASNet-A" in label
    mobile = {**table, "transfer": "mobile"}
    run = StudyRun("m-tpe-s0", "tpe", 0, None, {"study_config": {"objective": mobile}})
    marks, _ = reference_marks([run], "transfer_mult_adds")
    assert ("NASNet-A 4@1056 (paper)", 564e6) in marks
    large = {**table, "transfer": {"n_cells": 6, "filters": 168, "image_size": 331}}
    run = StudyRun("l-tpe-s0", "tpe", 0, None, {"study_config": {"objective": large}})
    marks, note = reference_marks([run], "transfer_mult_adds")
    assert marks == [] and "not 4@1056" in note
    nb201 = StudyRun("n-tpe-s0", "tpe", 0, None, {"study_config": {"objective": {"name": "nb201"}}})
    assert reference_marks([nb201], "mult_adds") == ([], None)


def test_a_reward_that_is_not_the_accuracy_is_drawn_by_the_accuracy_it_records():
    # e.g. a MnasNet reward: the value is a score, the objective records the raw accuracy
    trials = [
        TrialRecord(0, 0.5, "g0", 0.0, {}, {"accuracy": 0.9, "transfer_mult_adds": 600e6, "mult_adds": 1}),
        TrialRecord(1, 0.7, "g1", 0.0, {}, {"accuracy": 0.6, "transfer_mult_adds": 300e6, "mult_adds": 2}),
    ]
    run = StudyRun("r-ppo-s0", "ppo", 0, None, {}, trials=trials)
    view = cost_view([run])
    assert view.key == "transfer_mult_adds"  # the deployed network's cost before the child's
    assert [p for p, _ in view.points["r-ppo-s0"]] == [(600e6, 0.9), (300e6, 0.6)]
