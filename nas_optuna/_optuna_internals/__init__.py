"""The one module of nas_optuna that touches private Optuna APIs.

Optuna's public API has no way to write a system attribute of a running trial from another
thread (the heartbeat), to fail a trial that another process owns (dead-worker recovery), to
write a study attribute only if no one else has (the study's settings record), or to store a
trial's fifty parameters in one write. Keeping these here means an Optuna upgrade breaks one file.

Every private name is checked against the installed Optuna before it is used: the module-level
ones at import (RDB ones when the first RDB storage is seen, so that startup needs no SQLAlchemy),
the instance attributes on the first object. A missing name switches that feature to the public
API, slower but correct, with one warning per feature; no trial fails for it.
"""

from nas_optuna._optuna_internals.batched import batched_writes
from nas_optuna._optuna_internals.checks import OptunaInternalsWarning
from nas_optuna._optuna_internals.journal_file import unsynced_journal_file_backend
from nas_optuna._optuna_internals.study_access import (
    cached_rdb_storage,
    claim_and_fail,
    last_connection_error,
    set_study_user_attr_once,
    set_trial_system_attr,
    set_trial_user_attr,
    storage_of,
    study_id_of,
    trial_id_of,
)

__all__ = [
    "OptunaInternalsWarning",
    "batched_writes",
    "cached_rdb_storage",
    "claim_and_fail",
    "last_connection_error",
    "set_study_user_attr_once",
    "set_trial_system_attr",
    "set_trial_user_attr",
    "storage_of",
    "study_id_of",
    "trial_id_of",
    "unsynced_journal_file_backend",
]
