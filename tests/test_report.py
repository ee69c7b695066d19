import json
import math
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import optuna
import pytest
from report_studies import make_paired_studies

from nas_optuna import NASNET_A, nasnet_space, params_from_genotype
from nas_optuna.cli import main
from nas_optuna.report import figures
from nas_optuna.report.build import _write_image, make_report, write_report
from nas_optuna.report.dashboard import attach_to_dashboard
from nas_optuna.report.data import StudyRun, TrialRecord, load_runs
from nas_optuna.report.diagram import cell_svg
from nas_optuna.report.html import render_html
from nas_optuna.report.metrics import SamplerSummary, compare_samplers, top_k_curves
from nas_optuna.storage_url import existing_storage, open_storage


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("report") / "runs.log")
    storage = open_storage(path)
    make_paired_studies(storage, "exp", n_trials=30, seeds=2)
    # A trial still running must not count.
    optuna.load_study(study_name="exp-tpe-s0", storage=storage).ask()
    return path


def _record(i, value, genotype):
    return TrialRecord(i, value, genotype, 1.0, {}, {})


def test_top_k_curves_match_brute_force_with_duplicates():
    rng = np.random.default_rng(0)
    trials = [_record(i, float(rng.random()), f"g{rng.integers(8)}") for i in range(40)]
    curves = top_k_curves(trials, (1, 5))
    for n in range(1, len(trials) + 1):
        best = {}
        for t in trials[:n]:
            best[t.genotype] = max(best.get(t.genotype, -1.0), t.value)
        ranked = sorted(best.values(), reverse=True)
        for k in (1, 5):
            expected = np.mean(ranked[:k]) if len(ranked) >= k else math.nan
            assert curves[k][n - 1] == pytest.approx(expected, nan_ok=True)


def test_load_runs_groups_by_sampler_and_ignores_running_trials(journal):
    storage = open_storage(journal)
    runs = load_runs(storage, prefix="exp-")
    assert [(r.sampler, r.seed) for r in runs] == [("random", 0), ("random", 1), ("tpe", 0), ("tpe", 1)]
    tpe0 = runs[2]
    assert tpe0.n_running == 1 and len(tpe0.trials) == 30
    assert all(t.genotype.startswith("normal: ") for t in tpe0.trials)
    with pytest.raises(ValueError, match="no study whose name starts with 'nope'"):
        load_runs(storage, prefix="nope")
    with pytest.raises(ValueError, match=r"no studies \['exp-cmaes-s0'\]"):
        load_runs(storage, names=["exp-tpe-s0", "exp-cmaes-s0"])


def test_mann_whitney_reports_p_value_and_when_seeds_are_too_few():
    def summary(name, best):
        return SamplerSummary(name, len(best), 10, (10,) * len(best), tuple(best), tuple(best), tuple(best))

    separated = compare_samplers(
        [summary("a", [0.1, 0.2, 0.3, 0.4, 0.5]), summary("b", [0.6, 0.7, 0.8, 0.9, 1.0])]
    )
    assert separated[0].p_value == pytest.approx(2 / math.comb(10, 5))
    assert separated[0].note == "significant at 5%"
    three = compare_samplers([summary("a", [0.1, 0.2, 0.3]), summary("b", [0.6, 0.7, 0.8])])
    assert three[0].p_value == pytest.approx(0.1) and "too few seeds" in three[0].note
    one = compare_samplers([summary("a", [0.1]), summary("b", [0.6, 0.7])])
    assert one[0].p_value is None and "too few seeds" in one[0].note


def test_cell_diagram_is_valid_svg_with_every_op_and_output_edge():
    svg = cell_svg(NASNET_A.reduction, "Reduction cell")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    ops = [op for b in NASNET_A.reduction.blocks for op in (b.op_a, b.op_b)]
    assert sorted(t for t in texts if t in ops) == sorted(ops)
    dashed = [p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("stroke-dasharray")]
    assert len(dashed) == len(NASNET_A.reduction.output_states("released")) == 4
    assert "Reduction cell" in texts


def test_choice_frequencies_sum_to_one_per_window(journal):
    runs = load_runs(open_storage(journal), prefix="exp-random")
    labels, choices, z = figures.choice_frequencies(runs, "normal_b0_op_a", width=10)
    assert labels == ["1-10", "11-20", "21-30"]
    # Every op in the space's order, also those no trial of a window sampled (rows of zeros).
    assert choices == list(nasnet_space()["normal_b0_op_a"].choices)
    assert np.allclose(z.sum(axis=0), 1.0)
    labels, choices, z = figures.choice_frequencies(runs, "normal_b4_in_a", width=10)
    assert choices == ["0", "1", "2", "3", "4", "5"]


def test_report_writes_html_json_and_summary(journal, tmp_path):
    report = make_report(open_storage(journal), prefix="exp-")
    paths = write_report(report, tmp_path, static=False)
    html = (tmp_path / "report.html").read_text()
    for name in ("exp-random-s0", "exp-tpe-s1", "fig-top_k", "fig-best_vs_seconds", "Normal cell"):
        assert name in html
    assert "1 trials were still running" in html
    assert "<td>n_trials 30</td>" in html and "'n_trials'" not in html  # not a Python repr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["compared_at_n_trials"] == 30
    best_tpe = summary["best"]["tpe"]
    assert best_tpe["genotype"] in html.replace("&#x27;", "'")
    runs = load_runs(open_storage(journal), prefix="exp-tpe")
    assert best_tpe["value"] == max(t.value for r in runs for t in r.trials)
    assert {p.name for p in paths} >= {"report.html", "top_k.json", "reward_over_time.json"}


def test_report_compares_every_pair_of_any_number_of_arms(tmp_path):
    storage = open_storage(str(tmp_path / "arms.log"))
    arms = ("random", "tpe", "evolution", "pnas")
    make_paired_studies(storage, "arms", n_trials=12, seeds=2, samplers=arms)
    report = make_report(storage, prefix="arms-")
    assert sorted(s.sampler for s in report.summaries) == sorted(arms)
    pairs = {(c.sampler_a, c.sampler_b) for c in report.comparisons}
    assert len(pairs) == 6 and all(a != b for a, b in pairs)
    assert len(report.comparisons) == 6 * 2  # best and top5 per pair
    for name in ("top_k", "best_vs_seconds", "reward_over_time"):
        legend = {t.legendgroup or t.name for t in report.figures[name].data if t.showlegend is not False}
        assert set(arms) <= {str(x).split(" ")[0] for x in legend}, name
    html = render_html(report)
    for a, b in pairs:
        assert f"{a} vs {b}" in html
    assert set(report.best) == set(arms)


def test_ppo_study_gets_choice_heatmaps(tmp_path):
    storage = open_storage(str(tmp_path / "ppo.log"))
    make_paired_studies(storage, "p", n_trials=12, seeds=1, samplers=("ppo",))
    report = make_report(storage, prefix="p-")
    assert {"ppo_choices_normal", "ppo_choices_reduction"} <= set(report.figures)
    heatmaps = [t for t in report.figures["ppo_choices_normal"].data if t.type == "heatmap"]
    assert len(heatmaps) == 25


def test_a_study_not_started_yet_does_not_pull_the_comparison_to_zero(tmp_path):
    storage = open_storage(str(tmp_path / "queued.log"))
    make_paired_studies(storage, "q", n_trials=10, seeds=2)
    optuna.create_study(study_name="q-tpe-s2", storage=storage, direction="maximize")  # queued
    report = make_report(storage, prefix="q-")
    assert report.n_common == 10
    tpe = next(s for s in report.summaries if s.sampler == "tpe")
    assert tpe.completed == (10, 10, 0) and all(math.isfinite(v) for v in tpe.best[:2])
    assert all(c.p_value is not None for c in report.comparisons)
    assert any("No completed trials yet in q-tpe-s2" in note for note in report.notes)


def test_runs_of_one_sampler_with_other_settings_are_separate_arms(tmp_path):
    pytest.importorskip("optuna_dashboard")
    storage = open_storage(str(tmp_path / "arms.log"))
    names = make_paired_studies(storage, "a", n_trials=12, seeds=2, samplers=("ppo",))
    names += make_paired_studies(storage, "b", n_trials=12, seeds=1, samplers=("ppo",))
    settings = {"a-ppo-s0": {"batch_size": 20}, "a-ppo-s1": {"batch_size": 20}}
    settings["b-ppo-s0"] = {"batch_size": 20, "learning_rate": 0.0035}
    for name, value in settings.items():
        optuna.load_study(study_name=name, storage=storage).set_user_attr("sampler_settings", value)
    report = make_report(storage, names=names)
    assert {arm: [r.study_name for r in runs] for arm, runs in report.grouped.items()} == {
        "ppo (learning_rate=0.0035)": ["b-ppo-s0"],
        "ppo (learning_rate=default)": ["a-ppo-s0", "a-ppo-s1"],
    }
    assert [s.n_seeds for s in report.summaries] == [1, 2]
    own = "ppo_choices_normal-ppo-learning_rate-0.0035"
    assert {own, "ppo_choices_normal-ppo-learning_rate-default"} <= set(report.figures)
    assert "ppo_choices_normal" not in report.figures  # never pooled over both arms
    html = render_html(report)
    assert "PPO choices over time: Normal cell (ppo-learning_rate-0.0035)" in html
    attach_to_dashboard(report, storage)
    # optuna-dashboard keeps a plot in study system attrs "dashboard:plot_data:<id>:<chunk>".
    attached = {
        k.split(":")[2]
        for k in storage.get_study_system_attrs(storage.get_study_id_from_name("b-ppo-s0"))
        if k.startswith("dashboard:plot_data:")
    }
    # One card per block, of this study's arm only.
    assert "nas-optuna-ppo_choices_normal_b0-ppo-learning_rate-0.0035" in attached
    assert "nas-optuna-ppo_choices_normal_b0-ppo-learning_rate-default" not in attached
    assert not any(name.startswith("nas-optuna-ppo_choices_normal-") for name in attached)


def test_report_cli_lists_and_writes(journal, tmp_path, capsys):
    assert main(["report", "--storage", journal, "--list"]) == 0
    assert "exp-random-s1" in capsys.readouterr().out
    out = tmp_path / "cli"
    assert main(["report", "--storage", journal, "--prefix", "exp-", "--out", str(out), "--no-static"]) == 0
    assert (out / "report.html").is_file()
    assert main(["report", "--storage", str(tmp_path / "missing.log"), "--list"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_show_draws_named_and_stored_genotypes(journal, tmp_path, capsys):
    svg = tmp_path / "a.svg"
    small = ["--cells", "1", "--filters", "8"]  # the network is only counted here, keep it cheap
    assert main(["show", "nasnet-a", *small, "--out", str(svg)]) == 0
    assert ET.parse(svg).getroot().tag.endswith("svg")
    html = tmp_path / "t.html"
    assert (
        main(["show", "--storage", journal, "--study", "exp-random-s0", "--trial", "3", "--out", str(html)])
        == 0
    )
    trial = optuna.load_study(study_name="exp-random-s0", storage=open_storage(journal)).trials[3]
    assert trial.user_attrs["genotype"] in capsys.readouterr().out
    assert main(["show", "--storage", journal, "--study", "exp-random-s0", "--trial", "99"]) == 2
    assert "has no trial 99" in capsys.readouterr().err


def test_show_counts_nasnet_a_parameters_and_mult_adds(tmp_path, capsys):
    args = ["show", "nasnet-a", "--cells", "2", "--filters", "24", "--out", str(tmp_path / "n.html")]
    assert main(args) == 0
    out = capsys.readouterr().out
    params = int(out.split("parameters: ")[1].split(" ")[0].replace(",", ""))
    mult_adds = int(out.split("multiply-adds: ")[1].split(" ")[0].replace(",", ""))
    # Facts sheet, search child N=2, F=24, released concat: 0.758M parameters, ~136M mult-adds.
    assert abs(params - 758_000) / 758_000 < 0.005
    assert abs(mult_adds - 136e6) / 136e6 < 0.01
    assert "2@576 (N=2, F=24)" in out


def test_existing_storage_rejects_plain_names():
    with pytest.raises(ValueError, match="is neither a"):
        existing_storage(f"runs-{uuid.uuid4().hex}.db")


def test_same_genotype_twice_counts_once(tmp_path):
    storage = open_storage(str(tmp_path / "dup.log"))
    study = optuna.create_study(study_name="d-random-s0", storage=storage, direction="maximize")
    space = nasnet_space()
    for value in (0.9, 0.5):
        trial = study.ask(space)
        study.tell(trial, value)
    params = params_from_genotype(NASNET_A)
    for value in (0.8, 0.95):
        study.enqueue_trial(params)
        trial = study.ask(space)
        study.tell(trial, value)
    (run,) = load_runs(storage, prefix="d-")
    curves = top_k_curves(run.trials, (1, 3))
    assert curves[1][-1] == pytest.approx(0.95)
    assert curves[3][-1] == pytest.approx((0.95 + 0.9 + 0.5) / 3)  # NASNet-A's 0.8 is superseded


def test_ppo_diagnostics_figure_plots_each_key_per_study():
    rows = [
        {
            "entropy": 2.5 - 0.1 * i,
            "approx_kl": 0.01,
            "clip_fraction": 0.1,
            "baseline": 0.3 + 0.01 * i,
            "mean_reward": 0.3,
            "policy_version": i,
            "n_trials": 20 * (i + 1),
        }
        for i in range(4)
    ]
    fig = figures.figure_ppo_diagnostics({"x-ppo-s0": rows, "x-ppo-s1": rows[:2]})
    entropy = [t for t in fig.data if t.yaxis == "y" and t.name == "x-ppo-s0"]
    assert len(fig.data) == 2 * len(figures.DIAGNOSTIC_KEYS)
    assert list(entropy[0].x) == [0, 1, 2, 3]  # policy versions
    assert list(entropy[0].y) == pytest.approx([2.5, 2.4, 2.3, 2.2])
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tickformat == "d"  # whole versions only


def test_dashboard_cards_take_the_card_size_one_block_each(tmp_path):
    from nas_optuna.report.dashboard import dashboard_figures

    storage = open_storage(str(tmp_path / "cards.log"))
    make_paired_studies(storage, "c", n_trials=12, seeds=1, samplers=("ppo", "random"))
    report = make_report(storage, prefix="c-")
    ppo = next(r for r in report.runs if r.sampler == "ppo")
    cards = dashboard_figures(report, ppo)
    blocks = {f"ppo_choices_{role}_b{b}" for role in ("normal", "reduction") for b in range(5)}
    assert set(cards) == {"top_k", "best_vs_seconds", "reward_over_time", "ppo_policy", "ppo_reward"} | blocks
    assert all(fig.layout.height is None and fig.layout.width is None for fig in cards.values())
    block = cards["ppo_choices_reduction_b3"]
    assert [a.text for a in block.layout.annotations] == ["op_a", "op_b", "combine", "in_a", "in_b"]
    assert all(t.type == "heatmap" for t in block.data) and len(block.data) == 5
    assert {t.name for t in cards["ppo_reward"].data} == {"c-ppo-s0"}
    random_run = next(r for r in report.runs if r.sampler == "random")
    assert set(dashboard_figures(report, random_run)) == {"top_k", "best_vs_seconds", "reward_over_time"}
    assert report.figures["top_k"].data[0].name.endswith("(1 seed)")


def test_report_leaves_out_rerank_and_foreign_studies_and_names_what_holds_the_budget(tmp_path, capsys):
    path = str(tmp_path / "mixed.log")
    storage = open_storage(path)
    make_paired_studies(storage, "m", n_trials=12, seeds=1)
    rerank = optuna.create_study(study_name="m-random-s0-rerank", storage=storage, direction="maximize")
    rerank.set_user_attr("rerank_settings", {"epochs": 5})
    for value in (0.5, 0.6):
        rerank.tell(rerank.ask(nasnet_space()), value)
    optuna.create_study(study_name="m-notes", storage=storage)  # a foreign name, no sampler attr
    report = make_report(storage, prefix="m-")
    assert [r.study_name for r in report.runs] == ["m-random-s0", "m-tpe-s0"]
    assert report.n_common == 12 and "unknown" not in report.grouped
    assert any(n.startswith("m-random-s0-rerank left out: a rerank study") for n in report.notes)
    assert any(n.startswith("m-notes left out: neither named") for n in report.notes)
    with pytest.raises(ValueError, match="'m-random-s0-rerank' is a rerank study"):
        make_report(storage, names=["m-tpe-s0", "m-random-s0-rerank"])
    args = ["report", "--storage", path, "--studies", "m-tpe-s0", "m-notes", "--out", str(tmp_path)]
    assert main(args) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    make_paired_studies(storage, "m", n_trials=2, seeds=1, samplers=("late",))  # far behind the rest
    report = make_report(storage, prefix="m-")
    assert report.n_common == 2
    held = "samplers are compared at only 2 trials per seed, held back by m-late-s0 (most studies have 12"
    assert report.notes[0].startswith(held)


def test_budgets_read_as_text():
    from nas_optuna.report.metrics import format_budget

    assert format_budget({"n_trials": 20000, "device_seconds": None}) == "n_trials 20,000"
    assert format_budget({"n_trials": 8, "device_seconds": 3600.5}) == "n_trials 8, device_seconds 3600.5"
    assert format_budget(None) == format_budget({}) == "none"


def test_decisions_without_blocks_get_cards_of_six():
    from nas_optuna.report.card_figures import decision_groups, figure_block_choices

    edges = [f"edge_{i}_{j}" for i in range(1, 4) for j in range(i)]  # NAS-Bench-201's 6 edges
    assert decision_groups(edges) == {"edge": edges}
    assert list(decision_groups([f"x_{i}" for i in range(8)])) == ["x", "x_2"]
    blocks = decision_groups(["normal_b1_in_a", "normal_b1_op_a", "normal_b0_combine"])
    assert blocks == {"normal_b1": ["normal_b1_op_a", "normal_b1_in_a"], "normal_b0": ["normal_b0_combine"]}
    trials = [TrialRecord(i, 0.5, f"g{i}", 1.0, {e: "none" for e in edges}, {}) for i in range(4)]
    run = StudyRun("n-ppo-s0", "ppo", 0, None, {}, trials)
    fig = figure_block_choices([run], "edge", edges, n_windows=2)
    assert fig.layout.title.text == "edge decisions: choices per 2 trials" and len(fig.data) == 6


class _FlakyFigure:
    """A figure whose first `failures` exports fail, as kaleido's can on a loaded machine."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.layout = SimpleNamespace(height=None)

    def write_image(self, path, width, height):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
        Path(path).write_bytes(b"\x89PNG\r\n\x1a\n")


def test_a_static_export_that_fails_once_is_tried_again(tmp_path):
    once = _FlakyFigure(failures=1)
    _write_image(once, tmp_path / "a.png")
    assert once.calls == 2 and (tmp_path / "a.png").exists()
    always = _FlakyFigure(failures=5)
    with pytest.raises(RuntimeError, match="kaleido_scopes"):
        _write_image(always, tmp_path / "b.png")
    assert always.calls == 2 and not (tmp_path / "b.png").exists()
