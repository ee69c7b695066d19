"""One worker process: ask a trial, evaluate it, tell the result, until the budget is spent."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna._optuna_internals import batched_writes, last_connection_error, trial_id_of
from nas_optuna.heartbeat import Heartbeat
from nas_optuna.multi_objective import finite
from nas_optuna.progress import Progress
from nas_optuna.space import suggest_params
from nas_optuna.storage_retry import RECONNECT_SECONDS, StorageUnavailable

log = logging.getLogger("nas_optuna.worker")


def told(value) -> float | list[float]:
    """What study.tell takes: one float, or a list of them for a multi-objective study."""
    return [float(v) for v in value] if isinstance(value, tuple | list) else float(value)


class WorkerStopped(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT while a trial runs (BaseException, so that an
    objective's `except Exception` cannot swallow it)."""


@dataclass(frozen=True)
class QueueSettings:
    n_trials: int
    device_seconds: float | None = None
    heartbeat_seconds: float = 10.0
    grace_seconds: float = 60.0  # a RUNNING trial silent this long belongs to a dead worker
    max_retries: int = 2
    max_consecutive_failures: int = 5
    poll_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.n_trials < 1:
            raise ValueError(f"--n-trials must be >= 1, got {self.n_trials}")
        if not 0 < self.heartbeat_seconds < self.grace_seconds:
            raise ValueError(
                f"heartbeat interval ({self.heartbeat_seconds}s) must be positive and shorter than the "
                f"grace period ({self.grace_seconds}s)"
            )


class Worker:
    def __init__(self, study: optuna.Study, objective, settings: QueueSettings, name: str, space=None):
        self.study = study
        self.objective = objective
        self.settings = settings
        self.name = name
        self.space = dict(space or {})
        self.progress = Progress(name, space)
        self._stop = threading.Event()
        self._in_trial = False
        self.exit_code = 0
        self._near_end = False
        self._next_scan = 0.0
        self.reason = "budget spent"

    # -- signals -------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if self._stop.is_set():
            return  # Ctrl-C reaches a child twice (terminal and parent): act once
        self.request_stop(f"stopped by {signal.Signals(signum).name}")
        if self._in_trial:
            raise WorkerStopped()

    def request_stop(self, reason: str) -> None:
        self.reason = reason
        self._stop.set()

    # -- the loop ------------------------------------------------------------------------
    def _budget_spent(self, trials) -> bool:
        s = self.settings
        if queue.budget_used(trials) >= s.n_trials:
            return True
        return s.device_seconds is not None and queue.device_seconds_used(trials) >= s.device_seconds

    def run(self) -> int:
        """The exit code; StorageUnavailable when the storage stayed away past its retry window."""
        heartbeat = Heartbeat(self.study, self.settings.heartbeat_seconds, self.name)
        storage_lost = False
        try:
            while not self._stop.is_set():
                if not self._step(heartbeat):
                    break
        except StorageUnavailable as err:
            storage_lost = True
            self.exit_code = 3
            self.reason = str(err)
            raise
        finally:
            heartbeat.close()
            trials = None
            if not storage_lost:
                try:
                    trials = self.study.get_trials(deepcopy=False)
                except StorageUnavailable as err:
                    self.reason = f"{self.reason}; then {err}"
            self.progress.summary(self.reason, trials, self.settings.n_trials)
        return self.exit_code

    def _trusted_since(self) -> float | None:
        """Silence before this is not held against a trial: see queue.silence."""
        last_error = last_connection_error(self.study)
        return None if last_error is None else last_error + RECONNECT_SECONDS

    def _step(self, heartbeat: Heartbeat) -> bool:
        """One ask/evaluate/tell round (or one wait); False when this worker should exit."""
        s = self.settings
        # The full scan (stale trials, budget spent?) costs a read of all unfinished trials:
        # do it once per poll period, and every round near the end of the budget.
        if self._near_end or time.monotonic() >= self._next_scan:
            self._next_scan = time.monotonic() + s.poll_seconds
            trials = self.study.get_trials(deepcopy=False)
            trusted_since = self._trusted_since()
            if queue.recover_stale(self.study, trials, s.grace_seconds, s.max_retries, trusted_since):
                trials = self.study.get_trials(deepcopy=False)
            waiting = any(t.state == TrialState.WAITING for t in trials)
            if self._budget_spent(trials) and not waiting:
                if not any(t.state == TrialState.RUNNING for t in trials):
                    return False
                # Others still run: stay, to re-queue their trials should they die.
                self._stop.wait(s.poll_seconds)
                return True
        trial = self.study.ask()
        # At most trial.number trials below it use the budget, so below N no count is needed.
        self._near_end = trial.number + 1 >= s.n_trials
        if self._near_end and not queue.is_retry(trial):
            below = queue.budget_used(self.study.get_trials(deepcopy=False), below=trial.number)
            if below >= s.n_trials:
                queue.mark_over_budget(self.study, trial)
                return True  # back to the top: wait for running trials or top up, then exit
        self._evaluate(trial, heartbeat)
        return self.exit_code == 0

    def _evaluate(self, trial: optuna.Trial, heartbeat: Heartbeat) -> None:
        start = time.perf_counter()
        heartbeat.track(trial_id_of(self.study, trial))
        state, value, reason = TrialState.FAIL, None, None
        try:
            with batched_writes(self.study):  # the whole architecture in one storage write
                trial.set_user_attr("worker", self.name)
                suggest_params(trial, self.space)  # a progressive space: the size, then its blocks
            self._in_trial = True
            if self._stop.is_set():  # the signal came while asking
                raise WorkerStopped()
            try:
                # User attrs the objective sets are stored in one write when it returns.
                with batched_writes(self.study):
                    value = self.objective(trial)
            finally:
                self._in_trial = False
            if not finite(value):
                reason = f"objective returned {value!r}"
            else:
                state = TrialState.COMPLETE
        except WorkerStopped:
            heartbeat.track(None)
            self._requeue_own(trial, self.reason)
            self.progress.trial_done(trial, "REQUEUED", None, time.perf_counter() - start)
            return
        except optuna.exceptions.UpdateFinishedTrialError:
            heartbeat.track(None)
            log.warning("trial %d was taken over by another worker (heartbeat too late?)", trial.number)
            return
        except StorageUnavailable:
            raise  # not this trial's fault: the worker cannot go on without its storage
        except optuna.TrialPruned as err:  # the pruner's decision, not a failure
            state, reason = TrialState.PRUNED, f"pruned: {err}".strip()
        except Exception as err:  # a bad trial must not kill the worker
            reason = f"{type(err).__name__}: {err}".strip()[:500]
        heartbeat.track(None)
        self._finish(trial, state, value, reason, time.perf_counter() - start)

    def _finish(self, trial, state, value, reason, seconds) -> None:
        """Tell the result. Storage calls retry through an outage (--storage-retry-seconds), so
        a finished result waits for the storage to come back; it is never dropped as taken over."""
        try:
            if state == TrialState.COMPLETE:
                self.study.tell(trial, told(value))
            elif state == TrialState.PRUNED:  # Optuna keeps its last reported value
                self.study.tell(trial, state=TrialState.PRUNED)
            else:
                if "fail_reason" not in trial.user_attrs:
                    trial.set_user_attr("fail_reason", reason)
                self.study.tell(trial, state=TrialState.FAIL)
        except StorageUnavailable as err:
            shown = f"value {value!r}" if state == TrialState.COMPLETE else state.name
            log.error("trial %d finished (%s) but could not be stored: %s", trial.number, shown, err)
            raise
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as err:
            # ValueError: Optuna's "Cannot tell a FAIL trial". Either another worker finished
            # it, or our own write got through and only its reply was lost in an outage.
            if not self._stored_as(trial, state, value):
                log.warning("trial %d could not be told (%s); another worker took it over", trial.number, err)
                return
        if state == TrialState.FAIL:
            self.progress.failures_in_row += 1
        else:
            self.progress.failures_in_row = 0
        self.progress.trial_done(trial, state.name, value, seconds, reason)
        limit = self.settings.max_consecutive_failures
        if self.progress.failures_in_row >= limit:
            self.exit_code = 1
            self.request_stop(
                f"{limit} trials failed in a row (last: {reason}); stopping, fix the cause and restart"
            )

    def _stored_as(self, trial, state, value) -> bool:
        frozen = self.study.get_trials(deepcopy=False)[trial.number]
        if frozen.state != state:
            return False
        if state == TrialState.COMPLETE:
            told_values = told(value)
            return frozen.values == (told_values if isinstance(told_values, list) else [told_values])
        return state != TrialState.FAIL or not queue.was_recovered(frozen)

    def _requeue_own(self, trial: optuna.Trial, reason: str) -> None:
        """Stopping mid-trial: fail the trial and put it back in the queue, never leave it RUNNING."""
        try:
            queue.mark_for_retry(self.study, trial, f"worker {reason}", self.settings.max_retries)
            self.study.tell(trial, state=TrialState.FAIL)
        except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
            return  # someone else already failed and re-queued it
        frozen = self.study.get_trials(deepcopy=False)[trial.number]
        queue.requeue(self.study, frozen, self.settings.max_retries)
