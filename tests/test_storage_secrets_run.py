"""A whole run with a password-bearing PostgreSQL URL: the password is in no output, argv or study."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nas_optuna.storage_secrets import STORAGE_ENV
from nas_optuna.storage_url import open_storage
from tests.queue_helpers import SERVERS, drop_study, require_server, unique_name, write_synthetic_config

# PostgreSQL here trusts local connections, so any password connects; this one has every
# character that needs care: '/' and '@' percent-encoded, as SQLAlchemy URLs require.
PASSWORD_ENCODED = "Zq7Secr%2Fet%40x"
PASSWORD = "Zq7Secr/et@x"
URL = f"postgresql+psycopg2://postgres:{PASSWORD_ENCODED}@127.0.0.1:5432/test"
SPELLINGS = (PASSWORD_ENCODED, PASSWORD, "Zq7Secr")


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _watch_cmdlines(proc: subprocess.Popen, timeout: float) -> dict[int, str]:
    """The cmdline of the process and of each descendant, sampled until it exits."""
    seen: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for pid in {proc.pid} | _descendants(proc.pid):
            with contextlib.suppress(OSError):
                cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if cmdline:  # empty once a process has exited
                    seen[pid] = cmdline
        time.sleep(0.05)
    return seen


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout + done.stderr


def _stored(name: str) -> str:
    """Everything the storage holds for the study: its attrs and every trial, whole."""
    storage = open_storage(URL)
    study_id = storage.get_study_id_from_name(name)
    parts = (
        storage.get_study_user_attrs(study_id),
        storage.get_study_system_attrs(study_id),
        storage.get_all_trials(study_id, deepcopy=False),
    )
    return repr(parts)


@pytest.mark.slow  # about a minute: five commands, each a fresh Python
@pytest.mark.services
def test_password_appears_in_no_output_argv_or_study(tmp_path):
    require_server(SERVERS["postgresql"])
    name = unique_name("secrets") + "-random-s0"
    url_file = tmp_path / "storage.url"
    url_file.write_text(URL + "\n")
    url_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != STORAGE_ENV}
    config = write_synthetic_config(tmp_path, sleep_seconds=0.3)
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", "nas_optuna.worker", "--storage-file", str(url_file),
             "--study-name", name, "--study-config", str(config), "--sampler", "random",
             "--n-trials", "8", "--create-study", "--processes", "2", "--heartbeat-seconds", "0.5"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        cmdlines = _watch_cmdlines(worker, timeout=180)
        worker_out, _ = worker.communicate(timeout=30)
        assert worker.returncode == 0, worker_out
        children = [c for pid, c in cmdlines.items() if pid != worker.pid and "nas_optuna.worker" in c]
        assert len(children) >= 2, cmdlines  # the children were seen running, so argv was checked
        assert "started 2 workers" in worker_out and worker_out.count(" COMPLETE ") == 8, worker_out

        # The URL given by the environment variable this time, to the other commands.
        cli = [sys.executable, "-m", "nas_optuna.cli"]
        report_code, report_out = _run(
            [*cli, "report", "--prefix", name, "--dashboard", "--no-static", "--out", "report"],
            {**env, STORAGE_ENV: URL},
            tmp_path,
        )
        assert report_code == 0 and "view with: optuna-dashboard --from-config" in report_out, report_out
        show_code, show_out = _run(
            [
                *cli,
                "show",
                "--study",
                name,
                "--trial",
                "0",
                "--cells",
                "1",
                "--filters",
                "8",
                "--out",
                "g.svg",
            ],
            {**env, STORAGE_ENV: URL},
            tmp_path,
        )
        assert show_code == 0 and "genotype (" in show_out, show_out
        missing_code, missing_out = _run(
            [sys.executable, "-m", "nas_optuna.worker", "--study-name", name + "-absent", "--study-config",
             str(config), "--n-trials", "1"],
            {**env, STORAGE_ENV: URL},
            tmp_path,
        )  # fmt: skip
        assert missing_code == 2 and "postgres:***@127.0.0.1" in missing_out, missing_out

        stored = _stored(name)  # after the report: its dashboard notes and plots are stored too
        assert "sampler_settings" in stored and "dashboard" in stored.lower()
        everything = {
            "worker output": worker_out,
            "argv": "\n".join(cmdlines.values()),
            "report output": report_out,
            "report files": "".join(
                p.read_text(errors="replace") for p in (tmp_path / "report").rglob("*") if p.is_file()
            ),
            "show output": show_out,
            "missing-study error": missing_out,
            "study": stored,
        }
        for where, text in everything.items():
            for spelling in SPELLINGS:
                assert spelling not in text, f"password ({spelling}) in {where}"
    finally:
        drop_study(URL, name)
