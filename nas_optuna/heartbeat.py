"""A background thread that keeps the running trial's heartbeat fresh.

Optuna's own heartbeat works only for RDB storages and only inside study.optimize; this one
works on every storage: it writes {"t": unix time, "worker": name} to the system attr
``nas:heartbeat`` of the trial being evaluated, every ``interval`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time

import optuna

from nas_optuna._optuna_internals import set_trial_system_attr
from nas_optuna.queue import HEARTBEAT

log = logging.getLogger("nas_optuna.worker")


class Heartbeat:
    def __init__(self, study: optuna.Study, interval: float, worker: str) -> None:
        self.study = study
        self.interval = interval
        self.worker = worker
        self._trial_id: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nas-heartbeat", daemon=True)
        self._thread.start()

    def track(self, trial_id: int | None) -> None:
        """Beat for this trial from now on (None: beat for nothing)."""
        with self._lock:
            self._trial_id = trial_id

    def beat(self) -> None:
        with self._lock:
            trial_id = self._trial_id
            if trial_id is None:
                return
            try:
                set_trial_system_attr(
                    self.study, trial_id, HEARTBEAT, {"t": time.time(), "worker": self.worker}
                )
            except optuna.exceptions.UpdateFinishedTrialError:
                self._trial_id = None  # finished meanwhile (by us, or taken over as stale)
            except Exception as err:  # never let a storage hiccup kill the thread
                log.warning("heartbeat for trial id %s failed: %s", trial_id, err)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
