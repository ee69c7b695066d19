"""Measure the PPO settings the paper leaves open, on the synthetic NASNet objective.

Each row: mean reward of the last 200 of `--trials` trials, mean and std over `--seeds` seeds
(seed s = sampler seed s and hidden target s). Prints a markdown table.

    python benchmarks/ppo_settings_sweep.py --trials 1000 --seeds 3
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import optuna
from nas_optuna.objectives import SyntheticObjective

from nas_optuna import PPOLSTMSampler, nasnet_space

CANDIDATES = [
    {},
    {"epochs": 1},
    {"epochs": 2},
    {"epochs": 8},
    {"epochs": 16},
    {"clip_range": 0.1},
    {"clip_range": 0.3},
    {"embedding_size": 8},
    {"embedding_size": 100},
    {"max_grad_norm": 100.0},
]


def last_mean(settings: dict, seed: int, trials: int, last: int = 200) -> float:
    space = nasnet_space()
    sampler = PPOLSTMSampler(search_space=space, seed=seed, **settings)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(SyntheticObjective(space, target_seed=seed, noise=0.05), n_trials=trials)
    return float(np.mean([t.value for t in study.trials[-last:]]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--candidates", type=json.loads, default=CANDIDATES, help="JSON list of settings")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"| settings (rest default) | last-200 mean reward at {args.trials} trials, {args.seeds} seeds |")
    print("|---|---|")
    for settings in args.candidates:
        values = [last_mean(settings, seed, args.trials) for seed in range(args.seeds)]
        print(f"| {json.dumps(settings)} | {np.mean(values):.3f} +/- {np.std(values):.3f} |", flush=True)


if __name__ == "__main__":
    main()
