"""One storage write for a whole architecture.

Each suggest_* is one storage write (a journal line with fsync, or an RDB transaction); a
50-decision architecture costs 50 writes. The worker samples all decisions up front inside
`batched_writes`, which collects the parameter and user-attr writes of that trial and stores
them in one journal append or one database transaction.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import optuna
from optuna.storages import BaseStorage, JournalStorage

from nas_optuna._optuna_internals.checks import (
    CACHED_RDB_ATTRS,
    JOURNAL_ATTRS,
    innermost,
    is_cached_rdb,
    private_ok,
)
from nas_optuna._optuna_internals.study_access import storage_of


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
    """One-write flush for this storage; None: keep one write per call (the gRPC proxy, or a
    storage whose private names the installed Optuna lacks)."""
    inner = innermost(storage)
    cost = "one write per call"
    if isinstance(inner, JournalStorage):
        ok = private_ok("journal", inner, JOURNAL_ATTRS, "batched journal writes", cost)
        return (lambda params, attrs: _flush_journal(inner, params, attrs)) if ok else None
    if is_cached_rdb(inner) and private_ok("rdb", inner, CACHED_RDB_ATTRS, "batched RDB writes", cost):
        return lambda params, attrs: _flush_cached_rdb(inner, params, attrs)
    return None


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
