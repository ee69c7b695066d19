"""The study as a work queue: the shared trial budget and recovery of trials of dead workers.

Budget rule (no overshoot, no locks beyond Optuna's own): trial numbers are unique and
ordered in every storage, and a trial numbered k exists only once all trials below k do. A
worker that asked trial k runs it only if fewer than N budget-using trials are numbered below
k. Budget-using means: neither a retry (a retry replaces the trial it retries, which already
holds the slot) nor marked over budget. So exactly the first N budget-using trials by number
run, whatever the interleaving; an error in the count can only be conservative (a trial marked
over budget too eagerly), and workers top the budget up before they exit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas_optuna._optuna_internals import (
    claim_and_fail,
    set_trial_system_attr,
    set_trial_user_attr,
    trial_id_of,
)

log = logging.getLogger("nas_optuna.worker")

RETRY_OF = "retry_of"  # user attr of a retry: number of the trial it replaces
RETRY_COUNT = "retry_count"  # user attr of a retry: 1 for the first retry of a lineage
OVER_BUDGET = "nas:over_budget"  # system attr: asked after the budget was spent, never run
RETRIED = "nas:retried"  # system attr of a failed trial that was re-queued
HEARTBEAT = "nas:heartbeat"  # system attr of a running trial: {"t": unix time, "worker": name}
FAIL_REASON = "fail_reason"  # user attr of a failed trial
LOST = "worker lost"  # how the fail_reason of a trial failed by recover_stale begins


def is_retry(trial: FrozenTrial | optuna.Trial) -> bool:
    return RETRY_OF in trial.user_attrs


def uses_budget(trial: FrozenTrial) -> bool:
    return not is_retry(trial) and not trial.system_attrs.get(OVER_BUDGET, False)


def budget_used(trials: Iterable[FrozenTrial], below: int | None = None) -> int:
    """Budget-using trials (numbered below ``below`` when given)."""
    return sum(1 for t in trials if (below is None or t.number < below) and uses_budget(t))


def device_seconds_used(trials: Iterable[FrozenTrial]) -> float:
    return sum(float(t.user_attrs.get("train_seconds", 0.0)) for t in trials if t.state.is_finished())


def result_trials(trials: Iterable[FrozenTrial]) -> list[FrozenTrial]:
    """Trials that are results: over-budget trials and re-queued originals left out."""
    return [
        t
        for t in trials
        if not t.system_attrs.get(OVER_BUDGET)
        and not (t.state == TrialState.FAIL and t.system_attrs.get(RETRIED))
    ]


def last_sign_of_life(trial: FrozenTrial) -> float:
    beat = trial.system_attrs.get(HEARTBEAT)
    if isinstance(beat, dict) and "t" in beat:
        return float(beat["t"])
    start = trial.datetime_start
    return start.timestamp() if start is not None else math.inf


def silence(trial: FrozenTrial, now: float, trusted_since: float | None = None) -> float:
    """Seconds the trial's worker has been silent, counted from ``trusted_since`` at the earliest.

    ``trusted_since``: from when the judging worker's own storage connection can be trusted.
    During an outage no worker can beat, so silence before the judge's link came back (plus
    the time every worker needs to reconnect) is no sign of death.
    """
    since = last_sign_of_life(trial)
    if trusted_since is not None:
        since = max(since, trusted_since)
    return now - since


def stale_trials(
    trials: Iterable[FrozenTrial],
    grace_seconds: float,
    now: float | None = None,
    trusted_since: float | None = None,
) -> list:
    now = time.time() if now is None else now
    return [
        t for t in trials if t.state == TrialState.RUNNING and silence(t, now, trusted_since) > grace_seconds
    ]


def was_recovered(trial: FrozenTrial) -> bool:
    """A FAIL trial that a live worker failed because its own worker looked dead."""
    return str(trial.user_attrs.get(FAIL_REASON, "")).startswith(LOST)


def mark_over_budget(study: optuna.Study, trial: optuna.Trial) -> None:
    set_trial_system_attr(study, trial_id_of(study, trial), OVER_BUDGET, True)
    trial.set_user_attr(FAIL_REASON, "over budget: asked after the study's trial budget was spent")
    study.tell(trial, state=TrialState.FAIL)


def will_retry(trial: FrozenTrial | optuna.Trial, max_retries: int) -> bool:
    return int(trial.user_attrs.get(RETRY_COUNT, 0)) < max_retries


def mark_for_retry(study: optuna.Study, trial, reason: str, max_retries: int) -> None:
    """Label a RUNNING trial before it is failed (finished trials accept no more attrs)."""
    set_trial_user_attr(study, trial_id_of(study, trial), FAIL_REASON, reason)
    if will_retry(trial, max_retries):
        set_trial_system_attr(study, trial_id_of(study, trial), RETRIED, True)


def requeue(study: optuna.Study, trial: FrozenTrial, max_retries: int) -> bool:
    """Enqueue a retry of a trial that is now FAIL, with the same parameters; False if exhausted.

    The retry's user attrs retry_of/retry_count are written with its creation (one storage
    call), so the budget count never sees a retry without its link.
    """
    if not will_retry(trial, max_retries):
        log.warning("trial %d: retries exhausted (%d), not re-queued", trial.number, max_retries)
        return False
    count = int(trial.user_attrs.get(RETRY_COUNT, 0)) + 1
    study.enqueue_trial(trial.params, user_attrs={RETRY_OF: trial.number, RETRY_COUNT: count})
    log.info("trial %d re-queued (retry %d of %d)", trial.number, count, max_retries)
    return True


def recover_stale(
    study: optuna.Study,
    trials: Iterable[FrozenTrial],
    grace_seconds: float,
    max_retries: int,
    trusted_since: float | None = None,
):
    """Fail and re-queue RUNNING trials whose worker stopped beating; the numbers recovered.

    Several live workers may see the same stale trial; the storage lets exactly one of them
    move it to FAIL, and only that one enqueues the retry. ``trusted_since``: see ``silence``.
    """
    recovered = []
    for trial in stale_trials(trials, grace_seconds, trusted_since=trusted_since):
        silent = time.time() - last_sign_of_life(trial)
        reason = f"{LOST}: no heartbeat for {silent:.0f}s (grace {grace_seconds:g}s)"
        try:
            mark_for_retry(study, trial, reason, max_retries)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # finished meanwhile
        if claim_and_fail(study, trial_id_of(study, trial)):
            log.warning("trial %d: %s", trial.number, reason)
            requeue(study, trial, max_retries)
            recovered.append(trial.number)
    return recovered
