"""Wall time of `nas-optuna --help` (and `report --help`, `show --help`), two installs side by side.

python benchmarks/cli_startup.py --runs 10 --python before=/tmp/before-venv/bin/python \
    --python after=.venv/bin/python

Each run is a fresh process; the installs take turns, so a load spike hits both alike. Prints
the median seconds of each install per command and the before/after ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

COMMANDS = (["--help"], ["report", "--help"], ["show", "--help"])
PROBE = """
import sys
from nas_optuna.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("torch" in sys.modules, file=sys.stderr)
"""


def one_run(python: str, args: list[str]) -> tuple[float, bool]:
    start = time.perf_counter()
    # -P and cwd=/: the install under test, never a checkout in the current directory.
    done = subprocess.run(
        [python, "-P", "-c", PROBE, *args], capture_output=True, text=True, check=True, cwd="/"
    )
    return time.perf_counter() - start, done.stderr.strip().endswith("True")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--python", action="append", required=True, help="label=path, two or more")
    args = parser.parse_args()
    installs = dict(p.split("=", 1) for p in args.python)
    print("| command | " + " | ".join(f"{k} s (torch?)" for k in installs) + " | first / last |")
    print("|---" * (len(installs) + 2) + "|")
    for command in COMMANDS:
        times: dict[str, list[float]] = {k: [] for k in installs}
        torch: dict[str, bool] = {}
        for _ in range(args.runs):
            for label, python in installs.items():
                seconds, torch[label] = one_run(python, command)
                times[label].append(seconds)
        medians = {k: statistics.median(v) for k, v in times.items()}
        first, last = list(medians.values())[0], list(medians.values())[-1]
        cells = " | ".join(f"{medians[k]:.2f} ({'yes' if torch[k] else 'no'})" for k in installs)
        print(f"| nas-optuna {' '.join(command)} | {cells} | {first / last:.1f}x |")


if __name__ == "__main__":
    main()
