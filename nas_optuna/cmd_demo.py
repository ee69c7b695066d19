"""`nas-optuna demo`: PPO vs random search on equal budgets, run by nas-worker processes, then the report."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from nas_optuna.study_config import SAMPLER_NAMES

# Real children on the bundled CIFAR-10 images; `--study-config synthetic.toml` runs in seconds.
DEFAULT_CONFIG = "demo.toml"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a small search per sampler (PPO vs random by default) with workers, then write the report",
        description="Studies NAME-<sampler>-s<seed> in a journal file under --out, one nas-worker per study.",
    )
    parser.add_argument(
        "--out", default="nas-demo", help="folder for runs.log, logs and the report (default %(default)s)"
    )
    parser.add_argument("--name", default="demo", help="study name prefix (default %(default)s)")
    parser.add_argument("--samplers", nargs="+", default=["ppo", "random"], choices=SAMPLER_NAMES)
    parser.add_argument("--seeds", type=int, default=1, help="seeds per sampler (default %(default)s)")
    parser.add_argument(
        "--n-trials",
        type=int,
        help="trials per study, equal for all (default: [budget] n_trials)",
    )
    parser.add_argument(
        "--study-config", default=None, help=f"study config TOML (default: the packaged {DEFAULT_CONFIG})"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="workers at a time (default: CPU count)"
    )
    parser.add_argument("--device", default="cpu")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import optuna

    from nas_optuna.demo import DemoPlan, check_plan, packaged_study_config, run_workers
    from nas_optuna.report.build import make_report, write_report
    from nas_optuna.report.dashboard import attach_to_dashboard
    from nas_optuna.report.metrics import format_mean_sd
    from nas_optuna.storage_url import open_storage
    from nas_optuna.study_config import load_study_config

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress lines say what happens
    if args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    config = Path(args.study_config) if args.study_config else packaged_study_config(DEFAULT_CONFIG)
    n_trials = args.n_trials or load_study_config(config).budget.get("n_trials")
    if n_trials is None:
        raise ValueError(f"{config} has no [budget] n_trials; pass --n-trials")
    plan = DemoPlan(
        Path(args.out),
        args.name,
        tuple(args.samplers),
        args.seeds,
        n_trials,
        config,
        args.device,
        threads=max(1, (os.cpu_count() or 1) // args.jobs),
    )
    check_plan(plan)
    print(
        f"demo: {len(plan.study_names())} studies x {plan.n_trials} trials, {args.jobs} worker(s) at a time"
    )
    print(f"storage: {plan.storage_path}; study config: {config}")
    failures = run_workers(plan, args.jobs)
    storage = open_storage(plan.storage_url)
    report = make_report(storage, names=plan.study_names())
    paths = write_report(report, plan.out_dir / "report")
    try:
        attach_to_dashboard(report, storage)
        dashboard = f"optuna-dashboard {plan.storage_path}"
    except ValueError as err:  # optuna-dashboard not installed
        dashboard = str(err)
    for s in report.summaries:
        print(f"{s.sampler}: best {format_mean_sd(s.best)} over {s.n_seeds} seed(s) at {s.n_trials} trials")
    print(f"report: {paths[0]} (figures in {plan.out_dir / 'report' / 'figures'})")
    print(f"dashboard: {dashboard}")
    return 1 if failures else 0
