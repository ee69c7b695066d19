"""`nas-optuna report`: compare samplers over seeds in HTML (+ figure JSON/PNG/SVG) and optuna-dashboard."""

from __future__ import annotations

import argparse

from nas_optuna.storage_secrets import add_storage_arguments, redact, resolve_storage


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="compare the samplers of paired studies (NAME-<sampler>-s<seed>) in an HTML report",
        description="Reads completed trials (running ones are ignored), so it also works while workers run.",
    )
    add_storage_arguments(parser, "storage URL or journal file (*.log)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--prefix", help="use every study whose name starts with this (e.g. the NAME of NAME-ppo-s0)"
    )
    group.add_argument("--studies", nargs="+", metavar="STUDY", help="use exactly these studies")
    group.add_argument("--list", action="store_true", help="list the studies in the storage and exit")
    parser.add_argument("--out", default="nas-report", help="output folder (default: %(default)s)")
    parser.add_argument("--windows", type=int, default=10, help="windows of trials for the over-time plots")
    parser.add_argument(
        "--budget",
        type=float,
        nargs="+",
        metavar="COST",
        help="cost budgets (e.g. multiply-adds) for the best-network-under-a-budget table "
        "(default: the quartiles of the costs seen)",
    )
    parser.add_argument(
        "--no-static", action="store_true", help="skip PNG/SVG export (needs kaleido + Chromium)"
    )
    parser.add_argument(
        "--dashboard",
        action="store_true",
        help="also save the plots and a note on each study for optuna-dashboard",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nas_optuna.report.build import make_report, write_report
    from nas_optuna.storage_url import existing_storage, list_study_names

    resolve_storage(args)
    if args.windows < 1:
        raise ValueError(f"--windows must be >= 1, got {args.windows}")
    storage = existing_storage(args.storage)
    if args.list:
        for name in list_study_names(storage, None):
            print(name)
        return 0
    if args.budget and any(b <= 0 for b in args.budget):
        raise ValueError(f"--budget must be positive costs, got {args.budget}")
    report = make_report(storage, args.prefix, args.studies, n_windows=args.windows, budgets=args.budget)
    paths = write_report(report, args.out, static=not args.no_static)
    for note in report.notes:  # first: a held-back budget or a left-out study changes the reading
        print(f"note: {note}")
    for s in report.summaries:
        print(f"{s.sampler}: {s.n_seeds} seed(s), completed {list(s.completed)}")
    for c in report.comparisons:
        p = "n/a" if c.p_value is None else f"{c.p_value:.4f}"
        print(f"Mann-Whitney U {c.sampler_a} vs {c.sampler_b} ({c.metric}): p = {p}, {c.note}")
    for row in report.budget_rows:
        best = (
            "none within it"
            if row.best is None
            else f"{row.best.accuracy:.4f} ({row.best.study}, trial {row.best.trial.number})"
        )
        print(f"best {row.sampler} network with {report.cost_key} <= {row.budget:,.0f}: {best}")
    print(f"wrote {len(paths)} files; open {paths[0]}")
    if args.dashboard:
        from nas_optuna.report.dashboard import attach_to_dashboard

        touched = attach_to_dashboard(report, storage, n_windows=args.windows)
        hint = dashboard_command(args.storage)
        print(f"attached plots and notes to {len(touched)} studies; view with: {hint}")
    return 0


def dashboard_command(url: str) -> str:
    """How to open the storage in optuna-dashboard, never showing a password."""
    if redact(url) == url:
        return f"optuna-dashboard {url}"
    return (
        f"optuna-dashboard --from-config FILE.toml, FILE.toml holding [optuna_dashboard] "
        f'storage = "{redact(url)}" with the password in place of *** (a file keeps it off argv)'
    )
