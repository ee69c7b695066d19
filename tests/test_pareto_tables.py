"""benchmarks/pareto_tables.py: the NB201 true front, and a small run of every kind of arm."""

import json
import runpy
from pathlib import Path

from nas_optuna.report.pareto import hypervolume, pareto_front

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "benchmarks" / "pareto_tables.py"))


def test_the_reference_and_true_front_come_from_the_whole_table():
    reference, front, scale = SCRIPT["reference_and_front"]()
    points = list(SCRIPT["table_points"]().values())
    assert len(points) == 15625
    assert reference == (max(c for c, _ in points), min(a for _, a in points))
    assert front == pareto_front(points) and scale == hypervolume(front, reference)
    assert front[-1][1] == max(a for _, a in points)  # the best network is on the front


def test_a_small_run_scores_multi_objective_scalarised_and_single_value_arms(tmp_path, capsys):
    out = tmp_path / "points.json"
    argv = ["--arms", "random", "nsga2", "ppo", "evolution", "--seeds", "1", "--budgets", "10", "20"]
    assert SCRIPT["main"]([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert all(f"| {arm} |" in printed for arm in ("random", "nsga2", "ppo", "evolution"))
    runs = json.loads(out.read_text())["runs"]
    reference, _, scale = SCRIPT["reference_and_front"]()
    for run in runs:
        assert len(run["points"]) == 20
        gap = 1000 * (1 - hypervolume([(c, a) for c, a, _ in run["points"]], reference) / scale)
        row = next(line for line in printed.splitlines() if line.startswith(f"| {run['arm']} |"))
        assert row.split(" | ")[2].startswith(f"{gap:.2f}")  # the table's gap @20 is this run's
