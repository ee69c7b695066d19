"""Open any Optuna storage a user has from one string, the same one `optuna create-study` takes.

Forms (see README, "Distributed search"):
  path/to/study.log (or any existing file)    journal file, the default on one machine
  journal:path/to/file                        journal file, explicit form (any file name)
  journal-nofsync:path/to/file                journal file without fsync per write (scratch runs)
  redis://host:6379/0                         journal on Redis
  postgresql+psycopg2://user@host:5432/db     PostgreSQL (postgresql:// means psycopg 3)
  mysql+pymysql://user@host:3306/db           MySQL / MariaDB
  sqlite:///study.db                          SQLite (one process only)
  grpc://host:13000                           Optuna's gRPC storage proxy (many workers)

Remote storages are wrapped so that every call retries with exponential backoff on connection
errors (storage_retry.py): a database restart pauses the workers instead of killing them.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
import warnings
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalRedisBackend

from nas_optuna._optuna_internals import cached_rdb_storage, unsynced_journal_file_backend
from nas_optuna.storage_retry import (  # noqa: F401  (re-exported: the names callers know)
    CONNECT_TIMEOUT_SECONDS,
    RECONNECT_SECONDS,
    BadStorage,
    RetryingStorage,
    StorageUnavailable,
    retry_call,
)
from nas_optuna.storage_secrets import redact, scrub  # noqa: F401  (redact: re-exported)

log = logging.getLogger("nas_optuna.worker")

FORMS = (
    "path/to/study.log",
    "journal:path/to/file",
    "journal-nofsync:path/to/file",
    "redis://host:6379/0",
    "postgresql://user@host:5432/db",
    "mysql+pymysql://user@host:3306/db",
    "sqlite:///study.db",
    "grpc://host:13000",
)
DRIVERS = {"postgresql": ("psycopg2", "postgres"), "mysql": ("pymysql", "mysql"), "redis": ("redis", "redis")}


def _is_journal_path(url: str) -> bool:
    return "://" not in url and (url.endswith((".log", ".jsonl")) or os.path.isfile(url))


def _journal_file(path: str, *, fsync: bool = True) -> JournalStorage:
    """A journal on ``path``; ValueError if the file exists and is something else (never append)."""
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        with open(path, "rb") as f:
            first = f.readline(1 << 20)
        try:
            record = json.loads(first)
        except ValueError:
            record = None
        if not isinstance(record, dict) or "op_code" not in record:
            raise BadStorage(
                f"storage {path!r} is an existing file that is not an Optuna journal; it is left "
                "untouched: pass a new file name (or an existing journal)"
            )
    return JournalStorage(JournalFileBackend(path) if fsync else unsynced_journal_file_backend(path))


def _check_redis_url(url: str) -> None:
    """redis-py reads redis://host/notadb as db 0: refuse it instead of searching another db."""
    parsed = urllib.parse.urlsplit(url)
    db = parsed.path.strip("/")
    if db and not db.isdigit():
        raise BadStorage(
            f"storage {redact(url)!r}: database {db!r} is not a number; use e.g. redis://host:6379/0"
        )


def _with_installed_driver(url: str) -> str:
    """SQLAlchemy 2.1 reads postgresql:// as psycopg 3; use psycopg2 when only that is installed."""
    if url.startswith("postgresql://") and find_spec("psycopg") is None and find_spec("psycopg2"):
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    return url


def _rdb(url: str, pool_size: int) -> BaseStorage:
    url = _with_installed_driver(url)
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    # No pool_pre_ping (a round trip per session): after a server restart the first use of a
    # dead pooled connection fails, SQLAlchemy drops the pool, and the retry loop reconnects.
    engine_kwargs: dict[str, Any] = {}
    if scheme in ("postgresql", "mysql"):
        engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        # A worker needs two connections (main thread, heartbeat thread); bound them so that
        # hundreds of workers stay under the server's max_connections.
        engine_kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    if scheme == "sqlite":
        log.warning("SQLite storage is not safe for several processes; use a journal file (*.log) instead")
    return cached_rdb_storage(RDBStorage(url, engine_kwargs=engine_kwargs))


def _build(url: str, pool_size: int) -> BaseStorage:
    if url.startswith("journal-nofsync:"):
        return _journal_file(url.removeprefix("journal-nofsync:"), fsync=False)
    if url.startswith("journal:"):
        return _journal_file(url.removeprefix("journal:"))
    if _is_journal_path(url):
        return _journal_file(url)
    if url.startswith("redis"):
        _check_redis_url(url)
        with warnings.catch_warnings():  # "experimental" since Optuna 3.1; it is what Redis users have
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return JournalStorage(JournalRedisBackend(url))
    if url.startswith("grpc://"):
        host, _, port = url.removeprefix("grpc://").rstrip("/").rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"storage {redact(url)!r}: expected grpc://HOST:PORT")
        from optuna.storages import GrpcStorageProxy

        return GrpcStorageProxy(host=host, port=int(port))
    if "://" in url:
        return _rdb(url, pool_size)
    raise ValueError(
        f"storage {redact(url)!r} is neither a URL nor a journal file; "
        f"use one of these forms: {', '.join(FORMS)}"
    )


def open_storage(
    url: str, *, retry_seconds: float = 60.0, connect_seconds: float = 10.0, pool_size: int = 2
) -> BaseStorage:
    """Open and probe the storage named by ``url``.

    ValueError for a malformed URL or a missing driver; StorageUnavailable when the server does
    not answer within ``connect_seconds``. ``pool_size``: database connections kept open (plus
    as many on demand).
    """
    what = f"storage {redact(url)}"
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    try:
        storage = retry_call(_build, url, pool_size, retry_seconds=connect_seconds, what=what)
    except ModuleNotFoundError as err:
        module, extra = DRIVERS.get(scheme, (err.name, None))
        hint = f"pip install 'nas-optuna[{extra}]'" if extra else f"pip install {err.name}"
        raise ValueError(f"{what} needs the {module} driver: {hint}") from None
    except ImportError as err:  # grpcio missing for grpc://
        raise ValueError(scrub(f"{what}: {err}", url)) from None
    except (StorageUnavailable, ValueError) as err:  # BadStorage too: the same type, scrubbed
        raise type(err)(scrub(str(err), url)) from None
    except Exception as err:  # sqlalchemy.exc.ArgumentError and friends: a malformed URL
        detail = scrub(f"{type(err).__name__}: {err}", url)  # the parser may quote the whole URL
        raise ValueError(f"{what}: malformed or unsupported URL ({detail})") from None
    if isinstance(storage, JournalStorage) and not url.startswith("redis"):
        return storage  # a local file has no connection to lose
    wrapped = RetryingStorage(storage, retry_seconds, what)
    try:
        retry_call(storage.get_all_studies, retry_seconds=connect_seconds, what=what)  # probe now
    except StorageUnavailable as err:
        raise StorageUnavailable(scrub(str(err), url)) from None
    return wrapped


def existing_storage(url: str) -> BaseStorage:
    """Like `open_storage`, but a journal file must already exist (reading never creates one)."""
    if url.endswith(".log") and not Path(url).is_file():
        raise FileNotFoundError(
            f"storage file {url!r} does not exist; pass the journal file the workers write"
        )
    return open_storage(url)


def list_study_names(storage: BaseStorage, prefix: str | None = None) -> list[str]:
    # Study names only: a summary would load every trial of every study in the storage.
    names = optuna.get_all_study_names(storage)
    return sorted(n for n in names if prefix is None or n.startswith(prefix))
