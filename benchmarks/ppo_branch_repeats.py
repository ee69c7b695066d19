"""Repeated architectures on a conditional space of categorical branches, per seed.

The space (define-by-run, 22 architectures): ``opt`` picks sgd (4 momenta), adam (4 betas x 4
weight decays) or rms (2 alphas). A repeat is a trial whose used parameters equal an earlier
trial's. Trial 0 comes before the policy's space exists, so repeats of it are counted apart.
With fewer trials than architectures, a sampler that never repeats one shows 0 everywhere.

    python benchmarks/ppo_branch_repeats.py --seeds 10 --trials 20
"""

from __future__ import annotations

import argparse

import optuna

from nas_optuna import PPOLSTMSampler


def objective(trial: optuna.Trial) -> float:
    name = trial.suggest_categorical("opt", ["sgd", "adam", "rms"])
    if name == "sgd":
        return 0.5 + 0.1 * trial.suggest_categorical("momentum", [0, 1, 2, 3])
    if name == "adam":
        beta = trial.suggest_categorical("beta", [0, 1, 2, 3])
        return 0.6 + 0.05 * beta + 0.03 * trial.suggest_int("wd", 0, 3)
    return 0.4 + 0.1 * trial.suggest_categorical("alpha", [0, 1])


def repeats(seed: int, n_trials: int) -> tuple[int, int]:
    """(repeats of trial 0, repeats among trials 1 and later)."""
    study = optuna.create_study(direction="maximize", sampler=PPOLSTMSampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    keys = [tuple(sorted(t.params.items())) for t in study.trials]
    of_first = sum(k == keys[0] for k in keys[1:])
    later = [k for k in keys[1:] if k != keys[0]]
    return of_first, len(later) - len(set(later))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = [repeats(seed, args.trials) for seed in range(args.seeds)]
    print("| seed | repeats of trial 0 | repeats among the others |")
    print("|---|---|---|")
    for seed, (first, others) in enumerate(rows):
        print(f"| {seed} | {first} | {others} |")
    total_first, total_others = (sum(r[i] for r in rows) for i in range(2))
    print(f"| all | {total_first} | {total_others} |")


if __name__ == "__main__":
    main()
