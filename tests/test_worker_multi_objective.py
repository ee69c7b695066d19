"""Multi-objective studies through nas-worker: (accuracy, mult_adds) on NB201, on a journal file."""

from __future__ import annotations

import re

import optuna
import pytest
from optuna.study import StudyDirection
from optuna.trial import TrialState

from nas_optuna.nb201 import load_nb201_table
from nas_optuna.nb201_cost import nb201_cost
from nas_optuna.storage_url import open_storage
from nas_optuna.study_config import validate
from nas_optuna.worker import main


def _config(tmp_path, extra: str = "", objectives: str = '["accuracy", "mult_adds"]') -> str:
    path = tmp_path / "mo.toml"
    path.write_text(
        f'[space]\npreset = "nb201"\n\n[objective]\nname = "nb201"\nobjectives = {objectives}\n\n{extra}'
    )
    return str(path)


def _argv(tmp_path, config, sampler, n_trials="30", *extra):
    return [
        "--storage", str(tmp_path / "mo.log"), "--study-name", sampler, "--study-config", config,
        "--sampler", sampler, "--n-trials", n_trials, *extra,
    ]  # fmt: skip


def _study(tmp_path, name):
    return optuna.load_study(study_name=name, storage=open_storage(str(tmp_path / "mo.log")))


def _check_values(study, n):
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == n
    table = load_nb201_table()
    for t in complete:
        accuracy, mult_adds = t.values
        assert accuracy == table[t.user_attrs["cellstr"]].val_accuracy
        assert mult_adds == nb201_cost(t.params).mult_adds == t.user_attrs["mult_adds"]
    return complete


def test_two_workers_report_accuracy_and_mult_adds_on_a_created_study(tmp_path, caplog, capfd):
    config = _config(tmp_path)
    with caplog.at_level("INFO"):
        argv = _argv(tmp_path, config, "tpe", "30", "--create-study", "--seed", "0", "--processes", "2")
        assert main(argv) == 0
    assert "workers exited with codes [0, 0]" in caplog.text
    err = capfd.readouterr().err
    study = _study(tmp_path, "tpe")
    assert study.directions == [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE]
    complete = _check_values(study, 30)
    front = study.best_trials  # optuna's own Pareto front of the study
    line = (
        r"worker (\S+) exits \(budget spent\): ran (no trials|\d+ complete); "
        rf"study: 30/30 budget used, 30 complete, {len(front)} trials on the Pareto front"
    )
    exits = re.findall(line, err)
    assert len(exits) == 2  # both workers shared the study to its end and agree on its front
    # Table trials take milliseconds: one worker may run them all before the other starts.
    for name, ran in exits:
        mine = sum(t.user_attrs["worker"] == name for t in complete)
        assert ran == ("no trials" if mine == 0 else f"{mine} complete")


def test_nsga2_via_the_worker_on_a_study_made_with_optuna_create_study(tmp_path):
    config = _config(tmp_path, "[sampler.nsga2]\npopulation_size = 8\n")
    storage = open_storage(str(tmp_path / "mo.log"))
    optuna.create_study(study_name="nsga2", storage=storage, directions=["maximize", "minimize"])
    assert main(_argv(tmp_path, config, "nsga2", "24", "--seed", "1")) == 0
    study = _study(tmp_path, "nsga2")
    _check_values(study, 24)
    # NSGA-II's generations: the trials after the first population are children of it.
    assert {t.system_attrs.get("NSGAIISampler:generation") for t in study.trials} >= {0, 1}
    assert study.user_attrs["sampler_settings"] == {"population_size": 8}


def test_ppo_through_its_declared_scalarization(tmp_path):
    config = _config(tmp_path, "[sampler.ppo]\nscalarization = [1.0, 1e-7]\nupdate_every = 5\n")
    assert (
        main(_argv(tmp_path, config, "ppo", "20", "--create-study", "--seed", "0", "--worker-index", "0"))
        == 0
    )
    study = _study(tmp_path, "ppo")
    _check_values(study, 20)
    from nas_optuna import PPOLSTMSampler

    rows = PPOLSTMSampler.diagnostics(study)
    assert len(rows) >= 3
    by_number = {t.number: t.values for t in study.trials}
    for row in rows:  # update v learned from batch v-1: its rewards are accuracy - mult_adds / 1e7
        batch = range((row["policy_version"] - 1) * 5, row["policy_version"] * 5)
        rewards = [by_number[n][0] - 1e-7 * by_number[n][1] for n in batch]
        assert row["mean_reward"] == pytest.approx(sum(rewards) / 5)


def test_ppo_without_a_scalarization_is_refused_before_the_study_is_touched(tmp_path, capsys):
    config = _config(tmp_path)
    assert main(_argv(tmp_path, config, "ppo", "10", "--create-study")) == 2
    err = capsys.readouterr().err
    assert "[sampler.ppo] scalarization" in err and err.count("\n") == 1
    assert main(_argv(tmp_path, config, "evolution", "10", "--create-study")) == 2
    assert "--sampler random | tpe | nsga2" in capsys.readouterr().err
    single = _config(tmp_path, "[sampler.ppo]\nscalarization = [1.0, 1e-7]\n", objectives='["accuracy"]')
    assert main(_argv(tmp_path, single, "ppo", "10", "--create-study")) == 2
    assert "scalarization has 2 weights, but the objectives are ['accuracy']" in capsys.readouterr().err
    assert not (tmp_path / "mo.log").exists() or not optuna.get_all_study_names(
        open_storage(str(tmp_path / "mo.log"))
    )


def test_directions_that_do_not_fit_the_objectives_are_one_clear_error(tmp_path, capsys):
    storage = open_storage(str(tmp_path / "mo.log"))
    optuna.create_study(study_name="random", storage=storage, direction="maximize")
    assert main(_argv(tmp_path, _config(tmp_path), "random", "5")) == 2
    err = capsys.readouterr().err
    assert "--directions maximize minimize" in err and err.count("\n") == 1
    optuna.create_study(study_name="tpe", storage=storage, directions=["maximize", "minimize"])
    assert main(_argv(tmp_path, _config(tmp_path, objectives='["accuracy"]'), "tpe", "5")) == 2
    assert "create the study with --direction maximize" in capsys.readouterr().err


def test_a_cost_in_the_reward_and_as_an_objective_is_refused():
    from nas_optuna.multi_objective import objective_names

    table = {"name": "cifar", "reward": "mnas", "objectives": ["accuracy", "mult_adds"]}
    with pytest.raises(ValueError, match="leave out reward"):
        objective_names(table)
    assert objective_names({**table, "reward": "accuracy"}) == ("accuracy", "mult_adds")


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        ('["mult_adds"]', 'the first must be "accuracy"'),
        ('["accuracy", "latency"]', "the nb201 objective records no cost 'latency'"),
        ('"accuracy"', "expected a list of names"),
        ('["accuracy", "mult_adds", "mult_adds"]', "each objective once"),
    ],
)
def test_bad_objectives_lists_name_the_problem(objectives, message):
    import tomllib

    text = f'[space]\npreset = "nb201"\n[objective]\nname = "nb201"\nobjectives = {objectives}\n'
    data = tomllib.loads(text)
    with pytest.raises(ValueError, match=message):
        validate(data)


def test_an_objective_that_reports_epochs_trains_to_the_end_in_a_multi_objective_study():
    from nas_optuna.multi_objective import MultiObjective

    def reporting(trial):  # as the cifar objective: one report and a prune check per epoch
        x = trial.suggest_categorical("x", ["a", "b"])
        trial.set_user_attr("mult_adds", 10 if x == "a" else 20)
        for epoch in range(3):
            trial.report(0.1 * epoch, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        trial.set_user_attr("epochs_done", 3)
        return 0.5

    study = optuna.create_study(directions=["maximize", "minimize"])
    study.optimize(MultiObjective(reporting, ("accuracy", "mult_adds")), n_trials=4)
    assert all(t.state == TrialState.COMPLETE and t.user_attrs["epochs_done"] == 3 for t in study.trials)
    assert {tuple(t.values) for t in study.trials} <= {(0.5, 10.0), (0.5, 20.0)}
    with pytest.raises(NotImplementedError):  # what the wrapper spares the objective
        optuna.create_study(directions=["maximize", "minimize"]).optimize(reporting, n_trials=1, catch=())


def test_the_exit_lines_pareto_count_is_optunas_best_trials_duplicates_included():
    from nas_optuna.progress import _pareto_numbers

    study = optuna.create_study(directions=["maximize", "minimize"])
    values = [(80, 5), (80, 5), (70, 3), (90, 9), (60, 4), (85, 9), (90, 9), (50, 1)]
    for v in values:
        study.add_trial(optuna.trial.create_trial(values=list(v)))
    assert sorted(_pareto_numbers(study.trials)) == sorted(t.number for t in study.best_trials)
    assert len(study.best_trials) == 6  # (80,5) twice, (70,3), (90,9) twice, (50,1)
