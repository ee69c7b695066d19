"""The OptunaHub registry's own checks on each sampler package, run as its pre-commit runs them:
ruff lint and format, mypy (in an environment without the packages' dependencies, so only the
package's own code is typed), mdformat on the README, and its README and front-matter rules."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["ppo_lstm", "regularized_evolution", "pnas"]
SECTIONS = ["## Class or Function Names", "## Installation", "## Example", "## Others"]
FRONT_KEYS = ["author", "title", "description", "tags", "optuna_versions", "license"]
STDLIB = set(sys.stdlib_module_names)


def _tool(name: str) -> str:
    """The tool's executable beside this Python; skipped when missing, except in CI."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        reason = f"{name} is not installed: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(params=PACKAGES)
def registry_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The package laid out as in the registry (package/samplers/NAME) beside its pyproject.toml."""
    name = request.param
    shutil.copytree(
        ROOT / "samplers" / name,
        tmp_path / "package" / "samplers" / name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copy(ROOT / "tests" / "optunahub_registry.toml", tmp_path / "pyproject.toml")
    return tmp_path / "package" / "samplers" / name


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(args[1:3])} failed:\n{done.stdout}\n{done.stderr}"


def test_ruff_lint_and_format_pass(registry_copy: Path) -> None:
    ruff, top = _tool("ruff"), registry_copy.parents[2]
    _run([ruff, "check", "--no-fix", "--config", "pyproject.toml", "--no-cache", "package"], top)
    _run([ruff, "format", "--check", "--config", "pyproject.toml", "--no-cache", "package"], top)


def test_mypy_passes(registry_copy: Path) -> None:
    mypy, top = _tool("mypy"), registry_copy.parents[2]
    # pre-commit's mypy hook has no optuna, torch or numpy: --no-site-packages does the same.
    args = [mypy, "--ignore-missing-imports", "--no-site-packages", "--python-version", "3.10"]
    _run([*args, "--config-file", "pyproject.toml", "--cache-dir", ".mypy_cache", "package"], top)


def test_mdformat_leaves_the_readme_unchanged(registry_copy: Path) -> None:
    mdformat = _tool("mdformat")
    if importlib.util.find_spec("mdformat_frontmatter") is None:
        pytest.skip("mdformat-frontmatter is not installed: pip install -e '.[test]'")
    _run([mdformat, "--check", "README.md"], registry_copy)


def test_readme_follows_the_registry_template(registry_copy: Path) -> None:
    text = (registry_copy / "README.md").read_text()
    assert text.startswith("---\n"), "README must open with the front matter"
    front, body = text[4:].split("\n---\n", 1)
    fields = dict(line.split(": ", 1) for line in front.splitlines())
    assert sorted(fields) == sorted(FRONT_KEYS)
    assert "sampler" in [t.strip() for t in fields["tags"].strip("[]").split(",")]
    assert re.fullmatch(r"\[\d+\.\d+\.\d+(, \d+\.\d+\.\d+)*\]", fields["optuna_versions"])
    found = [line for line in body.splitlines() if line.startswith("## ")]
    assert [s for s in found if s in SECTIONS] == SECTIONS, found
    assert set(found) <= {"## Abstract", *SECTIONS}, found


def test_readme_cites_only_files_in_the_package(registry_copy: Path) -> None:
    text = (registry_copy / "README.md").read_text()
    cited = re.findall(r"`(?:python )?([\w./-]+\.(?:py|md|toml|txt|json))\b", text)
    missing = [c for c in cited if not (registry_copy / Path(c).name).exists()]
    assert not missing, f"README cites files that are not in the package: {missing}"


def test_requirements_list_every_third_party_import(registry_copy: Path) -> None:
    wanted = {
        line.split(">")[0].split("=")[0].strip()
        for line in (registry_copy / "requirements.txt").read_text().splitlines()
        if line.strip()
    }
    imported = set()
    for path in registry_copy.glob("*.py"):
        for match in re.finditer(r"(?m)^(?:import|from) (\w+)", path.read_text()):
            imported.add(match.group(1))
    third_party = imported - STDLIB - {"__future__", "optunahub"}
    assert third_party <= wanted, f"requirements.txt lacks {sorted(third_party - wanted)}"
