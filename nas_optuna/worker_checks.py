"""Checks a worker makes before it touches a study: command-line numbers, sampler settings, and
building the objective (which reads the dataset).

Each bad input is one ValueError line naming the setting and what to do; the worker turns it
into exit code 2 before anything is written to the study.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

DEVICE = re.compile(r"^(cpu|cuda|cuda:\d+)$")


def check_arguments(args) -> None:
    """ValueError for a command-line number that has no meaning (e.g. --n-trials 0)."""
    if not DEVICE.match(args.device):
        raise ValueError(f"--device {args.device!r}: expected cpu, cuda or cuda:K")
    at_least = {
        "--n-trials": (args.n_trials, 1, "the study's total budget"),
        "--max-failures": (args.max_failures, 1, "failed trials in a row before the worker stops"),
        "--max-retries": (args.max_retries, 0, "re-runs of a trial whose worker died"),
        "--threads": (args.threads, 1, "torch CPU threads"),
    }
    for flag, (value, low, meaning) in at_least.items():
        if value is not None and value < low:
            raise ValueError(f"{flag} {value}: must be >= {low} ({meaning})")
    if args.storage_retry_seconds < 0:
        raise ValueError(f"--storage-retry-seconds {args.storage_retry_seconds}: must be >= 0")


def _type_name(value: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[type(value)]


def check_sampler_settings(name: str, cls: type, settings: dict[str, Any]) -> None:
    """Unknown keys, and values whose type differs from the sampler's own default.

    Samplers accept almost anything at construction and fail at their first update (or never);
    the default's type is the sampler's own statement of what a setting takes.
    """
    params = inspect.signature(cls).parameters
    allowed = sorted(p for p in params if p not in ("seed", "search_space", "self"))
    for key, value in settings.items():
        if key not in params or key in ("seed", "search_space"):
            raise ValueError(f"[sampler.{name}] unknown setting {key!r}; {cls.__name__} takes {allowed}")
        default = params[key].default
        if type(default) not in (bool, int, float, str):
            continue  # None or an object: no type to hold the value to
        if isinstance(default, bool) or isinstance(value, bool):
            ok = type(value) is type(default)
        elif isinstance(default, int | float):
            ok = isinstance(value, int | float) and (isinstance(default, float) or isinstance(value, int))
        else:
            ok = isinstance(value, str)
        if not ok:
            raise ValueError(
                f"[sampler.{name}] {key} = {value!r}: expected {_type_name(default)} "
                f"(the default is {default!r})"
            )


def build_objective(config, device: str):
    """Build the study's objective, reading its dataset now; any failure is one ValueError line."""
    try:
        return config.build_objective(device=device)
    except (ValueError, FileNotFoundError) as err:
        raise ValueError(f"{config.source} [objective]: {err}") from None
    except Exception as err:  # a damaged dataset, a torchvision quirk: still bad input, one line
        raise ValueError(
            f"{config.source} [objective]: could not be built ({type(err).__name__}: {err}); "
            "fix the dataset or the settings"
        ) from None
