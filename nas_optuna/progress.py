"""Progress lines of a worker: one per finished trial, and a summary when it exits."""

from __future__ import annotations

import logging
import re
from collections import Counter

from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna.nb201 import cellstr_from_params
from nas_optuna.space import genotype_from_params

log = logging.getLogger("nas_optuna.worker")


def short_op(op: str) -> str:
    """sep_conv_5x5 -> sc5, avg_pool_3x3 -> ap3, identity -> i, conv_1x7_7x1 -> c1x7."""
    words = op.split("_")
    letters = "".join(w[0] for w in words if w[0].isalpha())
    size = next((w for w in words if w[0].isdigit()), "")
    a, _, b = size.partition("x")
    return letters + (a if a == b else size)


def short_genotype(params, space) -> str:
    """A compact genotype, e.g. 'N sc5@0+sc3@1 ... | R ...'; '-' when params are incomplete."""
    if space is None:
        return "-"
    if all(name.startswith("edge_") for name in space):  # NAS-Bench-201's cell: its table's cell string
        try:
            return cellstr_from_params(params)
        except ValueError:
            return "-"
    try:
        genotype = genotype_from_params(params, space)
    except ValueError:
        return "-"
    cells = []
    for role, cell in genotype.cells().items():
        blocks = " ".join(
            f"{short_op(b.op_a)}@{b.in_a}{'+' if b.combine == 'add' else '&'}{short_op(b.op_b)}@{b.in_b}"
            for b in cell.blocks
        )
        cells.append(f"{role[0].upper()} {blocks}")
    return re.sub(r"\s+", " ", " | ".join(cells))


class Progress:
    def __init__(self, worker: str, space=None) -> None:
        self.worker = worker
        self.space = space
        self.counts: Counter[str] = Counter()
        self.failures_in_row = 0

    def trial_done(self, trial, state: str, value, seconds: float, reason: str | None = None) -> None:
        self.counts[state] += 1
        shown = f"{value:.4f}" if state == "COMPLETE" else (reason or state.lower())
        genotype = short_genotype(trial.params, self.space)
        log.info("trial %d %s %s %.1fs [%s] %s", trial.number, state, shown, seconds, self.worker, genotype)

    def summary(self, reason: str, trials, n_trials: int) -> None:
        results = queue.result_trials(trials)
        complete = [t for t in results if t.state == TrialState.COMPLETE]
        best = max(complete, key=lambda t: t.value, default=None)
        mine = ", ".join(f"{n} {state.lower()}" for state, n in sorted(self.counts.items())) or "no trials"
        best_text = f"best {best.value:.4f} (trial {best.number})" if best else "no complete trial yet"
        log.info(
            "worker %s exits (%s): ran %s; study: %d/%d budget used, %d complete, %s",
            self.worker,
            reason,
            mine,
            queue.budget_used(trials),
            n_trials,
            len(complete),
            best_text,
        )
