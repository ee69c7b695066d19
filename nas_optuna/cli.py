"""The `nas-optuna` command: one subcommand per module, each adding its own parser."""

from __future__ import annotations

import argparse
import importlib
import sys

from nas_optuna.storage_secrets import scrub
from nas_optuna.storage_url import StorageUnavailable

# Each module defines `add_parser(subparsers)` that registers a subcommand whose parser
# sets `func=run`; `run(args) -> int` is the exit code.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "nas_optuna.cmd_demo",
    "nas_optuna.cmd_train",
    "nas_optuna.cmd_rerank",
    "nas_optuna.cmd_report",
    "nas_optuna.cmd_show",
    "nas_optuna.cmd_grpc_proxy",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas-optuna", description="NASNet architecture search with Optuna.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError) as err:
        # Bad input: one clear line, no traceback wall, no password.
        print(
            f"nas-optuna {args.command}: error: {scrub(str(err), getattr(args, 'storage', None))}",
            file=sys.stderr,
        )
        return 2
    except StorageUnavailable as err:
        print(
            f"nas-optuna {args.command}: error: {scrub(str(err), getattr(args, 'storage', None))}",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
