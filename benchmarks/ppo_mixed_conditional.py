"""Samplers on a mixed space and on a conditional one, define-by-run, every arm over the same seeds.

``mixed``: 5 categoricals (4 choices), 3 floats (one log) and 1 int, with interactions: the
best ``x`` depends on categorical ``c2``, the best ``y`` on the int ``n``, and two categoricals
pay a bonus only together. ``conditional``: ``model`` picks one of three branches, each with its
own parameters (linear: 2, mlp: 4, tree: 3); the best branch ("tree", best 1.0 against 0.6 and
0.8) is the last choice, and the first trial of every arm is enqueued on "linear", so the
PPO policy starts from the worst branch's parameters and must grow into the others. Every
hidden optimum is drawn from the seed; rewards are noiseless, the optimum is 1.0 in both.

Prints per benchmark: best value among the first B trials (mean +/- sd over seeds), the mean of
the last 100 values, for ``conditional`` the share of the last 100 trials in the best branch and
the seeds whose best trial is in it, and the wall seconds of one search.

    python benchmarks/ppo_mixed_conditional.py --benchmarks mixed conditional --seeds 5 --jobs 2
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # one thread per search, inherited by workers

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import optuna  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from search_efficiency_tables import Arm, mean_sd, parse_arm, run_searches  # noqa: E402

CATS = "abcd"


def _peak(value: float, best: float, width: float) -> float:
    """1 at `best`, 0 at `width` away and beyond."""
    return max(0.0, 1 - abs(value - best) / width)


class Mixed:
    def __init__(self, seed: int) -> None:
        rng = np.random.RandomState(1000 + seed)
        self.target = [CATS[i] for i in rng.randint(4, size=5)]
        self.x_best = rng.uniform(0.1, 0.9, size=4)  # by c2
        self.lr_best = rng.uniform(-4, -1)  # log10
        self.n_best = int(rng.randint(4, 29))

    def __call__(self, trial: optuna.Trial) -> float:
        c = [trial.suggest_categorical(f"c{i}", list(CATS)) for i in range(5)]
        x = trial.suggest_float("x", 0.0, 1.0)
        lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
        y = trial.suggest_float("y", -1.0, 1.0)
        n = trial.suggest_int("n", 1, 32)
        hits = [a == b for a, b in zip(c, self.target, strict=True)]
        terms = [
            sum(hits[2:]) / 3,
            float(hits[0] and hits[1]),  # the pair pays only together
            _peak(x, self.x_best[CATS.index(c[2])], 0.3),
            _peak(math.log10(lr), self.lr_best, 1.5),
            _peak(n, self.n_best, 10),
            _peak(y, (n - 16.5) / 16, 0.5),  # the best y moves with n
        ]
        return sum(terms) / len(terms)


class Conditional:
    BRANCHES = {"linear": 0.6, "mlp": 0.8, "tree": 1.0}

    def __init__(self, seed: int) -> None:
        rng = np.random.RandomState(2000 + seed)
        self.alpha_best = rng.uniform(-3, 0)
        self.layers_best = int(rng.randint(1, 7))
        self.units_best = rng.uniform(4, 8)  # log2
        self.drop_best = rng.uniform(0, 0.5)
        self.act_best = ["relu", "tanh", "gelu"][rng.randint(3)]
        self.depth_best = int(rng.randint(3, 15))
        self.sub_best = rng.uniform(0.5, 1.0)

    def __call__(self, trial: optuna.Trial) -> float:
        model = trial.suggest_categorical("model", list(self.BRANCHES))
        if model == "linear":
            alpha = trial.suggest_float("linear_alpha", 1e-4, 10.0, log=True)
            bias = trial.suggest_categorical("linear_bias", [True, False])
            terms = [_peak(math.log10(alpha), self.alpha_best, 2), float(bias)]
        elif model == "mlp":
            layers = trial.suggest_int("mlp_layers", 1, 6)
            units = trial.suggest_int("mlp_units", 8, 512, log=True)
            drop = trial.suggest_float("mlp_dropout", 0.0, 0.5, step=0.05)
            act = trial.suggest_categorical("mlp_act", ["relu", "tanh", "gelu"])
            terms = [
                _peak(layers, self.layers_best, 4),
                _peak(math.log2(units), self.units_best, 3),
                _peak(drop, self.drop_best, 0.25),
                float(act == self.act_best),
            ]
        else:
            depth = trial.suggest_int("tree_depth", 2, 16)
            lr = trial.suggest_float("tree_lr", 1e-3, 1.0, log=True)
            sub = trial.suggest_float("tree_subsample", 0.5, 1.0)
            lr_best = -0.5 - depth / 8  # deeper trees want smaller steps (log10)
            terms = [
                _peak(depth, self.depth_best, 8),
                _peak(math.log10(lr), lr_best, 1.0),
                _peak(sub, self.sub_best, 0.25),
            ]
        return self.BRANCHES[model] * sum(terms) / len(terms)


BENCHMARKS = {"mixed": Mixed, "conditional": Conditional}


def make(arm: Arm, seed: int) -> optuna.samplers.BaseSampler:
    if arm.sampler == "ppo":
        from nas_optuna.samplers.ppo_lstm import PPOLSTMSampler

        return PPOLSTMSampler(seed=seed, **arm.settings)
    if arm.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, **arm.settings)
    if arm.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"arm {arm.label!r}: sampler must be ppo, tpe or random")


def run_one(task: tuple[str, Arm, int, int]) -> dict:
    benchmark, arm, seed, trials = task
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=make(arm, seed))
    if benchmark == "conditional":
        study.enqueue_trial({"model": "linear"})  # every arm starts on the worst branch
    start = time.perf_counter()
    study.optimize(BENCHMARKS[benchmark](seed), n_trials=trials)
    return {
        "benchmark": benchmark,
        "arm": arm.label,
        "seed": seed,
        "values": [t.value for t in study.trials],
        "branches": [t.params.get("model") for t in study.trials],
        "seconds": time.perf_counter() - start,
    }


def table(benchmark: str, arms: list[Arm], runs: list[dict], budgets: list[int]) -> str:
    head = [f"best @{b}" for b in budgets] + ["mean value, last 100"]
    if benchmark == "conditional":
        head += ["last 100 in best branch", "seeds whose best is in it"]
    head.append("s per run")
    lines = ["| arm | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for arm in arms:
        mine = sorted((r for r in runs if r["arm"] == arm.label), key=lambda r: r["seed"])
        values = np.array([r["values"] for r in mine])
        cells = [mean_sd(values[:, :b].max(axis=1), 3) for b in budgets]
        cells.append(mean_sd(values[:, -100:].mean(axis=1), 3))
        if benchmark == "conditional":
            share = np.array([np.mean([b == "tree" for b in r["branches"][-100:]]) for r in mine])
            best_in = sum(r["branches"][int(np.argmax(r["values"]))] == "tree" for r in mine)
            cells += [mean_sd(share, 2), f"{best_in}/{len(mine)}"]
        cells.append(f"{np.mean([r['seconds'] for r in mine]):.1f}")
        lines.append(f"| {arm.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    parser.add_argument("--arms", nargs="+", default=["random", "tpe", "ppo"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="choose settings on other seeds than the table's"
    )
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default="/tmp/ppo_mixed_conditional.json")
    args = parser.parse_args(argv)
    try:
        arms = [parse_arm(text) for text in args.arms]
    except ValueError as err:
        parser.error(str(err))
    trials = max(args.budgets)
    tasks = [
        (b, a, s, trials)
        for b in args.benchmarks
        for a in arms
        for s in range(args.first_seed, args.first_seed + args.seeds)
    ]
    start = time.perf_counter()
    runs = run_searches(run_one, tasks, args.jobs, lambda r: f"{r['benchmark']} {r['arm']} seed {r['seed']}")
    for benchmark in args.benchmarks:
        print(f"\n### {benchmark}: {args.seeds} seeds, {trials} trials\n")
        mine = [r for r in runs if r["benchmark"] == benchmark]
        print(table(benchmark, arms, mine, args.budgets))
    with open(args.out, "w") as file:
        json.dump(runs, file)
    print(f"\nwall {time.perf_counter() - start:.0f} s; per-seed curves in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
