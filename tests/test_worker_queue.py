"""nas-worker processes sharing one study: exact budgets on every storage, dead-worker recovery."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna.storage_url import open_storage
from tests.queue_helpers import (
    SERVERS,
    assert_exact_budget,
    drop_study,
    require_server,
    start_workers,
    unique_name,
    wait_all,
    worker_command,
    write_synthetic_config,
)

STUDIES = Path(__file__).parent.parent / "studies"
FAST_RECOVERY = ("--heartbeat-seconds", "0.2", "--grace-seconds", "1.5", "--max-retries", "2")


def _storage_url(kind: str, tmp_path) -> str:
    if kind == "journal":
        return str(tmp_path / "study.log")
    require_server(SERVERS[kind])
    return SERVERS[kind]


@pytest.mark.services
@pytest.mark.parametrize("kind", ["journal", "postgresql", "mariadb", "redis"])
def test_four_workers_spend_the_budget_exactly(kind, tmp_path):
    url = _storage_url(kind, tmp_path)
    name = unique_name()
    try:
        config = write_synthetic_config(tmp_path, sleep_seconds=0.02)
        optuna.create_study(study_name=name, storage=open_storage(url), direction="maximize")
        results = wait_all(start_workers(4, worker_command(url, name, config, 40, "--seed", "1")))
        assert [code for code, _ in results] == [0, 0, 0, 0], results
        study = optuna.load_study(study_name=name, storage=open_storage(url))
        trials = assert_exact_budget(study, 40)
        over = [t for t in trials if t.system_attrs.get(queue.OVER_BUDGET)]
        assert len(over) <= 4  # at most one extra ask per worker, each marked and never run
        assert all(t.state == TrialState.FAIL for t in over)
        # Every worker logs its trials and a summary.
        assert all("exits (budget spent)" in out for _, out in results)
        assert sum(out.count(" COMPLETE ") for _, out in results) == 40
    finally:
        drop_study(url, name)


def _running_trial_of(study, pid: int, n_params: int = 20, timeout: float = 30):
    """The trial worker ``pid`` is evaluating, once all its parameters are sampled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if t.user_attrs.get("worker", "").endswith(f":{pid}") and len(t.params) == n_params:
                return t
        time.sleep(0.05)
    raise AssertionError(f"worker {pid} never ran a trial")


@pytest.mark.services
@pytest.mark.parametrize("kind", ["journal", pytest.param("postgresql", marks=pytest.mark.slow)])
def test_sigkilled_worker_trial_is_rerun_by_another(kind, tmp_path):
    url = _storage_url(kind, tmp_path)
    name = unique_name()
    try:
        config = write_synthetic_config(tmp_path, sleep_seconds=0.4)
        study = optuna.create_study(study_name=name, storage=open_storage(url), direction="maximize")
        procs = start_workers(3, worker_command(url, name, config, 12, *FAST_RECOVERY))
        victim = procs[0]
        killed = _running_trial_of(study, victim.pid)
        victim.send_signal(signal.SIGKILL)
        results = wait_all(procs[1:])
        assert [code for code, _ in results] == [0, 0], results
        trials = assert_exact_budget(study, 12)
        original = trials[killed.number]
        assert original.state == TrialState.FAIL
        assert original.user_attrs["fail_reason"].startswith("worker lost")
        retries = [t for t in trials if t.user_attrs.get(queue.RETRY_OF) == killed.number]
        assert len(retries) == 1
        assert retries[0].state == TrialState.COMPLETE
        assert retries[0].params == original.params  # same architecture re-run
        assert retries[0].user_attrs[queue.RETRY_COUNT] == 1
    finally:
        drop_study(url, name)


def test_sigterm_fails_and_requeues_the_running_trial(tmp_path):
    url = str(tmp_path / "study.log")
    name = unique_name()
    config = write_synthetic_config(tmp_path, sleep_seconds=3.0)
    study = optuna.create_study(study_name=name, storage=open_storage(url), direction="maximize")
    (proc,) = start_workers(1, worker_command(url, name, config, 2))
    running = _running_trial_of(study, proc.pid)
    proc.send_signal(signal.SIGTERM)
    ((code, out),) = wait_all([proc], timeout=30)
    assert code == 0, out
    assert "stopped by SIGTERM" in out
    trials = study.get_trials(deepcopy=False)
    assert trials[running.number].state == TrialState.FAIL
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert [t.user_attrs[queue.RETRY_OF] for t in waiting] == [running.number]
    assert not [t for t in trials if t.state == TrialState.RUNNING]


@pytest.mark.slow  # real training: minutes on a loaded 2-core machine
def test_smoke_study_runs_the_real_objective(tmp_path):
    """The bundled smoke study end to end (needs the "cifar" objective kind)."""
    url, name = str(tmp_path / "smoke.log"), unique_name()
    ((code, out),) = wait_all(
        start_workers(1, worker_command(url, name, STUDIES / "smoke.toml", 2)), timeout=300
    )
    assert code == 0, out
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    trials = assert_exact_budget(study, 2)
    for trial in trials:
        assert 0.0 <= trial.value <= 1.0
        assert trial.user_attrs["genotype"] and trial.user_attrs["n_params"] > 0


def _wait_for_port(port: int, proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("gRPC proxy did not start")


@pytest.mark.services
def test_workers_through_the_grpc_proxy(tmp_path):
    pytest.importorskip("grpc", reason="the gRPC proxy needs grpcio (pip install 'nas-optuna[grpc]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backing = str(tmp_path / "behind-proxy.log")
    proxy = subprocess.Popen(
        [sys.executable, "-m", "nas_optuna.cli", "grpc-proxy", "--storage", backing, "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait_for_port(port, proxy)
        url, name = f"grpc://127.0.0.1:{port}", unique_name()
        config = write_synthetic_config(tmp_path, sleep_seconds=0.02)
        results = wait_all(start_workers(3, worker_command(url, name, config, 15)))
        assert [code for code, _ in results] == [0, 0, 0], results
        # The proxy wrote through to the journal file behind it.
        study = optuna.load_study(study_name=name, storage=open_storage(backing))
        assert_exact_budget(study, 15)
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
