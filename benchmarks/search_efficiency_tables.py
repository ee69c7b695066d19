"""Search efficiency of samplers on cheap benchmarks: every arm over the same seeds, in one run.

Benchmarks (``--benchmarks``): ``nb201`` (NAS-Bench-201's CIFAR-10 table, 6 decisions, reward
= validation accuracy of a really trained network), ``hidden`` (the synthetic hidden-target
reward on the 50-decision NASNet space, no interactions), ``pairwise`` (a synthetic reward on
the same space whose value depends on pairs of decisions) and ``pnas-hidden`` (the hidden
target on PNAS's 20-decision shared cell; an arm with the setting ``"progressive": true``
searches the progressive form of that space, cells of 1..5 blocks, e.g.
``pnas_grow=pnas:'{"progressive":true}'``). Arms (``--arms``): any sampler name
``nas_optuna.worker.make_sampler`` knows (``tpe`` means TPESampler(multivariate=True)), or
``LABEL=SAMPLER:JSON`` for one with settings, e.g. ``ppo_lr3e-3=ppo:'{"learning_rate":0.003}'``.

Each (benchmark, arm, seed) is an in-process ask/tell loop with define-by-run
``suggest_categorical`` calls, as a new user writes it (sampler seed = seed; the synthetic
rewards draw their hidden model from the seed too); ``--jobs`` runs them in parallel, one torch
thread each. Prints a markdown table per benchmark and writes per-seed curves to ``--out``:
"best @B" is the best noiseless score among the first B trials (``hidden`` adds N(0, 0.05)
noise to what the sampler sees; ``nb201`` and ``pairwise`` are noiseless), mean +/- sd over
seeds, with the seeds that reached the optimum; then the mean of the last N values the
sampler saw, and the wall seconds of one search (compare arms within one run only).

    python benchmarks/search_efficiency_tables.py --benchmarks nb201 --seeds 10 --jobs 2
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # one thread per search: set before torch loads, inherited by workers

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import optuna  # noqa: E402

from nas_optuna.worker import make_sampler  # noqa: E402

DEFAULT_SETTINGS = {"tpe": {"multivariate": True}}  # the TPE arm
ARM = re.compile(r"^(?:(?P<label>[\w.+-]+)=)?(?P<sampler>\w+)(?::(?P<settings>\{.*\}))?$")


@dataclass(frozen=True)
class Arm:
    label: str
    sampler: str
    settings: dict


def parse_arm(text: str) -> Arm:
    match = ARM.match(text)
    if not match:
        raise ValueError(
            f"--arms {text!r}: expected SAMPLER or LABEL=SAMPLER:JSON, e.g. ppo_b5=ppo:'{{\"batch_size\":5}}'"
        )
    sampler = match["sampler"]
    try:
        given = json.loads(match["settings"]) if match["settings"] else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"--arms {text!r}: settings are not JSON ({err})") from None
    return Arm(match["label"] or sampler, sampler, {**DEFAULT_SETTINGS.get(sampler, {}), **given})


def benchmark_setup(name: str, seed: int, progressive: bool = False):
    """(space, objective, score, optimum): score(params) is the noiseless reward of an architecture."""
    if name == "nb201":
        from nas_optuna.objectives import NB201Objective

        from nas_optuna.nb201 import NB201_BEST_VAL_ACCURACY, nb201_space

        objective = NB201Objective()
        return nb201_space(), objective, lambda p: objective.lookup(p).val_accuracy, NB201_BEST_VAL_ACCURACY
    from nas_optuna.objectives import PairwiseObjective, SyntheticObjective

    from nas_optuna import nasnet_space, pnas_space

    if progressive and name != "pnas-hidden":
        raise ValueError(f'"progressive": true needs a PNAS-space benchmark (pnas-hidden), not {name!r}')

    if name == "hidden":
        objective = SyntheticObjective(nasnet_space(), target_seed=seed, noise=0.05)
        return nasnet_space(), objective, objective.score, 1.0
    if name == "pairwise":
        objective = PairwiseObjective(nasnet_space(), landscape_seed=seed)
        return nasnet_space(), objective, objective.score, 1.0
    if name == "pnas-hidden":  # the progressive space's target is the same: sizes are no decision
        space = pnas_space(progressive=progressive)
        objective = SyntheticObjective(space, target_seed=seed, noise=0.05)
        return space, objective, objective.score, 1.0
    raise ValueError(f"unknown benchmark {name!r}; choose from {list(BENCHMARKS)}")


BENCHMARKS = ("nb201", "hidden", "pairwise", "pnas-hidden")


def make_arm_sampler(arm: Arm, seed: int, space) -> optuna.samplers.BaseSampler:
    settings = {k: v for k, v in arm.settings.items() if k != "progressive"}  # the space's, not the sampler's
    try:
        return make_sampler(arm.sampler, settings, seed, space)
    except KeyError:
        raise ValueError(
            f"arm {arm.label!r}: unknown sampler {arm.sampler!r} (make_sampler knows none by that name)"
        ) from None


def run_one(task: tuple[str, Arm, int, int]) -> dict:
    """One search: the objective's values and the noiseless scores, trial by trial."""
    benchmark, arm, seed, trials = task
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space, objective, score, _ = benchmark_setup(benchmark, seed, arm.settings.get("progressive", False))
    study = optuna.create_study(direction="maximize", sampler=make_arm_sampler(arm, seed, space))
    values, scores = [], []
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        value = objective(trial)
        study.tell(trial, value)
        values.append(value)
        scores.append(score(trial.params))
    seconds = time.perf_counter() - start
    return {
        "benchmark": benchmark,
        "arm": arm.label,
        "seed": seed,
        "values": values,
        "scores": scores,
        "seconds": seconds,
    }


def run_searches(run_one, tasks: list, jobs: int, describe) -> list[dict]:
    """Every task, here (jobs = 1) or in ``jobs`` spawned processes at a time (one thread each,
    as set at import), printing ``describe(run)`` and its seconds to stderr as each one ends."""
    if jobs == 1:
        return [run_one(t) for t in tasks]
    runs = []
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        for run in pool.imap_unordered(run_one, tasks):
            runs.append(run)
            print(f"  {describe(run)}: {run['seconds']:.1f} s", file=sys.stderr)
    return runs


def mean_sd(x: np.ndarray, digits: int) -> str:
    return f"{x.mean():.{digits}f} +/- {x.std(ddof=1) if len(x) > 1 else 0.0:.{digits}f}"


def table(arms: list[Arm], runs: list[dict], budgets: list[int], last: int, optimum: float) -> str:
    digits = 3
    head = [f"best @{b} (optimum found)" for b in budgets] + [f"mean value, last {last}", "s per run"]
    lines = ["| arm | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for arm in arms:
        mine = sorted((r for r in runs if r["arm"] == arm.label), key=lambda r: r["seed"])
        scores = np.array([r["scores"] for r in mine])
        values = np.array([r["values"] for r in mine])
        cells = []
        for b in budgets:
            best = scores[:, :b].max(axis=1)
            hits = int(np.sum(best >= optimum - 1e-9))
            cells.append(f"{mean_sd(best, digits)} ({hits}/{len(mine)})")
        cells.append(mean_sd(values[:, -last:].mean(axis=1), digits))
        cells.append(f"{np.mean([r['seconds'] for r in mine]):.1f}")
        lines.append(f"| {arm.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", nargs="+", default=["nb201"], choices=BENCHMARKS)
    parser.add_argument("--arms", nargs="+", default=["random", "tpe", "ppo"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument(
        "--last", type=int, default=100, help="mean of the last N values (default %(default)s)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="searches run at once, one thread each")
    parser.add_argument("--out", default="/tmp/search_efficiency_tables.json", help="per-seed curves (JSON)")
    args = parser.parse_args(argv)
    try:
        arms = [parse_arm(a) for a in args.arms]
        if len({a.label for a in arms}) != len(arms):
            raise ValueError("--arms: two arms share a label; name them LABEL=SAMPLER:JSON")
        if min(args.budgets) < 1 or args.seeds < 1 or args.jobs < 1:
            raise ValueError("--budgets, --seeds and --jobs must be >= 1")
        for arm in arms:  # bad names or settings fail now, not in a worker
            for b in args.benchmarks:
                make_arm_sampler(arm, 0, benchmark_setup(b, 0, arm.settings.get("progressive", False))[0])
    except ValueError as err:
        print(f"search_efficiency_tables: error: {err}", file=sys.stderr)
        return 2
    trials = max(args.budgets)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    tasks = [(b, arm, s, trials) for b in args.benchmarks for s in seeds for arm in arms]
    start = time.perf_counter()
    runs = run_searches(run_one, tasks, args.jobs, lambda r: f"{r['benchmark']} {r['arm']} seed {r['seed']}")
    wall = time.perf_counter() - start
    command = "python benchmarks/search_efficiency_tables.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    print(f"`{command}`: {len(tasks)} searches, {args.jobs} at a time, {wall:.0f} s wall\n")
    results = {"command": command, "wall_seconds": wall, "benchmarks": {}}
    for b in args.benchmarks:
        optimum = benchmark_setup(b, args.first_seed)[3]
        mine = [r for r in runs if r["benchmark"] == b]
        print(f"### {b}: {args.seeds} seeds, {trials} trials, optimum {optimum}\n")
        print(table(arms, mine, args.budgets, args.last, optimum) + "\n")
        results["benchmarks"][b] = {
            "optimum": optimum,
            "arms": {a.label: {"sampler": a.sampler, "settings": a.settings} for a in arms},
            "runs": sorted(mine, key=lambda r: (r["arm"], r["seed"])),
        }
    with open(args.out, "w") as f:
        json.dump(results, f)
    print(f"per-seed curves: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
