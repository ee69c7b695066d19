"""optuna-dashboard and static export as a user sees them, in headless Chromium."""

import contextlib
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest
from report_studies import make_paired_studies
from webdriver import Browser

from nas_optuna.cli import main
from nas_optuna.report.build import make_report, write_report
from nas_optuna.storage_url import open_storage

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
    make_paired_studies(open_storage(path), "web", n_trials=12, seeds=1, samplers=("ppo", "random", "tpe"))
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
    with _served(path) as (base, ids):
        yield base, ids, path


@contextlib.contextmanager
def _served(path: str):
    """optuna-dashboard serving the storage at ``path``: (its base URL, study ids by name)."""
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
        yield f"http://127.0.0.1:{port}/dashboard", {s["study_name"]: s["study_id"] for s in studies}
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
    assert "web-random-s0" in home and "web-tpe-s0" in home and "web-ppo-s0" in home
    trial = optuna.load_study(study_name="web-tpe-s0", storage=open_storage(path)).trials[4]
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
    make_paired_studies(open_storage(path), "png", n_trials=8, seeds=1)
    assert main(["report", "--storage", path, "--prefix", "png-", "--out", str(tmp_path / "r")]) == 0
    png = tmp_path / "r" / "figures" / "top_k.png"
    svg = tmp_path / "r" / "figures" / "top_k.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.read_text().lstrip().startswith("<svg")


# Every text of an attached figure (titles, subplot titles, ticks, axis titles, legend) with its
# box, and the figure's size against its card: the report's cards must fit whole.
MEASURE_CARDS = """
const cards = {};
for (const card of document.querySelectorAll('[id^="user-defined-plot:"]')) {
  const box = card.getBoundingClientRect();
  const svg = card.querySelector('.main-svg');
  if (!svg) return null;
  const texts = [...card.querySelectorAll(
    '.gtitle, .annotation-text, .xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext')]
    .filter(t => t.textContent.trim())
    .map(t => { const r = t.getBoundingClientRect();
                return [t.textContent, r.left - box.left, r.top - box.top,
                        r.right - box.left, r.bottom - box.top]; });
  const fig = svg.getBoundingClientRect();
  cards[card.id.replace('user-defined-plot:', '')] = {
    card: [box.width, box.height], figure: [fig.width, fig.height],
    subplots: card.querySelectorAll('.subplot').length,
    heatmaps: card.querySelectorAll('.hm').length, texts: texts};
}
return Object.keys(cards).length >= arguments[0] ? cards : null;
"""


def _overlaps(texts: list) -> list[tuple[str, str]]:
    clashes = []
    for i, (a, *box_a) in enumerate(texts):
        for b, *box_b in texts[i + 1 :]:
            width = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
            height = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
            if width > 1 and height > 1:  # boxes that only touch are fine
                clashes.append((a, b))
    return clashes


def _chromedriver() -> str:
    if path := shutil.which("chromedriver"):
        return path
    _missing("chromedriver (apt-get install chromium-driver)")


def test_attached_figures_fit_their_dashboard_cards(dashboard, tmp_path):
    base, ids, _ = dashboard
    expected = {"top_k": 1, "best_vs_seconds": 1, "reward_over_time": 1, "ppo_policy": 3, "ppo_reward": 2}
    expected.update({f"ppo_choices_{role}_b{b}": 5 for role in ("normal", "reduction") for b in range(5)})
    with Browser(_chromium(), _chromedriver(), tmp_path / "wd-profile", width=1400, height=1000) as browser:
        browser.open(f"{base}/studies/{ids['web-ppo-s0']}")
        cards = browser.wait_for(MEASURE_CARDS, 60, len(expected))
        if keep := os.environ.get("NAS_OPTUNA_SCREENSHOTS"):  # to look at them: one shot per card
            for name in cards:
                browser.run(
                    "document.getElementById(arguments[0]).scrollIntoView()", f"user-defined-plot:{name}"
                )
                time.sleep(0.3)
                browser.screenshot(Path(keep) / f"card-{name}.png")
    assert {name.removeprefix("nas-optuna-"): c["subplots"] for name, c in cards.items()} == expected
    for name, card in cards.items():
        (card_w, card_h), (fig_w, fig_h) = card["card"], card["figure"]
        assert fig_w <= card_w + 1 and fig_h <= card_h + 1, (
            f"{name}: {fig_w}x{fig_h} in a {card_w}x{card_h} card"
        )
        outside = [
            t[0] for t in card["texts"] if t[1] < -1 or t[2] < -1 or t[3] > card_w + 1 or t[4] > card_h + 1
        ]
        assert not outside, f"{name}: text outside its card: {outside}"
        assert not _overlaps(card["texts"]), f"{name}: texts overlap: {_overlaps(card['texts'])[:5]}"
    heatmaps = cards["nas-optuna-ppo_choices_normal_b0"]
    assert heatmaps["heatmaps"] == 5
    assert {"op_a", "op_b", "combine", "in_a", "in_b", "sep_conv_3x3"} <= {t[0] for t in heatmaps["texts"]}


# Where the text node showing `text` ends, against the window's width (the text itself: a
# long line elsewhere may widen the table it sits in).
FIND_TEXT = """
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  if (walker.currentNode.textContent.includes(arguments[0])) {
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    return {right: range.getBoundingClientRect().right, window: window.innerWidth};
  }
}
return null;
"""


def test_genotype_cells_and_sampler_are_readable_in_the_dashboard(dashboard, tmp_path):
    base, ids, path = dashboard
    trial = optuna.load_study(study_name="web-ppo-s0", storage=open_storage(path)).trials[4]
    with Browser(_chromium(), _chromedriver(), tmp_path / "wd-profile", width=1400, height=900) as browser:
        browser.open(f"{base}/studies/{ids['web-ppo-s0']}/trials?numbers=4")
        for key in ("normal_cell", "reduction_cell"):
            shown = browser.wait_for(FIND_TEXT, 60, trial.user_attrs[key])
            assert shown["right"] <= shown["window"], f"{key} runs past the window: {shown}"
        browser.open(f"{base}/studies/{ids['web-ppo-s0']}")
        # The study's user attrs table fills after the page: wait for its rows.
        rows = "const t = document.body.innerText; return t.includes('sampler_settings') && t"
        text = browser.wait_for(rows, 60)
    assert re.search(r"sampler\s+ppo\n", text) and re.search(r'sampler_settings\s+\{"batch_size": 4\}', text)


# Each cell diagram's box and its concat node's right edge, against the page's width.
MEASURE_DIAGRAMS = """
return [...document.querySelectorAll('.diagram svg')].map(svg => {
  const concat = [...svg.querySelectorAll('text')].find(t => t.textContent === 'concat');
  return {svg: svg.getBoundingClientRect().right, concat: concat.getBoundingClientRect().right,
          page: document.body.getBoundingClientRect().right, window: window.innerWidth};
});
"""


def test_report_cell_diagrams_fit_the_page(tmp_path):
    storage = open_storage(str(tmp_path / "d.log"))
    make_paired_studies(storage, "d", n_trials=6, seeds=1)
    write_report(make_report(storage, prefix="d-"), tmp_path / "r", static=False)
    with Browser(_chromium(), _chromedriver(), tmp_path / "wd-profile", width=1000, height=900) as browser:
        browser.open((tmp_path / "r" / "report.html").as_uri())
        diagrams = browser.wait_for(MEASURE_DIAGRAMS, 30)
        if keep := os.environ.get("NAS_OPTUNA_SCREENSHOTS"):
            browser.run("document.querySelector('.diagram').scrollIntoView()")
            browser.screenshot(Path(keep) / "report-diagram.png")
    assert len(diagrams) == 4  # normal and reduction cell of each sampler's best
    for d in diagrams:
        assert d["concat"] <= d["svg"] + 1 and d["svg"] <= d["page"] + 1 and d["page"] <= d["window"], d


# The dashboard's own Pareto-front plot: its plotly traces (x, y per trial) once drawn.
PARETO_TRACES = """
const gd = document.querySelector('#graph-pareto-front .js-plotly-plot')
  || document.querySelector('#graph-pareto-front');
if (!gd || !gd.data || !gd.data.length) return null;
return gd.data.map(t => ({name: t.name || '', x: Array.from(t.x || []), y: Array.from(t.y || [])}));
"""


def test_dashboard_pareto_front_page_shows_every_trial_of_a_multi_objective_study(tmp_path):
    try:
        import optuna_dashboard  # noqa: F401
    except ImportError:
        _missing("optuna-dashboard")
    from report_studies import make_multi_objective_studies

    path = str(tmp_path / "mo.log")
    make_multi_objective_studies(open_storage(path), "mo", n_trials=20, seeds=1)
    out = str(tmp_path / "r")
    assert (
        main(["report", "--storage", path, "--prefix", "mo-", "--out", out, "--no-static", "--dashboard"])
        == 0
    )
    with _served(path) as (base, ids):
        with Browser(_chromium(), _chromedriver(), tmp_path / "wd", width=1400, height=1000) as browser:
            browser.open(f"{base}/studies/{ids['mo-nsga2-s0']}")
            traces = browser.wait_for(PARETO_TRACES, 60)
            has_title = "const t = document.body.innerText; return t.includes('Pareto Front') && t"
            text = browser.wait_for(has_title, 30)
            cards = browser.wait_for(MEASURE_CARDS, 60, 4)
        study_page = _browse(f"{base}/studies/{ids['mo-nsga2-s0']}", tmp_path, "--dump-dom")
    study = optuna.load_study(study_name="mo-nsga2-s0", storage=open_storage(path))
    shown = sorted(zip((x for t in traces for x in t["x"]), (y for t in traces for y in t["y"]), strict=True))
    assert shown == sorted(tuple(t.values) for t in study.trials)  # objective 0 on x, 1 on y
    assert "Pareto Front" in text
    assert "nas-optuna-pareto_fronts" in study_page and "nas-optuna-hypervolume" in study_page
    assert {"nas-optuna-pareto_fronts", "nas-optuna-hypervolume"} <= set(cards)
    for name, card in cards.items():  # the report's cards fit whole, as the others do
        (card_w, card_h), (fig_w, fig_h) = card["card"], card["figure"]
        assert fig_w <= card_w + 1 and fig_h <= card_h + 1, f"{name}: {fig_w}x{fig_h} in {card_w}x{card_h}"
        assert not _overlaps(card["texts"]), f"{name}: texts overlap: {_overlaps(card['texts'])[:5]}"
