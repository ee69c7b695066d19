"""Multi-objective search on NAS-Bench-201: hypervolume of (validation accuracy, multiply-adds).

Each (arm, seed) is an in-process ask/tell loop on the NB201 table with the multiply-adds of
nas_optuna.nb201_cost (the table ships none). Arms that handle two objectives (random, tpe,
nsga2) run on a study with directions (maximize, minimize); ``ppo`` runs on that same kind of
study through its declared ``scalarization`` (default [1, 1e-7]: one accuracy point per 10M
multiply-adds); single-value samplers (``evolution``, ``pnas``) run on a single-objective study
whose value is that same scalarisation. Arms are written as in search_efficiency_tables.py
(``LABEL=SAMPLER:JSON``). Every arm is scored the same way, on the (accuracy, multiply-adds)
pairs it found: the exact 2-D hypervolume HV with the reference point (largest NB201 cost,
lowest NB201 validation accuracy) after B trials, shown as the gap to the table's true Pareto
front, 1000 * (1 - HV / HV_true) (per mille; 0 = the whole front found; most of the box is
dominated by any decent network, so HV / HV_true itself is 0.97-0.99 for every arm and the gap
is what tells them apart); also how many of the true front's architectures were found.

    python benchmarks/pareto_tables.py --seeds 5 --jobs 2
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # one thread per search: set before torch loads

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import optuna  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_efficiency_tables import Arm, make_arm_sampler, mean_sd, parse_arm, run_searches  # noqa: E402

from nas_optuna.nb201 import load_nb201_table, nb201_space, params_from_cellstr  # noqa: E402
from nas_optuna.nb201_cost import nb201_cost  # noqa: E402
from nas_optuna.report.pareto import hypervolume, hypervolume_curve, pareto_front  # noqa: E402

MULTI = ("random", "tpe", "nsga2")
WEIGHTS = [1.0, 1e-7]
DEFAULT_SETTINGS = {"ppo": {"scalarization": WEIGHTS}}


def table_points() -> dict[str, tuple[float, float]]:
    """(multiply-adds, validation accuracy) of every NB201 cell."""
    return {
        cellstr: (float(nb201_cost(params_from_cellstr(cellstr)).mult_adds), row.val_accuracy)
        for cellstr, row in load_nb201_table().items()
    }


def reference_and_front() -> tuple[tuple[float, float], list[tuple[float, float]], float]:
    points = list(table_points().values())
    reference = (max(c for c, _ in points), min(a for _, a in points))
    front = pareto_front(points)
    return reference, front, hypervolume(front, reference)


def run_one(task: tuple[Arm, int, int]) -> dict:
    arm, seed, trials = task
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from nas_optuna.objectives import NB201Objective

    objective = NB201Objective()
    space = nb201_space()
    sampler = make_arm_sampler(arm, seed, space)
    multi = arm.sampler in MULTI or arm.sampler == "ppo"
    study = optuna.create_study(
        directions=["maximize", "minimize"] if multi else ["maximize"], sampler=sampler
    )
    points = []
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        accuracy = objective(trial)
        cost = float(trial.user_attrs["mult_adds"])
        study.tell(trial, [accuracy, cost] if multi else accuracy - WEIGHTS[1] * cost)
        points.append((cost, accuracy, trial.user_attrs["cellstr"]))
    return {"arm": arm.label, "seed": seed, "points": points, "seconds": time.perf_counter() - start}


def table(arms, runs, budgets, reference, front, scale) -> str:
    optimal = set(front)
    head = [f"HV gap @{b:,} (per mille)" for b in budgets]
    head += [f"true front found @{budgets[-1]:,}", "s per run"]
    lines = ["| arm | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for arm in arms:
        mine = sorted((r for r in runs if r["arm"] == arm.label), key=lambda r: r["seed"])
        curves = np.array([hypervolume_curve([(c, a) for c, a, _ in r["points"]], reference) for r in mine])
        cells = [mean_sd(1000 * (1 - curves[:, b - 1] / scale), 2) for b in budgets]
        found = np.array([len({(c, a) for c, a, _ in r["points"][: budgets[-1]]} & optimal) for r in mine])
        cells.append(f"{found.mean():.1f} / {len(optimal)}")
        cells.append(f"{np.mean([r['seconds'] for r in mine]):.1f}")
        lines.append(f"| {arm.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", nargs="+", default=["random", "tpe", "nsga2", "ppo", "evolution", "pnas"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default="/tmp/pareto_tables.json", help="every run's points (JSON)")
    args = parser.parse_args(argv)
    try:
        arms = [parse_arm(a) for a in args.arms]
        arms = [Arm(a.label, a.sampler, {**DEFAULT_SETTINGS.get(a.sampler, {}), **a.settings}) for a in arms]
        if min(args.budgets) < 1 or args.seeds < 1 or args.jobs < 1:
            raise ValueError("--budgets, --seeds and --jobs must be >= 1")
        for arm in arms:
            make_arm_sampler(arm, 0, nb201_space())
    except ValueError as err:
        print(f"pareto_tables: error: {err}", file=sys.stderr)
        return 2
    budgets = sorted(args.budgets)
    reference, front, scale = reference_and_front()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    tasks = [(arm, s, budgets[-1]) for s in seeds for arm in arms]
    start = time.perf_counter()
    runs = run_searches(run_one, tasks, args.jobs, lambda r: f"{r['arm']} seed {r['seed']}")
    wall = time.perf_counter() - start
    command = "python benchmarks/pareto_tables.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"`{command}`: {len(tasks)} searches, {args.jobs} at a time, {wall:.0f} s wall\n")
    print(
        f"NB201 true Pareto front of (val accuracy, mult-adds): {len(front)} architectures; reference "
        f"point (mult-adds {reference[0]:,.0f}, accuracy {reference[1]:.2f}); its hypervolume {scale:.4g}\n"
    )
    print(table(arms, runs, budgets, reference, front, scale) + "\n")
    with open(args.out, "w") as f:
        json.dump({"command": command, "wall_seconds": wall, "reference": reference, "runs": runs}, f)
    print(f"every run's points: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
