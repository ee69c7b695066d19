"""Ask overhead of PPOLSTMSampler against RandomSampler on the same storage, as the study grows.

For each storage and each size N, a study is pre-filled with N finished NASNet trials, a
sampler joins it (its catch-up is timed apart, as "join"), then `--asks` trials are asked with
the 50 NASNet distributions and told a synthetic value. Reported: milliseconds per ask (median
over trials; the mean includes PPO's update every 20 trials) and the PPO/random ratio. Also
times one PPO update (20 architectures x 50 decisions) on one thread. Times are this process's
CPU time of the calling thread (time.thread_time), so that other jobs on a shared machine do not inflate them.

    python benchmarks/sampler_overhead.py --sizes 100 1000 10000 --asks 100
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import numpy as np
import optuna
import torch
from nas_optuna.objectives import SyntheticObjective
from nas_optuna.samplers.ppo_lstm.learner import Learner, LearnerSettings, Sample

from nas_optuna import PPOLSTMSampler, nasnet_space


def make_storage(kind: str, directory: str) -> optuna.storages.BaseStorage:
    if kind == "inmemory":
        return optuna.storages.InMemoryStorage()
    if kind == "journal":
        path = os.path.join(directory, f"{uuid.uuid4().hex}.log")
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    if kind == "sqlite":
        return optuna.storages.RDBStorage(f"sqlite:///{directory}/{uuid.uuid4().hex}.db")
    raise ValueError(f"unknown storage {kind!r}")


def prefilled(kind: str, directory: str, n: int, objective: SyntheticObjective) -> optuna.Study:
    space = nasnet_space()
    study = optuna.create_study(storage=make_storage(kind, directory), direction="maximize")
    rng = np.random.default_rng(0)
    trials = []
    for _ in range(n):
        params = {name: d.choices[rng.integers(len(d.choices))] for name, d in space.items()}
        trials.append(
            optuna.trial.create_trial(params=params, distributions=space, value=objective.score(params))
        )
    study.add_trials(trials)
    return study


def time_asks(study: optuna.Study, sampler, asks: int, objective) -> tuple[float, float, float]:
    space = nasnet_space()
    study.sampler = sampler
    start = time.thread_time()
    first = study.ask(fixed_distributions=space)  # PPO: joins (catch-up) here
    join = time.thread_time() - start
    study.tell(first, objective.score(first.params))
    times = []
    for _ in range(asks):
        start = time.thread_time()
        trial = study.ask(fixed_distributions=space)
        times.append(time.thread_time() - start)
        study.tell(trial, objective.score(trial.params))
    return join * 1e3, float(np.median(times)) * 1e3, float(np.mean(times)) * 1e3


def time_update(repeats: int = 20) -> float:
    learner = Learner(LearnerSettings(n_choices=tuple(len(d.choices) for d in nasnet_space().values())))
    rng = np.random.RandomState(0)
    batch = []
    for i in range(20):
        actions, log_probs = learner.policy.sample(rng)
        batch.append(Sample(i, float(rng.rand()), actions, log_probs, 0))
    learner.apply_batch(batch)
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        learner.version = 0
        learner.apply_batch(batch)
        times.append(time.thread_time() - start)
    return float(np.median(times)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storages", nargs="+", default=["inmemory", "journal"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 1000, 10000])
    parser.add_argument("--asks", type=int, default=100)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective = SyntheticObjective(nasnet_space(), target_seed=0, noise=0.0)
    print(f"one PPO update (20 x 50 decisions, 4 epochs, 1 thread): {time_update():.1f} ms (median)")
    print(f"torch threads outside updates: {torch.get_num_threads()}")
    print(
        "| storage | finished trials | random ms/ask (median, mean) | PPO ms/ask (median, mean) "
        "| ratio (median, mean) | PPO join ms |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for kind in args.storages:
            for n in args.sizes:
                _, r_med, r_mean = time_asks(
                    prefilled(kind, directory, n, objective),
                    optuna.samplers.RandomSampler(seed=0),
                    args.asks,
                    objective,
                )
                ppo = PPOLSTMSampler(search_space=nasnet_space(), seed=0)
                join, p_med, p_mean = time_asks(
                    prefilled(kind, directory, n, objective), ppo, args.asks, objective
                )
                print(
                    f"| {kind} | {n} | {r_med:.2f}, {r_mean:.2f} | {p_med:.2f}, {p_mean:.2f} "
                    f"| {p_med / r_med:.2f}, {p_mean / r_mean:.2f} | {join:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
