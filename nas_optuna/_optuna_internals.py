"""The one module of nas_optuna that touches private Optuna APIs.

Optuna's public API has no way to write a system attribute of a running trial from another
thread (the heartbeat), to fail a trial that another process owns (dead-worker recovery) or
to get the caching wrapper that `optuna.load_study(storage=url)` puts around an RDB storage.
Keeping these here means an Optuna upgrade breaks one file.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.trial import TrialState


def cached_rdb_storage(storage: RDBStorage) -> BaseStorage:
    """The caching layer Optuna uses for RDB URLs (finished trials are read once)."""
    return optuna.storages.get_storage(storage)


def storage_of(study: optuna.Study) -> BaseStorage:
    return study._storage


def trial_id_of(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    return trial._trial_id


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


# -- one storage write for a whole architecture ------------------------------------------------
# Each suggest_* is one storage write (a journal line with fsync, or an RDB transaction); 50
# decisions made trials cost 50 writes. The worker samples all decisions up front inside
# `batched_writes`, which collects the parameter and user-attr writes of that trial and stores
# them in one journal append or one database transaction.


def _innermost(storage: BaseStorage) -> BaseStorage:
    return getattr(storage, "inner", storage)  # nas_optuna.storage_url.RetryingStorage


def _flush_journal(storage: JournalStorage, params: list, attrs: list) -> None:
    from optuna.distributions import distribution_to_json
    from optuna.storages.journal._storage import JournalOperation

    with storage._thread_lock:
        worker_id = storage._replay_result.worker_id
        logs = [
            {
                "op_code": JournalOperation.SET_TRIAL_PARAM,
                "worker_id": worker_id,
                "trial_id": trial_id,
                "param_name": name,
                "param_value_internal": value,
                "distribution": distribution_to_json(dist),
            }
            for trial_id, name, value, dist in params
        ] + [
            {
                "op_code": JournalOperation.SET_TRIAL_USER_ATTR,
                "worker_id": worker_id,
                "trial_id": trial_id,
                "user_attr": {key: value},
            }
            for trial_id, key, value in attrs
        ]
        storage._backend.append_logs(logs)
        storage._sync_with_backend()


def _flush_cached_rdb(storage, params: list, attrs: list) -> None:
    from optuna.distributions import check_distribution_compatibility, distribution_to_json
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    rdb = storage._backend
    with storage._lock, _create_scoped_session(rdb.scoped_session, True) as session:
        for trial_id in {p[0] for p in params} | {a[0] for a in attrs}:  # refuse finished trials
            trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
            rdb.check_trial_is_updatable(trial_id, trial.state)
        rows = []
        for trial_id, name, value, dist in params:
            study_id, _ = storage._trial_id_to_study_id_and_number[trial_id]
            known = storage._studies[study_id].param_distribution
            if name in known:
                check_distribution_compatibility(known[name], dist)
            known.setdefault(name, dist)
            rows.append(
                models.TrialParamModel(
                    trial_id=trial_id,
                    param_name=name,
                    param_value=value,
                    distribution_json=distribution_to_json(dist),
                )
            )
        session.add_all(rows)  # one multi-row INSERT instead of a query and an insert per param
        latest = {(trial_id, key): value for trial_id, key, value in attrs}
        for trial_id in {trial_id for trial_id, _ in latest}:
            existing = {
                a.key: a
                for a in session.query(models.TrialUserAttributeModel).filter_by(trial_id=trial_id).all()
            }
            for (tid, key), value in latest.items():
                if tid != trial_id:
                    continue
                if key in existing:
                    existing[key].value_json = json.dumps(value)
                else:
                    session.add(
                        models.TrialUserAttributeModel(trial_id=tid, key=key, value_json=json.dumps(value))
                    )


def _flusher(storage: BaseStorage):
    from optuna.storages._cached_storage import _CachedStorage

    inner = _innermost(storage)
    if isinstance(inner, JournalStorage):
        return lambda params, attrs: _flush_journal(inner, params, attrs)
    if isinstance(inner, _CachedStorage):
        return lambda params, attrs: _flush_cached_rdb(inner, params, attrs)
    return None  # e.g. the gRPC proxy: keep one write per call


@contextmanager
def batched_writes(study: optuna.Study):
    """Collect set_trial_param/set_trial_user_attr calls made through ``study`` and store them
    in one write when the block ends, also when it raises (a failing objective's fail_reason
    must reach the storage). The Trial object keeps its own copy, so reads inside see them."""
    storage = storage_of(study)
    flush = _flusher(storage)
    if flush is None:
        yield
        return
    params: list = []
    attrs: list = []
    storage.set_trial_param = lambda trial_id, name, value, dist: params.append((trial_id, name, value, dist))
    storage.set_trial_user_attr = lambda trial_id, key, value: attrs.append((trial_id, key, value))
    try:
        yield
    finally:
        del storage.set_trial_param, storage.set_trial_user_attr  # back to the class methods
        if params or attrs:
            call_with_retry = getattr(storage, "call_with_retry", None)  # RetryingStorage
            if call_with_retry is not None:
                call_with_retry(flush, params, attrs)
            else:
                flush(params, attrs)


def unsynced_journal_file_backend(path: str):
    """A journal file backend that appends without fsync: each line reaches the OS at once (other
    processes read it, a killed process loses nothing), but a machine crash can lose the last
    lines. For scratch runs of objectives that take microseconds (tables, synthetic rewards),
    where one fsync per write (milliseconds on a VM disk) would be most of the run's time."""
    from optuna.storages.journal import JournalFileBackend
    from optuna.storages.journal._file import get_lock_file

    class UnsyncedJournalFileBackend(JournalFileBackend):
        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            with get_lock_file(self._lock):  # the same lock and format as Optuna's own append
                text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
                with open(self._file_path, "ab") as f:
                    f.write(text.encode("utf-8"))

    return UnsyncedJournalFileBackend(path)
