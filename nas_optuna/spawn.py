"""Several workers on one machine: one child process per slot, e.g. one or k per GPU."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

log = logging.getLogger("nas_optuna.worker")

# Options passed on to each child unchanged (dest -> flag); the spawning ones are left out, and
# so is the storage: it may hold a password, and argv is world-readable (ps), so it goes by the
# environment (child_env).
FORWARDED = {
    "study_name": "--study-name",
    "study_config": "--study-config",
    "sampler": "--sampler",
    "n_trials": "--n-trials",
    "seed": "--seed",
    "threads": "--threads",
    "heartbeat_seconds": "--heartbeat-seconds",
    "grace_seconds": "--grace-seconds",
    "max_retries": "--max-retries",
    "max_failures": "--max-failures",
    "storage_retry_seconds": "--storage-retry-seconds",
}


def worker_plan(processes: int, gpus: str | None, per_gpu: int, device: str) -> list[str]:
    """The device of each worker to start: --gpus 0,1 --per-gpu 2 -> cuda:0, cuda:0, cuda:1, cuda:1."""
    if processes < 1 or per_gpu < 1:
        raise ValueError("--processes and --per-gpu must be >= 1")
    if gpus is None:
        return [device] * processes
    if processes != 1:
        raise ValueError("use either --processes (on --device) or --gpus with --per-gpu, not both")
    try:
        indices = [int(g) for g in gpus.split(",") if g.strip()]
    except ValueError:
        raise ValueError(f"--gpus {gpus!r}: expected comma-separated GPU indices such as 0,1") from None
    if not indices:
        raise ValueError("--gpus: give at least one GPU index")
    return [f"cuda:{g}" for g in indices for _ in range(per_gpu)]


def child_argv(args, device: str, index: int) -> list[str]:
    # -P: no current directory on sys.path, or a checkout of this repo (whose layout differs
    # from the installed package's) would shadow the installed nas_optuna.
    argv = [sys.executable, "-P", "-m", "nas_optuna.worker"]
    for dest, flag in FORWARDED.items():
        value = getattr(args, dest)
        if value is not None:
            argv += [flag, str(value)]
    base = args.worker_index or 0
    return argv + ["--device", device, "--worker-index", str(base + index)]


def child_env(args) -> dict[str, str]:
    """The children's environment: ours, plus the storage URL the parent resolved, and their
    share of the cores for OpenMP and BLAS: those read it when they load, before any code of
    ours runs (NumPy's BLAS spinning on cores the other workers use made a PNAS refit 10x
    slower on a loaded machine). A value the user set is kept."""
    from nas_optuna.storage_secrets import STORAGE_ENV

    env = {**os.environ, STORAGE_ENV: args.storage}
    if getattr(args, "threads", None):
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, str(args.threads))
    return env


def run_children(args, plan: list[str]) -> int:
    """Start one worker per entry of ``plan``, forward SIGTERM/SIGINT, wait; the worst exit code.
    The study must exist (nas-worker creates it first, so that the children do not race)."""
    env = child_env(args)
    children = [subprocess.Popen(child_argv(args, device, i), env=env) for i, device in enumerate(plan)]
    log.info(
        "started %d workers: %s",
        len(children),
        ", ".join(f"{c.pid} on {d}" for c, d in zip(children, plan, strict=True)),
    )

    def forward(signum, frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    codes = [child.wait() for child in children]
    log.info("workers exited with codes %s", codes)
    return max(codes, key=abs)
