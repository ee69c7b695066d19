"""Seconds a trial spends outside training: sampling, storage, model build, counting, warm-up.

Part 1 times each phase of a trial of the paper's search child (N=2, F=32) in one process on
a journal file with the PPO-LSTM sampler, for `--trials` genotypes; the first training step is
compared with the steady ones (warm-up). Part 2 (`--storage`) reads a finished study and splits
each trial's wall time (start to complete, as stored) into the objective's own
``train_seconds`` and the rest (ask, the storage writes, tell, heartbeats).

    python benchmarks/trial_overhead.py --trials 10
    python benchmarks/trial_overhead.py --storage nas-demo/runs.log --prefix demo
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import torch

from nas_optuna import PPOLSTMSampler, build_network, count_mult_adds, genotype_from_params, nasnet_space
from nas_optuna._optuna_internals import batched_writes


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def phases(n_trials: int, n_cells: int, filters: int, batch: int, steps: int) -> dict[str, list[float]]:
    space = nasnet_space()
    times: dict[str, list[float]] = {k: [] for k in ("ask", "build", "count", "first_step", "step", "tell")}
    with tempfile.TemporaryDirectory() as tmp:
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(Path(tmp) / "bench.log"))
        )
        study = optuna.create_study(storage=storage, direction="maximize",
                                    sampler=PPOLSTMSampler(search_space=space, seed=0))  # fmt: skip
        x = torch.randn(batch, 3, 32, 32).to(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (batch,))

        def ask():  # as nas-worker asks: the 50 decisions stored in one write
            trial = study.ask()
            with batched_writes(study):
                for name, dist in space.items():
                    trial.suggest_categorical(name, dist.choices)
            return trial

        for _ in range(n_trials):
            trial, t = _timed(ask)
            times["ask"].append(t)
            genotype = genotype_from_params(trial.params, space)
            model, t = _timed(lambda g=genotype: build_network(g, n_cells=n_cells, filters=filters))
            times["build"].append(t)
            _, t = _timed(lambda m=model: count_mult_adds(m, (1, 3, 32, 32)))
            times["count"].append(t)
            model = model.to(memory_format=torch.channels_last).train()
            opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

            def step(m=model, o=opt):
                o.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(m(x), y).backward()
                o.step()

            _, t = _timed(step)
            times["first_step"].append(t)
            times["step"].append(statistics.median(_timed(step)[1] for _ in range(steps)))
            _, t = _timed(lambda tr=trial: study.tell(tr, 0.5))
            times["tell"].append(t)
    return times


def stored_split(storage_url: str, prefix: str) -> None:
    from nas_optuna.storage_url import open_storage

    storage = open_storage(storage_url)
    rows = []
    for name in optuna.get_all_study_names(storage):
        if not name.startswith(prefix):
            continue
        study = optuna.load_study(study_name=name, storage=storage)
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            wall = (t.datetime_complete - t.datetime_start).total_seconds()
            rows.append((wall, t.user_attrs.get("train_seconds", wall)))
    if not rows:
        raise SystemExit(f"no complete trials in studies starting with {prefix!r}")
    walls = [w for w, _ in rows]
    outside = [w - s for w, s in rows]
    fraction = statistics.median(o / w for o, w in zip(outside, walls, strict=True))
    print(f"{len(rows)} complete trials: median wall {statistics.median(walls):.2f} s, median outside "
          f"the objective {statistics.median(outside):.3f} s ({fraction:.1%} of the trial)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--n-cells", type=int, default=2)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--gpu-trial-seconds", type=float, default=60.0,
                        help="a GPU-sized trial to compare with (issue goal: 20 epochs in 60 s)")  # fmt: skip
    parser.add_argument("--storage", help="split stored trials instead (with --prefix)")
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()
    if args.storage:
        stored_split(args.storage, args.prefix)
        return
    torch.set_num_threads(args.threads)
    times = phases(args.trials, args.n_cells, args.filters, args.batch, args.steps)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"N={args.n_cells} F={args.filters}, batch {args.batch}, {args.trials} trials, medians in ms:")
    for key, value in med.items():
        print(f"  {key:10s} {value * 1000:9.1f}")
    outside = med["ask"] + med["build"] + med["count"] + med["tell"]
    warmup = max(0.0, med["first_step"] - med["step"])
    share = (outside + warmup) / args.gpu_trial_seconds
    print(f"outside training: {outside * 1000:.0f} ms + first-step warm-up {warmup * 1000:.0f} ms = "
          f"{share:.2%} of a {args.gpu_trial_seconds:.0f} s GPU trial")  # fmt: skip


if __name__ == "__main__":
    main()
