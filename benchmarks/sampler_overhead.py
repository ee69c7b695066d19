"""Ask + tell overhead of PPOLSTMSampler, RandomSampler and TPESampler(constant_liar=True) on the
50-decision NASNet space, as the study grows, on several storages.

For each storage and size N, each sampler gets its own study pre-filled with the same N finished
trials of a real PPO run (benchmarks/overhead_prefill.py: rollout records and checkpoints
included, so PPO's updates are real gradient steps). Its first ask + tell is timed apart as
"join" (PPO loads the checkpoint and replays the batches after it). Then the samplers take turns,
one ask + tell each per round, so that load on the shared machine hits all of them alike.
TPE's cost grows with N, so it gets only `--tpe-asks` rounds. `--samplers` picks the arms,
RegularizedEvolutionSampler and PNASSampler (defaults) among them; they read the PPO trials as
any other trials. Reported per ask + tell: the calling thread's CPU time (time.thread_time; not
inflated by other jobs, but blind to time spent waiting for a database server) and wall time.
PPO's mean includes its updates (one every 5 trials with the default settings).

    python benchmarks/sampler_overhead.py --storages inmemory journal postgres \
        --sizes 100 1000 10000 20000 --asks 100 --tpe-asks 5
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import optuna
import torch
from nas_optuna.objectives import SyntheticObjective
from nas_optuna.samplers.ppo_lstm.learner import Learner, Sample
from nas_optuna.samplers.ppo_lstm.options import learner_settings
from overhead_prefill import PPOHistory, unique_name

from nas_optuna import PNASSampler, PPOLSTMSampler, RegularizedEvolutionSampler, nasnet_space

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
SAMPLERS = {
    "random": lambda: optuna.samplers.RandomSampler(seed=0),
    "tpe": lambda: optuna.samplers.TPESampler(seed=0, constant_liar=True),
    "ppo": lambda: PPOLSTMSampler(search_space=nasnet_space(), seed=0),
    "evolution": lambda: RegularizedEvolutionSampler(seed=0),
    "pnas": lambda: PNASSampler(seed=0),
}


def new_study(kind: str, directory: str, url: str, history: PPOHistory, n: int, sampler) -> optuna.Study:
    name = unique_name("sampler-overhead")
    if kind == "inmemory":
        storage = optuna.storages.InMemoryStorage()
    elif kind == "journal":
        path = os.path.join(directory, f"{name}.log")
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    elif kind == "postgres":
        storage = url
    else:
        raise ValueError(f"unknown storage {kind!r}; use inmemory, journal or postgres")
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    history.fill(study, n, url if kind == "postgres" else None)
    if kind == "postgres":  # a fresh storage object, so no cache predates the bulk insert
        storage = optuna.storages.RDBStorage(url)
    return optuna.load_study(study_name=name, storage=storage, sampler=sampler)


def ask_tell(study: optuna.Study, objective: SyntheticObjective, space: dict) -> tuple[float, float]:
    cpu, wall = time.thread_time(), time.perf_counter()
    trial = study.ask(fixed_distributions=space)
    study.tell(trial, objective.score(trial.params))
    return (time.thread_time() - cpu) * 1e3, (time.perf_counter() - wall) * 1e3


def default_learner() -> Learner:
    """A learner with the settings a default PPOLSTMSampler uses on the NASNet space."""
    space = nasnet_space()
    n_choices = tuple(len(d.choices) for d in space.values())
    return Learner(learner_settings(n_choices, PPOLSTMSampler(search_space=space)._settings))


def time_update(repeats: int = 20) -> float:
    """Median CPU ms of one update with the default settings, its window and elites full."""
    learner = default_learner()
    stride = learner.settings.stride
    rng = np.random.RandomState(0)
    times = []
    for k in range(repeats + 10):
        actions, log_probs = learner.policy.sample_many(rng, stride)
        batch = [
            Sample(k * stride + i, float(rng.rand()), a, lp, learner.version)
            for i, (a, lp) in enumerate(zip(actions, log_probs, strict=True))
        ]
        start = time.thread_time()
        learner.apply_batch(batch)
        if k >= 10:  # the window and the elites are full by then
            times.append(time.thread_time() - start)
    return float(np.median(times)) * 1e3


def time_rollouts(count: int) -> float:
    """Median CPU ms per rollout when `count` are drawn together."""
    policy = default_learner().policy
    rng = np.random.RandomState(0)
    times = []
    for _ in range(max(3, 200 // count)):
        start = time.thread_time()
        policy.sample_many(rng, count)
        times.append((time.thread_time() - start) / count)
    return float(np.median(times)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storages", nargs="+", default=["inmemory", "journal", "postgres"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 1000, 10000, 20000])
    parser.add_argument("--asks", type=int, default=100, help="timed rounds for random and PPO")
    parser.add_argument("--tpe-asks", type=int, default=5, help="timed rounds for TPE (0: skip TPE)")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument(
        "--samplers", nargs="+", default=["random", "tpe", "ppo"], choices=list(SAMPLERS),
        help="samplers to time (random always runs: it is the reference)",
    )  # fmt: skip
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = nasnet_space()
    objective = SyntheticObjective(space, target_seed=0, noise=0.0)
    settings = default_learner().settings
    print(
        f"one PPO update (every {settings.stride} trials: window {settings.batch_size} + "
        f"{settings.elite_size} elites x 50 decisions, {settings.ppo.epochs} epochs, 1 thread): "
        f"{time_update():.1f} ms CPU (median)"
    )
    alone, together = time_rollouts(1), time_rollouts(20)
    print(f"rollout: {alone:.2f} ms alone, {together:.2f} ms each when 20 are drawn together")
    print(f"torch threads outside updates: {torch.get_num_threads()}")
    start = time.perf_counter()
    history = PPOHistory(max(args.sizes), objective)
    print(f"pre-fill history: {max(args.sizes)} PPO trials in {time.perf_counter() - start:.0f} s")
    chosen = {"random", *args.samplers}
    names = [n for n in SAMPLERS if n in chosen and (n != "tpe" or args.tpe_asks > 0)]
    others = [n for n in names if n != "random"]
    header = ["storage", "N", "random ms (CPU median, CPU mean, wall mean)"]
    for name in others:
        header += [f"{name} ms (same)", f"{name}/random (CPU mean, wall mean)"]
    header.append("join ms, CPU (" + ", ".join(names) + ")")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as directory:
        for kind in args.storages:
            for n in args.sizes:
                studies = {
                    s: new_study(kind, directory, args.postgres_url, history, n, SAMPLERS[s]()) for s in names
                }
                join = {s: ask_tell(study, objective, space) for s, study in studies.items()}
                times: dict[str, list[tuple[float, float]]] = {s: [] for s in names}
                for i in range(args.asks):
                    for s, study in studies.items():
                        if s != "tpe" or i < args.tpe_asks:
                            times[s].append(ask_tell(study, objective, space))
                stats = {s: _stats(t) for s, t in times.items()}
                r = stats["random"]
                cells = [kind, n, _ms(r)]
                for name in others:
                    o = stats[name]
                    cells += [
                        _ms(o) + (f" ({len(times[name])} asks)" if name == "tpe" else ""),
                        f"{o[1] / r[1]:.2f}, {o[2] / r[2]:.2f}",
                    ]
                cells.append(", ".join(f"{join[s][0]:.0f}" for s in names))
                print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


def _ms(stats: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in stats)


def _stats(times: list[tuple[float, float]]) -> tuple[float, float, float]:
    cpu = [c for c, _ in times]
    return float(np.median(cpu)), float(np.mean(cpu)), float(np.mean([w for _, w in times]))


if __name__ == "__main__":
    main()
