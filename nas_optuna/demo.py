"""The demo: paired studies (one per sampler and seed) on equal budgets, run by nas-worker
subprocesses on a journal file, then the report, attached to optuna-dashboard too.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from nas_optuna.storage_url import open_storage

# The worker's entry point, run with this interpreter so the demo needs nothing on PATH.


@dataclass(frozen=True)
class DemoPlan:
    out_dir: Path
    name: str
    samplers: tuple[str, ...]
    seeds: int
    n_trials: int
    study_config: Path
    device: str = "cpu"
    threads: int = 1  # torch CPU threads per worker: the cores split between the running workers

    @property
    def storage_path(self) -> Path:
        return self.out_dir / "runs.log"

    @property
    def storage_url(self) -> str:
        # The demo's journal is scratch output: no fsync per write, which on a VM disk costs
        # milliseconds, most of a table trial's time (BENCHMARKS.md, "NAS-Bench-201 demo").
        return f"journal-nofsync:{self.storage_path}"

    def study_names(self) -> list[str]:
        return [f"{self.name}-{s}-s{seed}" for seed in range(self.seeds) for s in self.samplers]

    def worker_command(self, study_name: str) -> list[str]:
        sampler, seed = study_name.rsplit("-", 2)[1:]
        return [
            sys.executable, "-P", "-m", "nas_optuna.worker",  # -P: see spawn.child_argv
            "--storage", self.storage_url,
            "--study-name", study_name,
            "--study-config", str(self.study_config),
            "--sampler", sampler,
            "--seed", seed.removeprefix("s"),
            "--worker-index", "0",  # one worker per study: sampler seed = study seed, reproducible
            "--n-trials", str(self.n_trials),
            "--device", self.device,
            "--threads", str(self.threads),
        ]  # fmt: skip

    def create_studies(self) -> None:
        """The worker loads its study; the demo creates them first, with the directions of the
        study config's objectives (maximize; or maximize minimize for accuracy and a cost)."""
        from nas_optuna.multi_objective import directions
        from nas_optuna.study_config import load_study_config

        wanted = directions(load_study_config(self.study_config).objective_names)
        storage = open_storage(self.storage_url)
        for name in self.study_names():
            optuna.create_study(study_name=name, storage=storage, directions=wanted)


def packaged_study_config(file_name: str) -> Path:
    """A study config shipped in nas_optuna.studies (the repo's studies/ folder)."""
    path = Path(str(resources.files("nas_optuna.studies") / file_name))
    if not path.is_file():
        raise FileNotFoundError(f"no study config {file_name!r} in nas_optuna.studies; pass a path instead")
    return path


def check_plan(plan: DemoPlan) -> None:
    if plan.seeds < 1 or plan.n_trials < 1:
        raise ValueError(f"--seeds and --n-trials must be >= 1, got {plan.seeds} and {plan.n_trials}")
    if not plan.study_config.is_file():
        raise FileNotFoundError(f"study config {str(plan.study_config)!r} does not exist")
    if plan.storage_path.exists():
        taken = set(plan.study_names()) & set(
            optuna.get_all_study_names(open_storage(str(plan.storage_path)))
        )
        if taken:
            raise ValueError(
                f"{plan.storage_path} already holds {sorted(taken)}; "
                f"pick another --name or remove {plan.out_dir}"
            )


def run_workers(plan: DemoPlan, jobs: int, progress: Callable[[str], None] = print, poll: float = 2.0) -> int:
    """Run one worker per study, at most `jobs` at a time, printing progress; returns failures."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    (plan.out_dir / "logs").mkdir(exist_ok=True)
    plan.create_studies()
    storage = open_storage(plan.storage_url)  # one object: a poll reads only new log lines
    pending = list(plan.study_names())
    running: dict[str, subprocess.Popen] = {}
    failures = 0
    start = time.monotonic()
    last_line = ""
    try:
        while pending or running:
            while pending and len(running) < jobs:
                name = pending.pop(0)
                with open(plan.out_dir / "logs" / f"{name}.log", "w") as log:  # the child keeps its own copy
                    command = plan.worker_command(name)
                    running[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            time.sleep(poll)
            for name, proc in list(running.items()):
                if proc.poll() is not None:
                    del running[name]
                    if proc.returncode != 0:
                        failures += 1
                        log_path = plan.out_dir / "logs" / f"{name}.log"
                        progress(f"worker for {name} failed (exit {proc.returncode}); see {log_path}")
            line = progress_line(plan, storage, running, len(pending))
            if line != last_line:  # print only when something moved
                progress(f"[{time.monotonic() - start:5.0f} s] {line}")
                last_line = line
    finally:
        for proc in running.values():  # interrupted: stop our workers (they re-queue their trials)
            proc.terminate()
        for proc in running.values():
            proc.wait()
    return failures


def progress_line(plan: DemoPlan, storage: BaseStorage, running: Collection[str], n_pending: int) -> str:
    """Trials and studies done, and each running study's count: one short line however many
    studies the demo has (a line per study would be 30 names at 10 seeds x 3 samplers)."""
    names = plan.study_names()
    total = len(names) * plan.n_trials
    completed = {name: _completed(storage, name) for name in names}
    finished = len(names) - n_pending - len(running)
    now = ", ".join(f"{name} {completed[name]}/{plan.n_trials}" for name in running)
    return f"{sum(completed.values()):,}/{total:,} trials; {finished}/{len(names)} studies finished" + (
        f"; running: {now}" if now else ""
    )


def _completed(storage: BaseStorage, study_name: str) -> int:
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:  # not created yet
        return 0
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
