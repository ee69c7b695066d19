"""NAS-Bench-201: the shipped table, its space, the objective, and nas-worker + report on it."""

import optuna
import pytest
from nas_optuna.objectives import NB201Objective, make_objective

from nas_optuna import nb201_space
from nas_optuna.nb201 import (
    NB201_BEST_VAL_ACCURACY,
    NB201_OPS,
    cellstr_from_params,
    load_nb201_table,
    params_from_cellstr,
)
from nas_optuna.report.build import make_report, write_report
from nas_optuna.storage_url import open_storage
from nas_optuna.study_config import load_study_config, validate
from nas_optuna.worker import main as worker_main

STUDIES = __import__("pathlib").Path(__file__).resolve().parents[1] / "studies"
# Two rows of the source table (nb201-cifar10.csv): its first and its best architecture.
FIRST = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def test_table_is_complete_and_every_cell_round_trips_through_the_space():
    table = load_nb201_table()
    space = nb201_space()
    assert list(space) == ["edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2"]
    assert all(d.choices == NB201_OPS for d in space.values())
    assert len(table) == len(NB201_OPS) ** len(space) == 15625
    for cellstr in table:
        params = params_from_cellstr(cellstr)
        assert set(params) == set(space) and cellstr_from_params(params) == cellstr
    assert max(row.val_accuracy for row in table.values()) == NB201_BEST_VAL_ACCURACY


def test_bad_params_and_cell_strings_name_what_is_wrong():
    params = params_from_cellstr(BEST)
    with pytest.raises(ValueError, match=r"parameter 'edge_2_1' = 'conv' is not allowed; expected one of"):
        cellstr_from_params({**params, "edge_2_1": "conv"})
    with pytest.raises(ValueError, match="missing parameter 'edge_3_2'"):
        cellstr_from_params({k: v for k, v in params.items() if k != "edge_3_2"})
    with pytest.raises(ValueError, match="expected 3 nodes"):
        params_from_cellstr("|none~0|")


def test_objective_returns_the_tables_val_accuracy_and_never_its_test_accuracy():
    objective = make_objective({"name": "nb201"}, nb201_space())
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(params_from_cellstr(FIRST))
    study.enqueue_trial(params_from_cellstr(BEST))
    study.optimize(objective, n_trials=40)
    first, best = study.trials[:2]
    assert (first.value, first.user_attrs["test_accuracy"], first.user_attrs["nb201_index"]) == (
        63.364,
        69.55,
        0,
    )
    assert (best.value, best.user_attrs["test_accuracy"], best.user_attrs["nb201_index"]) == (
        84.892,
        89.03,
        13714,
    )
    table = load_nb201_table()
    for trial in study.trials:
        row = table[trial.user_attrs["cellstr"]]
        assert trial.user_attrs["cellstr"] == cellstr_from_params(trial.params)
        assert trial.value == row.val_accuracy != row.test_accuracy == trial.user_attrs["test_accuracy"]


def test_nb201_objective_and_preset_refuse_other_spaces_and_settings():
    with pytest.raises(ValueError, match=r'set \[space\] preset = "nb201"'):
        NB201Objective(__import__("nas_optuna").nasnet_space())
    with pytest.raises(
        ValueError, match=r"unknown nb201 objective settings \['dataset'\]; allowed: \['sleep_seconds'\]"
    ):
        make_objective({"name": "nb201", "dataset": "x"}, nb201_space())
    with pytest.raises(
        ValueError, match=r"nb201 objective: sleep_seconds = -1 is not valid; expected a number >= 0"
    ):
        make_objective({"name": "nb201", "sleep_seconds": -1}, nb201_space())
    with pytest.raises(ValueError, match="fixed cell space; remove the other keys"):
        validate({"space": {"preset": "nb201", "n_blocks": 3}, "objective": {"name": "nb201"}})


def test_nas_worker_and_report_run_on_the_nb201_study(tmp_path, caplog):
    config = load_study_config(STUDIES / "nb201.toml")
    assert config.build_space() == nb201_space()
    log = str(tmp_path / "runs.log")
    caplog.set_level("INFO", logger="nas_optuna.worker")
    for sampler in ("ppo", "random"):
        argv = ["--storage", log, "--study-name", f"nb-{sampler}-s0", "--study-config", config.source]
        argv += ["--sampler", sampler, "--n-trials", "45", "--seed", "0", "--create-study"]
        assert worker_main(argv) == 0
    assert "|+|" in caplog.text  # the log lines show the cell string
    storage = open_storage(log)
    study = optuna.load_study(study_name="nb-ppo-s0", storage=storage)
    assert len(study.trials) == 45 and all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    report = make_report(storage, prefix="nb-")
    assert {s.sampler for s in report.summaries} == {"ppo", "random"}
    assert "ppo_choices_edge" in report.figures
    assert "best_vs_seconds" not in report.figures  # the table has no training times
    assert "train_seconds" not in study.trials[0].user_attrs
    html = write_report(report, tmp_path / "report", static=False)[0].read_text()
    assert "no cell diagram: a NAS-Bench-201 cell" in html and "cannot draw this genotype" not in html
    assert "test accuracy" in html and "|+|" in html
