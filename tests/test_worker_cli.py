"""nas-worker in one process: storage strings, refusals, failing trials, the budget count."""

from __future__ import annotations

import math
import time

import optuna
import pytest
from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna.spawn import child_argv, worker_plan
from nas_optuna.storage_url import open_storage, redact
from nas_optuna.study_config import validate
from nas_optuna.worker import build_parser, main
from nas_optuna.worker_loop import QueueSettings, Worker
from tests.queue_helpers import unique_name, write_synthetic_config


def _run(tmp_path, *extra, n_trials=5, storage=None, name="s", config=None):
    config = config or write_synthetic_config(tmp_path)
    storage = storage or str(tmp_path / "study.log")
    argv = [
        "--storage",
        storage,
        "--study-name",
        name,
        "--study-config",
        str(config),
        "--n-trials",
        str(n_trials),
    ]
    return main(argv + ["--sampler", "random", *extra])


def test_worker_runs_the_budget_and_records_study_settings(tmp_path, capsys):
    assert _run(tmp_path, "--create-study", "--seed", "3") == 0
    study = optuna.load_study(study_name="s", storage=open_storage(str(tmp_path / "study.log")))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5
    attrs = study.user_attrs
    assert attrs["sampler"] == "random" and attrs["seed"] == 3
    assert attrs["budget"] == {"n_trials": 5, "device_seconds": None}
    assert attrs["study_config"]["objective"]["name"] == "synthetic"
    assert study.trials[0].user_attrs["worker"].count(":") == 1  # host:pid


def test_later_worker_with_other_settings_is_refused_with_the_difference(tmp_path, capsys):
    assert _run(tmp_path, "--create-study", "--seed", "3") == 0
    capsys.readouterr()
    assert _run(tmp_path, "--seed", "4", n_trials=7) == 2
    err = capsys.readouterr().err
    assert "refuses to join" in err
    assert "seed: study has 3, this worker has 4" in err
    assert '"n_trials": 5' in err and '"n_trials": 7' in err
    assert "Traceback" not in err


def test_study_with_wrong_direction_or_other_space_is_refused(tmp_path, capsys):
    log = str(tmp_path / "study.log")
    optuna.create_study(study_name="min", storage=open_storage(log), direction="minimize")
    assert _run(tmp_path, name="min") == 2
    assert "--direction maximize" in capsys.readouterr().err
    other = optuna.create_study(study_name="other", storage=open_storage(log), direction="maximize")
    other.enqueue_trial({"normal_b0_in_a": 0})
    other.ask({"normal_b0_in_a": optuna.distributions.CategoricalDistribution([0, 1, 2])})
    assert _run(tmp_path, name="other") == 2
    assert "holds trials from another search space" in capsys.readouterr().err


def test_missing_study_gives_the_create_command(tmp_path, capsys):
    assert _run(tmp_path, name="nope") == 2
    assert "optuna create-study --storage" in capsys.readouterr().err


@pytest.mark.parametrize(
    "storage, message",
    [
        ("nonsense", "neither a URL nor a journal file"),
        ("grpc://localhost", "expected grpc://HOST:PORT"),
        ("foo+bar://x/y", "malformed or unsupported URL"),
    ],
)
def test_malformed_storage_is_one_clear_error(tmp_path, capsys, storage, message):
    assert _run(tmp_path, "--create-study", storage=storage) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unreachable_storage_exits_nonzero_without_traceback(tmp_path, capsys):
    url = "postgresql+psycopg2://postgres:secret@127.0.0.1:1/test"  # nothing listens on port 1
    code = _run(tmp_path, "--create-study", "--storage-retry-seconds", "0.5", storage=url)
    err = capsys.readouterr().err
    assert code == 3
    assert "cannot reach storage" in err and "secret" not in err and "Traceback" not in err
    assert redact(url) == "postgresql+psycopg2://postgres:***@127.0.0.1:1/test"


def test_sqlite_warns_about_several_processes(tmp_path, caplog):
    with caplog.at_level("WARNING"):
        assert _run(tmp_path, "--create-study", storage=f"sqlite:///{tmp_path}/s.db") == 0
    assert "not safe for several processes" in caplog.text


class _Flaky:
    """Raises for every trial whose number is in ``bad``; returns 0.5 otherwise."""

    def __init__(self, bad):
        self.bad = bad

    def __call__(self, trial):
        if trial.number in self.bad:
            raise RuntimeError(f"boom {trial.number}")
        return math.nan if trial.number == 2 else 0.5


def _worker(tmp_path, objective, n_trials, **settings):
    space = validate({"space": {"n_blocks": 1}, "objective": {"name": "synthetic"}}).build_space()
    study = optuna.create_study(study_name=unique_name(), storage=open_storage(str(tmp_path / "w.log")))
    return study, Worker(study, objective, QueueSettings(n_trials=n_trials, **settings), "test:1", space)


def test_failing_trials_are_recorded_and_the_worker_goes_on(tmp_path):
    study, worker = _worker(tmp_path, _Flaky({0, 3}), 6)
    assert worker.run() == 0
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.FAIL] + [
        TrialState.FAIL
    ] + [TrialState.COMPLETE] * 2
    assert trials[0].user_attrs["fail_reason"] == "RuntimeError: boom 0"
    assert trials[2].user_attrs["fail_reason"] == "objective returned nan"
    assert queue.budget_used(trials) == 6  # failed trials use the budget: they were run


class _PrunedOdd:
    """Prunes odd trials after reporting one value, as an objective with a pruner does."""

    def __call__(self, trial):
        trial.report(0.25, 0)
        if trial.number % 2:
            raise optuna.TrialPruned("pruned after epoch 1")
        return 0.5


def test_pruned_trials_are_pruned_not_failed_and_use_the_budget(tmp_path):
    study, worker = _worker(tmp_path, _PrunedOdd(), 8, max_consecutive_failures=2)
    assert worker.run() == 0
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED] * 4
    assert trials[1].value == 0.25  # the last reported value, for samplers that use it
    assert queue.budget_used(trials) == 8


def test_worker_stops_after_k_failures_in_a_row(tmp_path, caplog):
    study, worker = _worker(tmp_path, _Flaky(set(range(100))), 50, max_consecutive_failures=3)
    with caplog.at_level("INFO"):
        assert worker.run() == 1
    assert len(study.trials) == 3
    assert "3 trials failed in a row (last: RuntimeError: boom 2)" in caplog.text


def test_budget_count_ignores_retries_and_over_budget_trials(tmp_path):
    study = optuna.create_study(storage=open_storage(str(tmp_path / "b.log")))
    for _ in range(3):
        study.tell(study.ask(), 1.0)
    over = study.ask()
    queue.mark_over_budget(study, over)
    study.enqueue_trial({}, user_attrs={queue.RETRY_OF: 1, queue.RETRY_COUNT: 1})
    trials = study.get_trials(deepcopy=False)
    assert queue.budget_used(trials) == 3
    assert queue.budget_used(trials, below=2) == 2
    assert [t.number for t in queue.result_trials(trials)] == [0, 1, 2, 4]


def test_stale_detection_uses_heartbeat_then_start_time(tmp_path):
    study = optuna.create_study(storage=open_storage(str(tmp_path / "h.log")))
    trial = study.ask()
    frozen = study.get_trials(deepcopy=False)[0]
    start = frozen.datetime_start.timestamp()
    assert queue.stale_trials([frozen], grace_seconds=5, now=start + 4) == []
    assert queue.stale_trials([frozen], grace_seconds=5, now=start + 6) == [frozen]
    study.tell(trial, 1.0)
    assert queue.stale_trials(study.get_trials(deepcopy=False), grace_seconds=5, now=start + 60) == []


def test_several_workers_per_machine_plan():
    assert worker_plan(3, None, 1, "cpu") == ["cpu", "cpu", "cpu"]
    assert worker_plan(1, "0,1", 2, "cpu") == ["cuda:0", "cuda:0", "cuda:1", "cuda:1"]
    with pytest.raises(ValueError, match="not both"):
        worker_plan(2, "0", 1, "cpu")
    with pytest.raises(ValueError, match="comma-separated GPU indices"):
        worker_plan(1, "a,b", 1, "cpu")
    args = build_parser().parse_args(
        [
            "--storage",
            "s.log",
            "--study-name",
            "n",
            "--study-config",
            "c.toml",
            "--gpus",
            "0,1",
            "--seed",
            "5",
        ]
    )
    argv = child_argv(args, "cuda:1", 3)
    assert argv[argv.index("--device") + 1] == "cuda:1"
    assert argv[argv.index("--worker-index") + 1] == "3"
    assert argv[argv.index("--seed") + 1] == "5"
    assert "--gpus" not in argv and "--processes" not in argv


def test_processes_flag_spawns_workers_sharing_the_budget(tmp_path, caplog):
    config = write_synthetic_config(tmp_path, sleep_seconds=0.1)
    with caplog.at_level("INFO"):
        assert _run(tmp_path, "--create-study", "--processes", "2", n_trials=12, config=config) == 0
    assert "started 2 workers" in caplog.text and "workers exited with codes [0, 0]" in caplog.text
    study = optuna.load_study(study_name="s", storage=open_storage(str(tmp_path / "study.log")))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 12


def test_bad_device_is_refused(tmp_path, capsys):
    assert _run(tmp_path, "--create-study", "--device", "gpu0") == 2
    assert "expected cpu, cuda or cuda:K" in capsys.readouterr().err


def test_two_workers_recovering_the_same_stale_trial_requeue_it_once(tmp_path):
    path = str(tmp_path / "race.log")
    first = optuna.create_study(study_name="r", storage=open_storage(path))
    second = optuna.load_study(study_name="r", storage=open_storage(path))  # another "process"
    first.ask({"x": optuna.distributions.CategoricalDistribution([1, 2])})
    time.sleep(0.01)
    seen_by_first = first.get_trials(deepcopy=False)
    seen_by_second = second.get_trials(deepcopy=False)  # both saw it RUNNING and stale
    assert queue.recover_stale(first, seen_by_first, grace_seconds=0, max_retries=2) == [0]
    assert queue.recover_stale(second, seen_by_second, grace_seconds=0, max_retries=2) == []
    trials = first.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert trials[1].user_attrs == {queue.RETRY_OF: 0, queue.RETRY_COUNT: 1}
    assert trials[0].user_attrs["fail_reason"].startswith("worker lost: no heartbeat")
    assert queue.result_trials(trials) == [trials[1]]


def test_retries_are_bounded(tmp_path):
    study = optuna.create_study(storage=open_storage(str(tmp_path / "bound.log")))
    study.enqueue_trial({}, user_attrs={queue.RETRY_OF: 0, queue.RETRY_COUNT: 2})
    study.ask()
    time.sleep(0.01)
    assert queue.recover_stale(study, study.get_trials(deepcopy=False), grace_seconds=0, max_retries=2) == [0]
    (trial,) = study.get_trials(deepcopy=False)
    assert trial.state == TrialState.FAIL  # failed, not re-queued: a third retry is over the bound
    assert queue.RETRIED not in trial.system_attrs
    assert queue.result_trials([trial]) == [trial]
