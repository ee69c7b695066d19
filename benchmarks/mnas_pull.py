"""Does the MnasNet reward pull PPO-LSTM towards cells that fit a mult-adds budget?

A cheap stand-in for accuracy: the synthetic hidden-target score (fraction of the 50 NASNet
decisions equal to a hidden genotype, noise 0.05), so no child is trained. The cost is the real
one: `transfer_cost` at the mobile preset (4@1056, 224x224), as the cifar objective computes
it. Arms: reward = the score ("accuracy"), MnasNet's soft reward score x (mult-adds / target)^w
("mnas") and the hard one, 0 over the target ("mnas-hard"), each with PPO-LSTM (default preset)
over ``--seeds`` seeds (sampler seed = target seed = s). Printed per arm, mean +/- sd over
seeds, on the last ``--window`` trials: median transfer mult-adds, the share under the target,
and the best score among trials under the target over the whole run.

    python benchmarks/mnas_pull.py --trials 300 --seeds 2 --jobs 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

import numpy as np
import optuna

ARMS = ("accuracy", "mnas", "mnas-hard")


def search(arm: str, seed: int, trials: int, target: float, w: float) -> dict[str, float]:
    import torch
    from nas_optuna.objectives import SyntheticObjective
    from nas_optuna.objectives.reward import Reward

    from nas_optuna import PPOLSTMSampler, genotype_from_params, nasnet_space
    from nas_optuna.cost import TRANSFER_PRESETS, clear_cache, transfer_cost

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = nasnet_space()
    synthetic = SyntheticObjective(space, target_seed=seed, noise=0.05)
    reward = Reward(arm, (("mult_adds", target),), w)
    mobile = TRANSFER_PRESETS["mobile"]
    clear_cache()  # each run pays for its own counts, as a fresh worker does

    def objective(trial: optuna.Trial) -> float:
        score = synthetic(trial)
        cost = transfer_cost(genotype_from_params(trial.params, space), mobile)
        trial.set_user_attr("score", score)
        trial.set_user_attr("mult_adds", cost.mult_adds)
        return 0.0 if reward.over_budget(cost) else reward.score(score, cost)

    study = optuna.create_study(direction="maximize", sampler=PPOLSTMSampler(search_space=space, seed=seed))
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return {
        "costs": [t.user_attrs["mult_adds"] for t in study.trials],
        "scores": [synthetic.score(t.params) for t in study.trials],  # noiseless
        "seconds": time.perf_counter() - start,
    }


def _best_within(run: dict, target: float) -> float:
    return max([s for s, c in zip(run["scores"], run["costs"], strict=True) if c <= target] or [0.0])


def _task(args: tuple) -> tuple[str, int, dict]:
    arm, seed, trials, target, w = args
    return arm, seed, search(arm, seed, trials, target, w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--target", type=float, default=600e6, help="mult-adds at 4@1056")
    parser.add_argument("--w", type=float, default=-0.07)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    tasks = [(arm, seed, args.trials, args.target, args.w) for arm in ARMS for seed in range(args.seeds)]
    start = time.perf_counter()
    if args.jobs == 1:
        results = [_task(t) for t in tasks]
    else:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            results = pool.map(_task, tasks)
    print(f"{len(tasks)} searches of {args.trials} trials, {time.perf_counter() - start:.0f} s wall\n")
    print(
        f"| arm | median mult-adds, last {args.window} | share <= {args.target / 1e6:g}M, last {args.window} "
        f"| best score <= {args.target / 1e6:g}M | best score, any cost | s per run |"
    )
    print("|---|---|---|---|---|---|")

    def cell(values) -> str:
        return f"{np.mean(values):.3f} +/- {np.std(values):.3f}"

    for arm in ARMS:
        runs = [r for a, _, r in results if a == arm]
        medians = [statistics.median(r["costs"][-args.window :]) / 1e6 for r in runs]
        shares = [np.mean(np.array(r["costs"][-args.window :]) <= args.target) for r in runs]
        fits = [
            max([s for s, c in zip(r["scores"], r["costs"], strict=True) if c <= args.target] or [0])
            for r in runs
        ]
        best = [max(r["scores"]) for r in runs]
        seconds = np.mean([r["seconds"] for r in runs])
        median_text = f"{np.mean(medians):.0f}M +/- {np.std(medians):.0f}"
        print(f"| {arm} | {median_text} | {cell(shares)} | {cell(fits)} | {cell(best)} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
