"""Workers survive a PostgreSQL restart: a private cluster (never the shared server) is
stopped for a few seconds while they run; they retry with backoff and finish the budget."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import optuna
import pytest
from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna.storage_url import open_storage
from tests.queue_helpers import (
    assert_exact_budget,
    start_workers,
    unique_name,
    wait_all,
    worker_command,
    write_synthetic_config,
)

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*cmd: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, capture_output=True, timeout=120)


@pytest.fixture
def private_postgres():
    """A throwaway cluster on a free port; yields (url, restart(down_seconds))."""
    if not BINARIES or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL server binaries, runuser and root to start a private cluster")
    bin_dir = BINARIES[-1]
    root = tempfile.mkdtemp(prefix="nas-pg-")
    os.chmod(root, 0o755)
    shutil.chown(root, "postgres")
    data, port = os.path.join(root, "data"), _free_port()
    _as_postgres(f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    ctl = [f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-o", options, "-w"]
    _as_postgres(*ctl, "start")

    def restart(down_seconds: float) -> None:
        _as_postgres(*ctl, "-m", "fast", "stop")
        time.sleep(down_seconds)
        _as_postgres(*ctl, "start")

    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres", restart
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *ctl, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_workers_survive_a_database_restart(private_postgres, tmp_path):
    url, restart = private_postgres
    name = unique_name()
    config = write_synthetic_config(tmp_path, sleep_seconds=0.1)
    study = optuna.create_study(study_name=name, storage=open_storage(url), direction="maximize")
    procs = start_workers(2, worker_command(url, name, config, 30, "--storage-retry-seconds", "60"))
    deadline = time.monotonic() + 60
    while len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 5:
        assert time.monotonic() < deadline, "workers made no progress"
        time.sleep(0.2)
    restart(down_seconds=3.0)
    results = wait_all(procs, timeout=180)
    assert [code for code, _ in results] == [0, 0], results
    assert any("unreachable" in out and "retrying" in out for _, out in results)  # they did lose it
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    assert_exact_budget(study, 30)


def outage_counts(study: optuna.Study) -> dict[str, int]:
    """What an outage cost: results kept, trials failed, trials re-run (retries)."""
    trials = study.get_trials(deepcopy=False)
    run = [t for t in trials if not t.system_attrs.get(queue.OVER_BUDGET)]
    return {
        "complete": sum(t.state == TrialState.COMPLETE for t in queue.result_trials(trials)),
        "failed": sum(t.state == TrialState.FAIL for t in run),
        "re-run": sum(queue.is_retry(t) for t in trials),
    }


@pytest.mark.slow
def test_a_25s_outage_longer_than_grace_loses_no_result_and_reruns_no_live_trial(private_postgres, tmp_path):
    """The audit's case: heartbeat 2 s, grace 10 s, the database gone for 25 s while three
    workers run; every trial running at the stop finishes during it and is told afterwards."""
    url, restart = private_postgres
    name = unique_name()
    config = write_synthetic_config(tmp_path, sleep_seconds=1.0)
    study = optuna.create_study(study_name=name, storage=open_storage(url), direction="maximize")
    queue_flags = ("--heartbeat-seconds", "2", "--grace-seconds", "10", "--storage-retry-seconds", "120")
    procs = start_workers(3, worker_command(url, name, config, 24, *queue_flags))
    deadline = time.monotonic() + 90
    # The case needs several trials in flight at the stop: wait for the slower-starting workers
    # too (on a loaded machine they import for seconds), not only for 4 results.
    running: list[int] = []
    while len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 4 or len(running) < 2:
        assert time.monotonic() < deadline, "workers made no progress"
        time.sleep(0.2)
        running = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
    restart(down_seconds=25.0)
    results = wait_all(procs, timeout=240)
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    counts = outage_counts(study)
    print(f"\n25 s outage, 3 workers, 24 trials, {len(running)} running at the stop: {counts}")
    assert [code for code, _ in results] == [0, 0, 0], results
    out = "".join(text for _, text in results)
    assert "unreachable" in out and "retrying" in out  # they did lose it
    assert "took it over" not in out and "worker lost" not in out
    assert counts == {"complete": 24, "failed": 0, "re-run": 0}
    assert_exact_budget(study, 24)
    assert len(running) >= 2
    assert all(study.trials[n].state == TrialState.COMPLETE for n in running)
    assert out.count(" COMPLETE ") == 24  # each worker told every result it logged
