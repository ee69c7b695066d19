"""Helpers for the nas-worker tests: reachable servers, worker processes, study checks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna.storage_url import open_storage

SERVERS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
    "redis": "redis://127.0.0.1:6379",
}


def server_down_reason(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        if url.startswith("postgresql"):
            import psycopg2

            psycopg2.connect(
                host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=2
            ).close()
        elif url.startswith("mysql"):
            import pymysql

            pymysql.connect(
                host="127.0.0.1", port=3306, user="root", database="test", connect_timeout=2
            ).close()
        elif url.startswith("redis"):
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as err:  # any failure means: not usable here
        return f"{url} unreachable: {type(err).__name__}: {err}"
    return None


def require_server(url: str) -> None:
    """Skip when the server is down, but fail under CI=true, where it must run."""
    reason = server_down_reason(url)
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def unique_name(prefix: str = "worker-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def write_synthetic_config(tmp_path: Path, sleep_seconds: float = 0.0, n_blocks: int = 2) -> Path:
    path = tmp_path / f"synthetic-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(
        "# Run: nas-worker --study-config this.toml ...\n"
        f'[space]\npreset = "nasnet"\nn_blocks = {n_blocks}\n\n'
        f'[objective]\nname = "synthetic"\nsleep_seconds = {sleep_seconds}\n'
    )
    return path


def worker_command(storage: str, study: str, config: Path, n_trials: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "nas_optuna.worker", "--storage", storage, "--study-name", study,
        "--study-config", str(config), "--sampler", "random", "--n-trials", str(n_trials),
        "--create-study", *extra,
    ]  # fmt: skip


def start_workers(n: int, command: list[str]) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            command + ["--worker-index", str(i)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for i in range(n)
    ]


def wait_all(procs: list[subprocess.Popen], timeout: float = 120) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        results.append((proc.returncode, out))
    return results


def assert_exact_budget(study: optuna.Study, n_trials: int) -> list:
    """Exactly n_trials results COMPLETE, nothing left RUNNING or WAITING, no retry run twice."""
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state for t in trials)
    assert states[TrialState.RUNNING] == 0, states
    assert states[TrialState.WAITING] == 0, states
    results = queue.result_trials(trials)
    complete = [t for t in results if t.state == TrialState.COMPLETE]
    assert len(complete) == n_trials, (len(complete), states)
    assert queue.budget_used(trials) == n_trials
    retried = Counter(t.user_attrs[queue.RETRY_OF] for t in trials if queue.is_retry(t))
    assert all(n == 1 for n in retried.values()), retried
    return trials


def drop_study(url: str, name: str) -> None:
    """Delete this test's own study from a shared server (never anything else)."""
    with contextlib.suppress(Exception):  # best effort: a leftover uniquely named study harms nobody
        optuna.delete_study(study_name=name, storage=open_storage(url, retry_seconds=2, connect_seconds=2))
