import os
from pathlib import Path

import optuna
import pytest

from nas_optuna.cli import main
from nas_optuna.demo import DemoPlan, check_plan, packaged_study_config, progress_line
from nas_optuna.storage_url import open_storage
from nas_optuna.worker import main as worker_main


def _plan(tmp_path, **changes):
    settings = dict(
        out_dir=tmp_path / "demo",
        name="d",
        samplers=("ppo", "random"),
        seeds=2,
        n_trials=7,
        study_config=packaged_study_config("synthetic.toml"),
    )
    return DemoPlan(**{**settings, **changes})


def test_plan_pairs_samplers_per_seed_and_follows_the_worker_contract(tmp_path):
    plan = _plan(tmp_path)
    assert plan.study_names() == ["d-ppo-s0", "d-random-s0", "d-ppo-s1", "d-random-s1"]
    command = plan.worker_command("d-random-s1")
    flags = dict(zip(command[4::2], command[5::2], strict=True))
    assert flags == {
        "--storage": f"journal-nofsync:{tmp_path / 'demo' / 'runs.log'}",
        "--study-name": "d-random-s1",
        "--study-config": str(plan.study_config),
        "--sampler": "random",
        "--seed": "1",
        "--worker-index": "0",
        "--n-trials": "7",
        "--device": "cpu",
        "--threads": "1",
    }
    assert command[1:4] == ["-P", "-m", "nas_optuna.worker"]


def test_progress_line_stays_short_and_names_only_running_studies(tmp_path):
    plan = _plan(tmp_path, seeds=10)  # 20 studies
    plan.out_dir.mkdir()
    plan.create_studies()
    storage = open_storage(plan.storage_url)
    for name, n in [("d-ppo-s0", 7), ("d-random-s0", 7), ("d-ppo-s1", 3)]:
        study = optuna.load_study(study_name=name, storage=storage)
        for _ in range(n):
            study.tell(study.ask(), 0.5)
    study.ask()  # a running trial is not a completed one
    line = progress_line(plan, storage, running=["d-ppo-s1", "d-random-s1"], n_pending=16)
    assert line == "17/140 trials; 2/20 studies finished; running: d-ppo-s1 3/7, d-random-s1 0/7"
    assert progress_line(plan, storage, running=[], n_pending=0).endswith("20/20 studies finished")


def test_demo_refuses_to_reuse_existing_studies_and_bad_settings(tmp_path):
    plan = _plan(tmp_path)
    plan.out_dir.mkdir()
    optuna.create_study(study_name="d-ppo-s1", storage=open_storage(str(plan.storage_path)))
    with pytest.raises(ValueError, match=r"already holds \['d-ppo-s1'\]"):
        check_plan(plan)
    with pytest.raises(ValueError, match="--seeds and --n-trials must be >= 1"):
        check_plan(_plan(tmp_path, n_trials=0))
    with pytest.raises(FileNotFoundError, match="no study config 'nope.toml'"):
        packaged_study_config("nope.toml")


def test_demo_runs_workers_and_writes_the_report(tmp_path, capsys):
    # README's main job with its default config (real children on the bundled images), smaller.
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-trials", "3", "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "6/6 trials; 2/2 studies finished" in printed
    assert Path(out / "report" / "report.html").is_file()
    study = optuna.load_study(study_name="demo-ppo-s0", storage=open_storage(str(out / "runs.log")))
    assert study.user_attrs["sampler"] == "ppo"


def test_demo_worker_commands_sample_the_same_trials_twice(tmp_path):
    # With the fixed --worker-index of the plan's commands (the test above), a worker's sampler
    # seed is the study's seed: the same plan run twice samples the same architectures.
    def sampled(out):
        plan = _plan(tmp_path / out, seeds=1, n_trials=4)
        plan.out_dir.mkdir(parents=True)
        plan.create_studies()
        for name in plan.study_names():  # the worker's own entry point, in this process
            assert worker_main(plan.worker_command(name)[4:]) == 0
        storage = open_storage(str(plan.storage_path))
        return {
            n: [t.params for t in optuna.load_study(study_name=n, storage=storage).trials]
            for n in plan.study_names()
        }

    first, second = sampled("a"), sampled("b")
    assert first == second
    assert first["d-ppo-s0"] != first["d-random-s0"]


def test_demo_runs_any_set_of_samplers(tmp_path, capsys):
    out = tmp_path / "four"
    synthetic = str(packaged_study_config("synthetic.toml"))
    argv = ["demo", "--out", str(out), "--study-config", synthetic, "--n-trials", "6", "--jobs", "2"]
    assert main([*argv, "--samplers", "evolution", "random", "tpe"]) == 0
    printed = capsys.readouterr().out
    assert "18/18 trials; 3/3 studies finished" in printed
    for sampler in ("evolution", "random", "tpe"):
        assert f"{sampler}: best" in printed
    study = optuna.load_study(study_name="demo-evolution-s0", storage=open_storage(str(out / "runs.log")))
    assert study.user_attrs["sampler"] == "evolution"


def test_demo_journal_skips_fsync_and_reads_back_as_a_plain_journal_file(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    path = tmp_path / "runs.log"
    study = optuna.create_study(
        study_name="x", storage=open_storage(f"journal-nofsync:{path}"), direction="maximize"
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert synced == []
    again = optuna.load_study(study_name="x", storage=open_storage(str(path)))
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    again.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)  # the plain form syncs
    assert synced


def test_demo_creates_multi_objective_studies_with_the_configs_directions(tmp_path):
    plan = _plan(
        tmp_path, samplers=("nsga2",), seeds=1, study_config=packaged_study_config("nb201-pareto.toml")
    )
    plan.out_dir.mkdir(parents=True)
    plan.create_studies()
    [name] = plan.study_names()
    study = optuna.load_study(study_name=name, storage=open_storage(str(plan.storage_path)))
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert worker_main(plan.worker_command(name)[4:]) == 0
    assert all(len(t.values) == 2 for t in study.trials) and len(study.trials) == 7
