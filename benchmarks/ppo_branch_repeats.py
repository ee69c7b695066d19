"""Repeated architectures on a conditional space of categorical branches, per seed.

The space (define-by-run, 22 architectures): ``opt`` picks sgd (4 momenta), adam (4 betas x 4
weight decays) or rms (2 alphas). A repeat is a trial whose used parameters equal an earlier
trial's; with fewer trials than architectures, a sampler that never repeats one shows 0.
Two ways of giving the space to PPOLSTMSampler:

- ``full space``: ``search_space=`` with all five parameters, so every one is a policy
  decision from the first trial;
- ``define-by-run``: ``search_space=None``; the policy starts from the first trial's branch,
  and a branch seen later joins it when its batch is learned. Until then that branch's
  parameters come from the independent sampler (RandomSampler), whose draws may repeat.

    python benchmarks/ppo_branch_repeats.py --seeds 30 --trials 20
"""

from __future__ import annotations

import argparse

import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution

from nas_optuna import PPOLSTMSampler

FOUR = [0, 1, 2, 3]
SPACE = {
    "opt": CategoricalDistribution(["sgd", "adam", "rms"]),
    "momentum": CategoricalDistribution(FOUR),
    "beta": CategoricalDistribution(FOUR),
    "wd": IntDistribution(0, 3),
    "alpha": CategoricalDistribution([0, 1]),
}


def objective(trial: optuna.Trial) -> float:
    name = trial.suggest_categorical("opt", ["sgd", "adam", "rms"])
    if name == "sgd":
        return 0.5 + 0.1 * trial.suggest_categorical("momentum", FOUR)
    if name == "adam":
        beta = trial.suggest_categorical("beta", FOUR)
        return 0.6 + 0.05 * beta + 0.03 * trial.suggest_int("wd", 0, 3)
    return 0.4 + 0.1 * trial.suggest_categorical("alpha", [0, 1])


def repeats(seed: int, n_trials: int, full_space: bool) -> int:
    sampler = PPOLSTMSampler(seed=seed, search_space=SPACE if full_space else None)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    keys = [tuple(sorted(t.params.items())) for t in study.trials]
    return len(keys) - len(set(keys))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = [(repeats(s, args.trials, True), repeats(s, args.trials, False)) for s in range(args.seeds)]
    print(f"repeated architectures in {args.trials} trials (22 architectures), seeds 0-{args.seeds - 1}")
    print("| seed | full space given | define-by-run |")
    print("|---|---|---|")
    for seed, (full, grown) in enumerate(rows):
        print(f"| {seed} | {full} | {grown} |")
    full, grown = (sum(r[i] for r in rows) for i in range(2))
    print(f"| all | {full} | {grown} |")


if __name__ == "__main__":
    main()
