# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""The package stays publishable on OptunaHub: no nas_optuna imports, front matter complete."""

from pathlib import Path
import re


PACKAGE = Path(__file__).parents[1]


def test_package_never_imports_nas_optuna() -> None:
    for path in PACKAGE.rglob("*.py"):
        imports = [
            line for line in path.read_text().splitlines() if re.match(r"\s*(from|import)\s", line)
        ]
        assert not [line for line in imports if "nas_optuna" in line], path


def test_readme_front_matter_has_what_optunahub_needs() -> None:
    text = (PACKAGE / "README.md").read_text()
    front = text.split("---")[1]
    for key in ("author:", "title:", "description:", "tags:", "optuna_versions:", "license: MIT"):
        assert key in front
    tags = re.search(r"tags: \[(.*)\]", front)
    assert tags is not None
    assert "sampler" in tags.group(1).split(", ")
    for section in (
        "## Abstract",
        "## Class or Function Names",
        "## Installation",
        "## Example",
        "## Others",
    ):
        assert section in text
    assert (PACKAGE / "LICENSE").read_text().startswith("MIT License")
