# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
from pathlib import Path
import subprocess
import sys


def test_example_runs_as_is_and_improves() -> None:
    example = Path(__file__).parents[1] / "example.py"
    result = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    first, last = (float(part.split(":")[1]) for part in result.stdout.splitlines()[0].split(";"))
    assert last > first + 0.15
