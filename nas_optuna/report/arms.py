"""Which studies are search arms, and whether their comparison budget is held back by one.

A search arm is a study a worker searched with one sampler and seed: named
NAME-<sampler>-s<seed> or carrying a "sampler" user attr. Rerank studies (NAME-rerank, with
"rerank_settings") and other studies in the same storage are not compared as samplers.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

ARM_NAME = re.compile(r"^.+-(?P<sampler>[^-]+)-s(?P<seed>\d+)$")
# Compared at fewer than this share of the trials most studies reached, the report says so.
HELD_BACK_SHARE = 0.5


def sampler_from_name(study_name: str) -> str | None:
    match = ARM_NAME.match(study_name)
    return match.group("sampler") if match else None


def not_an_arm(study_name: str, user_attrs: dict[str, Any]) -> str | None:
    """Why the study is no search arm (a short phrase), or None when it is one."""
    if "rerank_settings" in user_attrs or study_name.endswith("-rerank"):
        return "a rerank study (nas-optuna rerank), not a search arm"
    if "sampler" not in user_attrs and sampler_from_name(study_name) is None:
        return "neither named NAME-<sampler>-s<seed> nor carrying a 'sampler' user attr"
    return None


def held_back_note(completed: dict[str, int], n_common: int) -> str | None:
    """One line when the common budget is far below what most started studies reached,
    naming the studies that hold it back; None otherwise."""
    started = {name: n for name, n in completed.items() if n > 0}
    if len(started) < 2:
        return None
    typical = statistics.median(started.values())
    if n_common >= HELD_BACK_SHARE * typical:
        return None
    behind = sorted(name for name, n in started.items() if n < HELD_BACK_SHARE * typical)
    return (
        f"samplers are compared at only {n_common} trials per seed, held back by {', '.join(behind)} "
        f"(most studies have {typical:g} or more); wait for them or leave them out with --studies"
    )
