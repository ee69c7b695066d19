"""optuna-dashboard and static export as a user sees them, in headless Chromium."""

import html
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import optuna
import pytest
from report_studies import make_paired_studies

from nas_optuna.cli import main
from nas_optuna.report.data import storage_from_url

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


def _missing(what: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} is not installed")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    _missing("headless Chromium (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture
def dashboard(tmp_path):
    """Two paired studies made by the project, the report attached, served by optuna-dashboard."""
    try:
        import optuna_dashboard  # noqa: F401
    except ImportError:
        _missing("optuna-dashboard")
    path = str(tmp_path / "runs.log")
    make_paired_studies(storage_from_url(path), "web", n_trials=12, seeds=1)
    assert (
        main(
            [
                "report",
                "--storage",
                path,
                "--prefix",
                "web-",
                "--out",
                str(tmp_path / "r"),
                "--no-static",
                "--dashboard",
            ]
        )
        == 0
    )
    port = _free_port()
    serve = (
        "import sys, optuna_dashboard; "
        "optuna_dashboard.run_server(sys.argv[1], host='127.0.0.1', port=int(sys.argv[2]))"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", serve, path, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        studies = json.loads(_wait_for(f"http://127.0.0.1:{port}/api/studies"))["study_summaries"]
        yield f"http://127.0.0.1:{port}/dashboard", {s["study_name"]: s["study_id"] for s in studies}, path
    finally:
        server.terminate()
        server.wait(timeout=10)


def _browse(url: str, tmp_path, *extra: str) -> str:
    command = [
        _chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000",
        *extra,
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return html.unescape(result.stdout)


def test_dashboard_shows_both_studies_trial_genotype_and_report(dashboard, tmp_path):
    base, ids, path = dashboard
    home = _browse(f"{base}/", tmp_path, "--dump-dom")
    assert "web-random-s0" in home and "web-tpe-s0" in home
    trial = optuna.load_study(study_name="web-tpe-s0", storage=storage_from_url(path)).trials[4]
    trial_page = _browse(f"{base}/studies/{ids['web-tpe-s0']}/trials?numbers=4", tmp_path, "--dump-dom")
    assert trial.user_attrs["genotype"] in trial_page
    study_page = _browse(f"{base}/studies/{ids['web-tpe-s0']}", tmp_path, "--dump-dom")
    assert "nas-optuna-top_k" in study_page  # the report's plot, attached by --dashboard
    compare = _browse(
        f"{base}/compare-studies?ids={ids['web-random-s0']},{ids['web-tpe-s0']}", tmp_path, "--dump-dom"
    )
    assert "Best Value of web-random-s0" in compare and "Best Value of web-tpe-s0" in compare
    shot = tmp_path / "study.png"
    _browse(
        f"{base}/studies/{ids['web-tpe-s0']}", tmp_path, f"--screenshot={shot}", "--window-size=1400,2400"
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    if keep := os.environ.get("NAS_OPTUNA_SCREENSHOTS"):
        shutil.copy(shot, keep)


def test_report_exports_png_and_svg(tmp_path):
    _chromium()
    try:
        import kaleido  # noqa: F401
    except ImportError:
        _missing("kaleido (static plotly export)")
    path = str(tmp_path / "runs.log")
    make_paired_studies(storage_from_url(path), "png", n_trials=8, seeds=1)
    assert main(["report", "--storage", path, "--prefix", "png-", "--out", str(tmp_path / "r")]) == 0
    png = tmp_path / "r" / "figures" / "top_k.png"
    svg = tmp_path / "r" / "figures" / "top_k.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.read_text().lstrip().startswith("<svg")
