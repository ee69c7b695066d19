"""Which private Optuna names the installed version has, and the one warning when one is missing."""

from __future__ import annotations

import importlib
import warnings
from functools import cache
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage


class OptunaInternalsWarning(UserWarning):
    """A private Optuna name nas_optuna uses is missing; a slower public path is taken."""


_warned: set[str] = set()


def fall_back(feature: str, missing: list[str], cost: str) -> None:
    if feature not in _warned:
        _warned.add(feature)
        warnings.warn(
            f"optuna {optuna.__version__} lacks {', '.join(missing)}: {feature} falls back to the "
            f"public API ({cost}); results stay correct. Pin the optuna version CI tests if this matters.",
            OptunaInternalsWarning,
            stacklevel=3,
        )


def _missing_names(paths: list[str]) -> list[str]:
    """Those of "module:attr.attr" paths that the installed Optuna does not have."""
    missing = []
    for path in paths:
        module_name, _, attrs = path.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for attr in attrs.split("."):
                obj = getattr(obj, attr)
        except (ImportError, AttributeError):
            missing.append(path)
    return missing


_JOURNAL_NAMES = [
    "optuna.storages.journal._storage:JournalOperation.SET_TRIAL_PARAM",
    "optuna.storages.journal._storage:JournalOperation.SET_TRIAL_USER_ATTR",
    "optuna.storages:JournalStorage._sync_with_backend",
]
_RDB_NAMES = [
    "optuna.storages._cached_storage:_CachedStorage",
    "optuna.storages._rdb.storage:_create_scoped_session",
    "optuna.storages._rdb.models:StudyUserAttributeModel",
    "optuna.storages._rdb.models:TrialModel.find_or_raise_by_id",
    "optuna.storages._rdb.models:TrialParamModel",
    "optuna.storages._rdb.models:TrialUserAttributeModel",
    "optuna.storages:RDBStorage.check_trial_is_updatable",
]
# Instance attributes, checked on the first object of each kind.
JOURNAL_ATTRS = ["_backend", "_thread_lock", "_replay_result"]
CACHED_RDB_ATTRS = ["_backend", "_lock", "_studies", "_trial_id_to_study_id_and_number"]


@cache
def _module_names_missing(kind: str) -> tuple[str, ...]:
    return tuple(_missing_names(_JOURNAL_NAMES if kind == "journal" else _RDB_NAMES))


_module_names_missing("journal")  # at import: these modules are loaded with optuna anyway


def private_ok(kind: str, storage: Any, attrs: list[str], feature: str, cost: str) -> bool:
    missing = list(_module_names_missing(kind)) + [
        f"{type(storage).__name__}.{a}" for a in attrs if not hasattr(storage, a)
    ]
    if missing:
        fall_back(feature, missing, cost)
    return not missing


def innermost(storage: BaseStorage) -> BaseStorage:
    return getattr(storage, "inner", storage)  # nas_optuna.storage_retry.RetryingStorage


def is_cached_rdb(storage: BaseStorage) -> bool:
    """Optuna's caching wrapper around an RDBStorage (what RDB URLs open)."""
    module = importlib.import_module("optuna.storages._cached_storage")
    cached = getattr(module, "_CachedStorage", None)
    if cached is None:  # renamed: RDB storages take the public path
        fall_back(
            "batched RDB writes", ["optuna.storages._cached_storage:_CachedStorage"], "one write per call"
        )
        return False
    return isinstance(storage, cached) and isinstance(getattr(storage, "_backend", None), RDBStorage)
