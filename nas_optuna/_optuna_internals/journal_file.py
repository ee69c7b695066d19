"""A journal file backend that appends without fsync, for scratch runs (the demo on a table)."""

from __future__ import annotations

import json
from typing import Any

from optuna.storages.journal import JournalFileBackend

from nas_optuna._optuna_internals.checks import _missing_names, fall_back

_NAMES = ["optuna.storages.journal._file:get_lock_file"]
_ATTRS = ["_lock", "_file_path"]


def unsynced_journal_file_backend(path: str) -> JournalFileBackend:
    """Each line reaches the OS at once (other processes read it, a killed process loses nothing),
    but a machine crash can lose the last lines. For objectives that take microseconds (tables,
    synthetic rewards), where one fsync per write (milliseconds on a VM disk) would be most of
    the run's time. Without the private names: Optuna's own backend, which syncs."""
    backend = JournalFileBackend(path)
    missing = _missing_names(_NAMES) + [f"JournalFileBackend.{a}" for a in _ATTRS if not hasattr(backend, a)]
    if missing:
        fall_back("journal-nofsync", missing, "an fsync per write")
        return backend
    from optuna.storages.journal._file import get_lock_file

    class UnsyncedJournalFileBackend(JournalFileBackend):
        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            with get_lock_file(self._lock):  # the same lock and format as Optuna's own append
                text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
                with open(self._file_path, "ab") as f:
                    f.write(text.encode("utf-8"))

    return UnsyncedJournalFileBackend(path)
