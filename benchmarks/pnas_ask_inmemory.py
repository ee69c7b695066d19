"""PNASSampler's ask + tell against RandomSampler's on an in-memory study pre-filled with N
finished random NASNet-space trials, one thread: the sampler's own cost, without a storage's.

    OMP_NUM_THREADS=1 python benchmarks/pnas_ask_inmemory.py --sizes 500 5000 --asks 50
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optuna
from optuna.trial import create_trial

from nas_optuna import PNASSampler, nasnet_space


def prefilled(sampler, trials) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.add_trials(trials)
    return study


def ms_per_ask(study: optuna.Study, space, asks: int) -> float:
    trial = study.ask(fixed_distributions=space)  # the first ask (a fit on all N) apart
    study.tell(trial, 0.5)
    start = time.thread_time()
    for _ in range(asks):
        trial = study.ask(fixed_distributions=space)
        study.tell(trial, 0.5)
    return (time.thread_time() - start) / asks * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--asks", type=int, default=50)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space, rng = nasnet_space(), np.random.default_rng(0)
    print("| N | random ms | pnas ms | pnas / random |\n|---|---|---|---|")
    for n in args.sizes:
        trials = [
            create_trial(
                params={k: d.choices[rng.integers(len(d.choices))] for k, d in space.items()},
                distributions=space,
                value=float(rng.random()),
            )
            for _ in range(n)
        ]
        random = ms_per_ask(prefilled(optuna.samplers.RandomSampler(seed=0), trials), space, args.asks)
        pnas = ms_per_ask(prefilled(PNASSampler(seed=0), trials), space, args.asks)
        print(f"| {n:,} | {random:.1f} | {pnas:.1f} | {pnas / random:.2f} |")


if __name__ == "__main__":
    main()
