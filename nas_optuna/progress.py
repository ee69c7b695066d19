"""Progress lines of a worker: one per finished trial, and a summary when it exits."""

from __future__ import annotations

import logging
import re
from collections import Counter

from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna.genotype import short_cell
from nas_optuna.nb201 import cellstr_from_params
from nas_optuna.space import genotype_from_params

log = logging.getLogger("nas_optuna.worker")


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
    cells = [f"{role[0].upper()} {short_cell(cell)}" for role, cell in genotype.cells().items()]
    return re.sub(r"\s+", " ", " | ".join(cells))


def _shown(value) -> str:
    if isinstance(value, tuple | list):
        return "(" + ", ".join(f"{v:.4g}" for v in value) + ")"
    return f"{value:.4f}"


def _pareto_numbers(trials) -> list[int]:
    """Trials no other one dominates (first objective maximised, the others minimised).

    In lexicographic order a point can be dominated only by one before it, and then by one on
    the front so far: O(trials x front), not O(trials^2) (a study may hold 20,000 trials)."""
    points = sorted(((-t.values[0], *t.values[1:]), t.number) for t in trials)
    front: list[tuple] = []
    numbers = []
    for point, number in points:
        # An equal point does not dominate (Optuna's best_trials keeps both).
        if not any(f != point and all(x <= y for x, y in zip(f, point, strict=True)) for f in front):
            front.append(point)
            numbers.append(number)
    return numbers


class Progress:
    def __init__(self, worker: str, space=None) -> None:
        self.worker = worker
        self.space = space
        self.counts: Counter[str] = Counter()
        self.failures_in_row = 0

    def trial_done(self, trial, state: str, value, seconds: float, reason: str | None = None) -> None:
        self.counts[state] += 1
        shown = _shown(value) if state == "COMPLETE" else (reason or state.lower())
        genotype = short_genotype(trial.params, self.space)
        log.info("trial %d %s %s %.1fs [%s] %s", trial.number, state, shown, seconds, self.worker, genotype)

    def summary(self, reason: str, trials, n_trials: int) -> None:
        """The worker's exit line; ``trials`` None when the study could not be read."""
        mine = ", ".join(f"{n} {state.lower()}" for state, n in sorted(self.counts.items())) or "no trials"
        if trials is None:
            log.info("worker %s exits (%s): ran %s; study not readable", self.worker, reason, mine)
            return
        results = queue.result_trials(trials)
        complete = [t for t in results if t.state == TrialState.COMPLETE]
        if complete and len(complete[0].values) > 1:  # several objectives: no single best
            best_text = f"{len(_pareto_numbers(complete))} trials on the Pareto front"
        else:
            best = max(complete, key=lambda t: t.value, default=None)
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
