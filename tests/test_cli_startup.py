"""`nas-optuna --help`, and the report and show commands' start, load no torch (seconds per call)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from nas_optuna.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["report", "--help"], ["show", "--help"], ["train", "--help"]])
def test_help_does_not_import_torch(args):
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert "usage: nas-optuna" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr


def test_train_help_still_shows_the_cifar_defaults():
    from nas_optuna.objectives.cifar import CIFAR_DEFAULTS

    done = subprocess.run(
        [sys.executable, "-m", "nas_optuna.cli", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"default {CIFAR_DEFAULTS['train_images']}" in done.stdout
