"""A study's storage and ids, trial writes from other threads and processes, write-once study attrs."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.trial import TrialState

from nas_optuna._optuna_internals.checks import (
    CACHED_RDB_ATTRS,
    fall_back,
    innermost,
    is_cached_rdb,
    private_ok,
)

# -- the study's storage and ids ---------------------------------------------------------------


def cached_rdb_storage(storage: RDBStorage) -> BaseStorage:
    """The caching layer Optuna uses for RDB URLs (finished trials are read once)."""
    return optuna.storages.get_storage(storage)


def storage_of(study: optuna.Study) -> BaseStorage:
    storage = getattr(study, "_storage", None)
    if isinstance(storage, BaseStorage):
        return storage
    fall_back("reading a study's storage", ["Study._storage"], "its attributes are searched")
    return next(v for v in vars(study).values() if isinstance(v, BaseStorage))


def study_id_of(study: optuna.Study) -> int:
    study_id = getattr(study, "_study_id", None)
    if isinstance(study_id, int):
        return study_id
    fall_back("reading a study's id", ["Study._study_id"], "one lookup by name")
    return storage_of(study).get_study_id_from_name(study.study_name)


def trial_id_of(study: optuna.Study, trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    trial_id = getattr(trial, "_trial_id", None)
    if isinstance(trial_id, int):
        return trial_id
    fall_back("reading a trial's id", ["Trial._trial_id"], "one lookup by number")
    return storage_of(study).get_trial_id_from_study_id_trial_number(study_id_of(study), trial.number)


def last_connection_error(study: optuna.Study) -> float | None:
    """time.time() of the latest connection error of the study's storage (None: none so far,
    or a storage that does not track them, e.g. a local journal file)."""
    return getattr(storage_of(study), "last_error_time", None)


def set_trial_system_attr(study: optuna.Study, trial_id: int, key: str, value: Any) -> None:
    storage_of(study).set_trial_system_attr(trial_id, key, value)


def claim_and_fail(study: optuna.Study, trial_id: int) -> bool:
    """Move a RUNNING trial to FAIL; False when another process finished it first.

    Every storage checks the state under a lock (RDB: SELECT ... FOR UPDATE; journal: log
    replay order), so exactly one of several workers that race here gets True.
    """
    try:
        return bool(storage_of(study).set_trial_state_values(trial_id, TrialState.FAIL))
    except UpdateFinishedTrialError:
        return False


def set_trial_user_attr(study: optuna.Study, trial_id: int, key: str, value: Any) -> None:
    storage_of(study).set_trial_user_attr(trial_id, key, value)


# -- first writer wins: a study user attr written only if absent -------------------------------


def set_study_user_attr_once(study: optuna.Study, key: str, value: Any) -> Any:
    """Write ``key`` unless some process already did; the value the study holds afterwards.

    Optuna's set_study_user_attr overwrites (last writer wins); checking first and writing
    after leaves a window in which two processes both write. Closed per storage: RDB inserts
    the row, and the (study_id, key) unique constraint refuses a second insert; a journal
    checks and appends under a lock (a lock file next to a journal file, a Redis lock);
    other storages (the gRPC proxy), and any whose private names are missing, check and
    write, which leaves that window open.
    """
    wrapper = storage_of(study)
    inner = innermost(wrapper)
    study_id = study_id_of(study)
    retry = getattr(wrapper, "call_with_retry", lambda fn, *a: fn(*a))
    feature, cost = "the write-once study attr", "check, then write"
    if isinstance(inner, JournalStorage):
        locked = _journal_lock_ok(inner)
        if locked:
            retry(_append_journal_study_attr, inner, study_id, key, value)
    else:
        locked = is_cached_rdb(inner) and private_ok("rdb", inner, CACHED_RDB_ATTRS, feature, cost)
        if locked:
            retry(_insert_rdb_study_attr, inner._backend, study_id, key, value)
    if not locked and key not in wrapper.get_study_user_attrs(study_id):
        wrapper.set_study_user_attr(study_id, key, value)
    return wrapper.get_study_user_attrs(study_id)[key]


def _insert_rdb_study_attr(rdb: RDBStorage, study_id: int, key: str, value: Any) -> None:
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    # ignore_integrity_error: a concurrent insert of the same key loses, silently, as wanted.
    with _create_scoped_session(rdb.scoped_session, True) as session:
        query = session.query(models.StudyUserAttributeModel).filter_by(study_id=study_id, key=key)
        if query.one_or_none() is None:
            row = models.StudyUserAttributeModel(study_id=study_id, key=key, value_json=json.dumps(value))
            session.add(row)


JOURNAL_FILE_LOCK_ATTRS = ["_file_path"]  # where the lock file goes
JOURNAL_REDIS_LOCK_ATTRS = ["_redis", "_prefix"]  # the client that takes the lock, the key prefix


def _journal_lock_ok(storage: JournalStorage) -> bool:
    from optuna.storages.journal import JournalFileBackend, JournalRedisBackend

    backend = getattr(storage, "_backend", None)
    needs = {JournalFileBackend: JOURNAL_FILE_LOCK_ATTRS, JournalRedisBackend: JOURNAL_REDIS_LOCK_ATTRS}
    missing = ["JournalStorage._backend"] if backend is None else []
    missing += [
        f"{type(backend).__name__}.{a}" for a in needs.get(type(backend), []) if not hasattr(backend, a)
    ]
    if missing:
        fall_back("the write-once study attr", missing, "check, then write")
    return not missing


def _append_journal_study_attr(storage: JournalStorage, study_id: int, key: str, value: Any) -> None:
    with _journal_lock(storage, study_id):
        if key not in storage.get_study_user_attrs(study_id):  # replays every write before ours
            storage.set_study_user_attr(study_id, key, value)


@contextmanager
def _journal_lock(storage: JournalStorage, study_id: int):
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalRedisBackend

    backend = storage._backend
    if isinstance(backend, JournalFileBackend):
        lock = JournalFileSymlinkLock(f"{backend._file_path}.nas-settings")
        lock.acquire()
        try:
            yield
        finally:
            lock.release()
    elif isinstance(backend, JournalRedisBackend):
        with backend._redis.lock(f"{backend._prefix}:nas-settings-lock:{study_id}", timeout=60):
            yield
    else:
        yield
