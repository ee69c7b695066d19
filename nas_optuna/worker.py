"""`nas-worker`: evaluate trials of a shared study until its budget is spent.

    optuna create-study --storage study.log --study-name s1 --direction maximize
    nas-worker --storage study.log --study-name s1 --study-config studies/smoke.toml --sampler ppo

A study config with ``[objective] objectives = ["accuracy", "mult_adds"]`` makes a
multi-objective study (create it with --directions maximize minimize; samplers random, tpe,
nsga2, or ppo with a [sampler.ppo] scalarization).

Start as many as you like, on as many machines as can reach the storage; `--processes K` or
`--gpus 0,1 --per-gpu 2` start several on this machine and wait for them.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import socket
import sys
from dataclasses import dataclass

import optuna

from nas_optuna import multi_objective
from nas_optuna.space import SIZE_PARAM
from nas_optuna.spawn import run_children, worker_plan
from nas_optuna.storage_secrets import add_storage_arguments, redact, resolve_storage, scrub, scrub_logs
from nas_optuna.storage_url import StorageUnavailable, open_storage
from nas_optuna.study_attrs import check_space, record_or_check
from nas_optuna.study_config import SAMPLER_NAMES, load_study_config
from nas_optuna.worker_checks import build_objective, check_arguments, check_sampler_settings
from nas_optuna.worker_loop import QueueSettings, Worker

log = logging.getLogger("nas_optuna.worker")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nas-worker", description=__doc__.split("\n\n")[0])
    add_storage_arguments(
        p, "journal file (*.log), redis://, postgresql://, mysql+pymysql://, sqlite:///, grpc://HOST:PORT"
    )
    p.add_argument("--study-name", required=True)
    p.add_argument("--study-config", required=True, help="a study TOML file, e.g. studies/smoke.toml")
    p.add_argument("--sampler", choices=SAMPLER_NAMES, default="ppo")
    p.add_argument(
        "--n-trials",
        type=int,
        help="the study's total budget, shared by all workers (default: [budget] n_trials)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:K")
    p.add_argument("--seed", type=int, help="sampler seed (worker i uses seed + i)")
    p.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads per worker (default: CPU cores / workers started by this command)",
    )
    p.add_argument(
        "--worker-index",
        type=int,
        help="distinct per worker for distinct sampler seeds (default: from the pid)",
    )
    p.add_argument(
        "--create-study",
        action="store_true",
        help="create the study (with the config's directions) if it does not exist",
    )
    group = p.add_argument_group("several workers on this machine")
    group.add_argument(
        "--processes", type=int, default=1, help="start K workers on --device and wait for them"
    )
    group.add_argument("--gpus", help="comma-separated GPU indices, e.g. 0,1: workers on cuda:0, cuda:1")
    group.add_argument("--per-gpu", type=int, default=1, help="workers per GPU with --gpus")
    group = p.add_argument_group("queue")
    group.add_argument("--heartbeat-seconds", type=float, default=10.0)
    group.add_argument(
        "--grace-seconds", type=float, default=60.0, help="a trial silent this long is re-queued"
    )
    group.add_argument("--max-retries", type=int, default=2, help="re-runs of a trial whose worker died")
    group.add_argument(
        "--max-failures", type=int, default=5, help="stop after this many failed trials in a row"
    )
    group.add_argument(
        "--storage-retry-seconds", type=float, default=120.0, help="keep retrying a lost database this long"
    )
    return p


# Samplers that follow a conditional (progressive) space: PNAS grows it, random and TPE draw it.
GROWING_SAMPLERS = ("pnas", "random", "tpe")


def make_sampler(name: str, settings: dict, seed: int | None, space) -> optuna.samplers.BaseSampler:
    if name == "ppo":
        from nas_optuna.samplers.ppo_lstm import PPOLSTMSampler as cls  # lazily: torch-heavy
    elif name == "evolution":
        from nas_optuna.samplers.regularized_evolution import RegularizedEvolutionSampler as cls
    elif name == "pnas":
        from nas_optuna.samplers.pnas import PNASSampler as cls
    else:
        cls = {
            "random": optuna.samplers.RandomSampler,
            "tpe": optuna.samplers.TPESampler,
            "nsga2": optuna.samplers.NSGAIISampler,
        }[name]
    check_sampler_settings(name, cls, settings)
    kwargs = dict(settings)
    if SIZE_PARAM in space:
        if name not in GROWING_SAMPLERS:
            raise ValueError(
                f"[space] progressive = true makes a conditional space (cells of 1..B blocks) for "
                f"--sampler pnas; --sampler {name} needs the fixed space: remove progressive"
            )
        if name == "pnas":
            from nas_optuna.progressive import cell_growth

            kwargs["growth"] = cell_growth(space)
    if "search_space" in inspect.signature(cls).parameters:
        kwargs.setdefault("search_space", space)
    try:
        return cls(seed=seed, **kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(f"[sampler.{name}] settings rejected by {cls.__name__}: {err}") from None


def _load_study(args, storage, objectives: tuple[str, ...]) -> optuna.Study:
    try:
        return optuna.load_study(study_name=args.study_name, storage=storage)
    except KeyError:
        if args.create_study:
            return optuna.create_study(
                study_name=args.study_name,
                storage=storage,
                directions=multi_objective.directions(objectives),
                load_if_exists=True,
            )
        words = multi_objective.direction_words(objectives)
        flag = f"--direction {words}" if len(objectives) == 1 else f"--directions {words}"
        raise ValueError(
            f"study {args.study_name!r} not found; create it first: optuna create-study --storage "
            f"'{redact(args.storage)}' --study-name {args.study_name} {flag} "
            "(or pass --create-study)"
        ) from None


@dataclass(frozen=True)
class Prepared:
    """Everything a worker needs that can be checked before it touches the study."""

    queue: QueueSettings
    space: dict
    sampler: optuna.samplers.BaseSampler
    objective: object
    record: dict  # the settings recorded in (or compared with) the study
    objectives: tuple[str, ...] = (multi_objective.ACCURACY,)  # what each trial reports


def prepare(args) -> Prepared:
    """Check every input and build sampler and objective (reading the dataset); ValueError if bad."""
    check_arguments(args)
    config = load_study_config(args.study_config)
    n_trials = args.n_trials if args.n_trials is not None else config.budget.get("n_trials")
    if n_trials is None:
        raise ValueError("no budget: pass --n-trials or set [budget] n_trials in the study config")
    queue_settings = QueueSettings(
        n_trials=n_trials,
        device_seconds=config.budget.get("device_seconds"),
        heartbeat_seconds=args.heartbeat_seconds,
        grace_seconds=args.grace_seconds,
        max_retries=args.max_retries,
        max_consecutive_failures=args.max_failures,
    )
    space = config.build_space()
    sampler_settings = config.sampler_settings(args.sampler)
    multi_objective.check_sampler(args.sampler, sampler_settings, config.objective_names)
    index = args.worker_index if args.worker_index is not None else os.getpid()
    seed = None if args.seed is None else args.seed + index
    sampler = make_sampler(args.sampler, sampler_settings, seed, space)
    if args.threads is not None:
        # Workers sharing a CPU must split its cores: oversubscribed torch threads spin. Torch
        # reads OMP_NUM_THREADS when it loads, so a worker that never needs torch (a table or
        # synthetic objective with random or TPE) does not pay seconds to import it here.
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(args.threads)
    record = {
        "sampler": args.sampler,
        "sampler_settings": sampler_settings,
        "seed": args.seed,
        "budget": {"n_trials": n_trials, "device_seconds": queue_settings.device_seconds},
        "study_config": config.data,
    }
    objective = build_objective(config, args.device)
    return Prepared(queue_settings, space, sampler, objective, record, config.objective_names)


def run_worker(args) -> int:
    check_arguments(args)
    storage = open_storage(args.storage, retry_seconds=args.storage_retry_seconds)  # no write yet
    ready = prepare(args)
    study = _load_study(args, storage, ready.objectives)
    multi_objective.check_directions(study, ready.objectives)
    check_space(study, ready.space)
    record_or_check(study, ready.record)  # the first write to the study
    study.sampler = ready.sampler
    name = f"{socket.gethostname()}:{os.getpid()}"
    worker = Worker(study, ready.objective, ready.queue, name, ready.space)
    worker.install_signal_handlers()
    return worker.run()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our progress lines replace Optuna's
    try:
        resolve_storage(args)
        scrub_logs(args.storage)
        plan = worker_plan(args.processes, args.gpus, args.per_gpu, args.device)
        if args.threads is None and len(plan) > 1:
            args.threads = max(1, (os.cpu_count() or 1) // len(plan))
        if len(plan) > 1:
            if args.create_study:  # once here, not racing in every child; every input checked first
                ready = prepare(args)
                storage = open_storage(args.storage, retry_seconds=args.storage_retry_seconds)
                _load_study(args, storage, ready.objectives)
            return run_children(args, plan)
        args.device = plan[0]
        return run_worker(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"nas-worker: error: {scrub(str(err), args.storage)}", file=sys.stderr)
        return 2
    except StorageUnavailable as err:
        print(f"nas-worker: error: {scrub(str(err), args.storage)}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
