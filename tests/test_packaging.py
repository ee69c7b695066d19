"""A plain (non-editable) install must work from any directory, sampler and data included."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pkg")
    # Built from a copy: setuptools writes build/ and *.egg-info/ next to the sources, and a
    # stale build/lib in the checkout would leak deleted modules into later wheels.
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp, source],
        check=True,
        cwd=tmp,
    )
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Dependencies (torch, optuna, ...) come from this interpreter's site-packages; a path
    # line in a .pth file does not run the editable finder of the checkout, so only the wheel
    # provides nas_optuna.
    deps = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "deps.pth").write_text("\n".join(deps) + "\n")
    wheel = next(tmp.glob("nas_optuna-*.whl"))
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q", wheel], check=True, cwd=tmp)
    return python, tmp


def test_wheel_holds_every_package_of_the_checkout(installed_python):
    python, tmp = installed_python
    # Every package folder of the checkout (tests aside) must be importable from the wheel.
    names = [
        "nas_optuna." + p.parent.relative_to(ROOT).as_posix().replace("/", ".")
        for top in ("samplers", "objectives", "studies")
        for p in (ROOT / top).rglob("__init__.py")
    ]
    names += ["nas_optuna." + p.parent.name for p in (ROOT / "nas_optuna").glob("*/__init__.py")]
    names = [n for n in names if ".tests" not in n]
    code = "import importlib, sys; [importlib.import_module(n) for n in sys.argv[1:]]"
    out = subprocess.run([python, "-c", code, *names], capture_output=True, text=True, cwd=tmp)
    assert out.returncode == 0, out.stderr
    data = (
        "import importlib.resources as r; print(sorted(p.name for p in r.files('nas_optuna.data').iterdir()))"
    )
    listing = subprocess.run([python, "-c", data], capture_output=True, text=True, cwd=tmp)
    assert "cifar10-bundled.zip" in listing.stdout, listing.stderr


def test_wheel_works_from_any_directory(installed_python):
    python, tmp = installed_python
    code = (
        "import nas_optuna, pathlib; "
        "assert 'site-packages' in nas_optuna.__file__, nas_optuna.__file__; "
        "from nas_optuna.objectives import make_objective; "
        "print(len(nas_optuna.nasnet_space()))"
    )
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True, cwd=tmp)
    assert out.stdout.strip() == "50"
    cli = subprocess.run([python.parent / "nas-optuna", "--help"], capture_output=True, text=True, cwd=tmp)
    assert cli.returncode == 0 and "nas-optuna" in cli.stdout


def test_installed_demo_runs_from_the_repo_root(installed_python, tmp_path):
    # README runs the demo inside the checkout: its workers must still import the installed
    # package, whose layout (nas_optuna.samplers, ...) the checkout does not have.
    python, _ = installed_python
    out = tmp_path / "demo"
    cli = python.parent / "nas-optuna"
    run = subprocess.run(
        [cli, "demo", "--out", out, "--study-config", ROOT / "studies" / "synthetic.toml", "--n-trials", "3"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "6/6 trials; 2/2 studies finished" in run.stdout and "failed" not in run.stdout
