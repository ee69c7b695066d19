"""Storage outages seen from one worker: results wait for the storage, silence during an outage
is no sign of death, and the exit line names the connection error."""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from nas_optuna import queue
from nas_optuna.storage_retry import RECONNECT_SECONDS, RetryingStorage, StorageUnavailable, retry_call
from nas_optuna.study_config import validate
from nas_optuna.worker_loop import QueueSettings, Worker


class FlakyJournal(JournalStorage):
    """A journal whose tells fail with a connection error: the first ``fail_first`` ones, or all
    (``forever``); ``lose_reply``: the first tell is stored, then its reply is lost."""

    def __init__(self, path, fail_first=0, forever=False, lose_reply=False):
        super().__init__(JournalFileBackend(str(path)))
        self.fail_first, self.forever, self.lose_reply = fail_first, forever, lose_reply

    def set_trial_state_values(self, trial_id, state, values=None):
        if self.lose_reply:
            self.lose_reply = False
            super().set_trial_state_values(trial_id, state, values)
            raise ConnectionError("connection reset while reading the reply")
        if self.forever or self.fail_first > 0:
            self.fail_first -= 1
            raise ConnectionError("connection refused (the database is down)")
        return super().set_trial_state_values(trial_id, state, values)


def _worker(storage, n_trials=3, grace_seconds=60.0):
    space = validate({"space": {"n_blocks": 1}, "objective": {"name": "synthetic"}}).build_space()
    study = optuna.create_study(study_name="outage", storage=storage, direction="maximize")
    settings = QueueSettings(n_trials=n_trials, heartbeat_seconds=1.0, grace_seconds=grace_seconds)
    return study, Worker(study, lambda trial: 0.5, settings, "test:1", space)


def test_a_result_finished_during_an_outage_is_told_when_the_storage_is_back(tmp_path, caplog):
    storage = RetryingStorage(FlakyJournal(tmp_path / "s.log", fail_first=3), 30.0, "storage test")
    study, worker = _worker(storage)
    with caplog.at_level("INFO"):
        assert worker.run() == 0
    assert [t.state for t in study.get_trials(deepcopy=False)] == [TrialState.COMPLETE] * 3
    assert "retrying" in caplog.text and "took it over" not in caplog.text
    assert storage.last_error_time is not None


def test_a_tell_whose_reply_was_lost_counts_as_told(tmp_path, caplog):
    storage = RetryingStorage(FlakyJournal(tmp_path / "s.log", lose_reply=True), 30.0, "storage test")
    study, worker = _worker(storage)
    with caplog.at_level("INFO"):
        assert worker.run() == 0
    assert [t.state for t in study.get_trials(deepcopy=False)] == [TrialState.COMPLETE] * 3
    assert worker.progress.counts["COMPLETE"] == 3 and "took it over" not in caplog.text


def test_storage_gone_for_good_names_the_connection_error_not_the_budget(tmp_path, caplog):
    storage = RetryingStorage(FlakyJournal(tmp_path / "s.log", forever=True), 0.5, "storage test")
    study, worker = _worker(storage)
    with caplog.at_level("INFO"), pytest.raises(StorageUnavailable) as info:
        worker.run()
    cause = "cannot reach storage test: connection refused (the database is down)"
    assert str(info.value) == cause
    assert f"trial 0 finished (value 0.5) but could not be stored: {cause}" in caplog.text
    assert f"exits ({cause})" in caplog.text and "budget spent" not in caplog.text
    assert worker.exit_code == 3


def test_the_error_shown_is_the_innermost_cause():
    def commit():
        try:
            raise ConnectionError("could not connect to server: Connection refused")
        except ConnectionError as err:
            message = "An exception is raised during the commit. This typically happens due to ..."
            raise optuna.exceptions.StorageInternalError(message) from err

    with pytest.raises(StorageUnavailable) as info:
        retry_call(commit, retry_seconds=0.1, what="storage db")
    assert str(info.value) == "cannot reach storage db: could not connect to server: Connection refused"


def test_silence_before_the_judges_own_reconnect_is_not_held_against_a_trial(tmp_path):
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(tmp_path / "h.log"))))
    study.ask()
    (trial,) = study.get_trials(deepcopy=False)
    beat = trial.datetime_start.timestamp()
    now = beat + 100  # silent for 100 s, grace 10 s
    assert queue.stale_trials([trial], 10, now=now) == [trial]
    assert queue.stale_trials([trial], 10, now=now, trusted_since=now - 5) == []  # link back 5 s ago
    assert queue.stale_trials([trial], 10, now=now, trusted_since=now - 11) == [trial]


def test_a_worker_that_just_reconnected_recovers_no_trial_until_everyone_could_have(tmp_path):
    storage = RetryingStorage(JournalStorage(JournalFileBackend(str(tmp_path / "r.log"))), 5.0, "s")
    study, worker = _worker(storage, grace_seconds=2.0)
    study.ask()  # another worker's trial, silent since it started
    time.sleep(2.1)
    trials = study.get_trials(deepcopy=False)
    storage.last_error_time = time.time()  # this worker's link just came back
    assert queue.recover_stale(study, trials, 2.0, 2, worker._trusted_since()) == []
    storage.last_error_time = time.time() - RECONNECT_SECONDS - 2.1  # long connected since
    assert queue.recover_stale(study, trials, 2.0, 2, worker._trusted_since()) == [0]
