"""PPO-LSTM against RandomSampler and TPESampler on equal budgets, synthetic NASNet objective.

Seed s: sampler seed s, hidden target genotype s, noise 0.05. For each sampler prints the mean
reward per window of trials (mean +/- std over seeds), the mean of the last 200 trials and the
best value found, as markdown tables.

    python benchmarks/search_efficiency_synthetic.py --trials 1000 --seeds 5 --window 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optuna
from nas_optuna.objectives import SyntheticObjective

from nas_optuna import PPOLSTMSampler, nasnet_space

SAMPLERS = {
    "ppo": lambda seed: PPOLSTMSampler(search_space=nasnet_space(), seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
}


def run(name: str, seed: int, trials: int) -> tuple[np.ndarray, float]:
    space = nasnet_space()
    study = optuna.create_study(direction="maximize", sampler=SAMPLERS[name](seed))
    start = time.perf_counter()
    study.optimize(SyntheticObjective(space, target_seed=seed, noise=0.05), n_trials=trials)
    return np.array([t.value for t in study.trials]), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS))
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    curves, summary = {}, []
    for name in args.samplers:
        runs = [run(name, seed, args.trials) for seed in range(args.seeds)]
        values = np.stack([r[0] for r in runs])
        curves[name] = values.reshape(args.seeds, -1, args.window).mean(axis=2)
        last = values[:, -200:].mean(axis=1)
        best = values.max(axis=1)
        seconds = np.mean([r[1] for r in runs])
        summary.append(
            f"| {name} | {last.mean():.3f} +/- {last.std():.3f} | {best.mean():.3f} +/- {best.std():.3f} "
            f"| {seconds:.1f} |"
        )
        print(f"done {name}", flush=True)
    print(f"\n{args.trials} trials, {args.seeds} seeds (mean +/- std over seeds)\n")
    print("| sampler | mean reward, last 200 trials | best reward | seconds per run |")
    print("|---|---|---|---|")
    print("\n".join(summary))
    print(f"\nMean reward per window of {args.window} trials\n")
    print("| trials | " + " | ".join(curves) + " |")
    print("|---|" + "---|" * len(curves))
    for i in range(args.trials // args.window):
        cells = [f"{c[:, i].mean():.3f} +/- {c[:, i].std():.3f}" for c in curves.values()]
        print(f"| {i * args.window + 1}-{(i + 1) * args.window} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
