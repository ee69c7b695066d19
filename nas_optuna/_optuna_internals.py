"""The one module of nas_optuna that touches private Optuna APIs.

Optuna's public API has no way to write a system attribute of a running trial from another
thread (the heartbeat), to fail a trial that another process owns (dead-worker recovery) or
to get the caching wrapper that `optuna.load_study(storage=url)` puts around an RDB storage.
Keeping these here means an Optuna upgrade breaks one file.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, RDBStorage
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
