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
errors: a database restart pauses the workers instead of killing them.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import re
import time
import warnings
from importlib.util import find_spec
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalRedisBackend

from nas_optuna._optuna_internals import cached_rdb_storage, unsynced_journal_file_backend

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


class StorageUnavailable(RuntimeError):
    """The storage could not be reached within the retry window."""


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


@functools.cache
def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [optuna.exceptions.StorageInternalError]
    errors += [ConnectionError, TimeoutError]
    try:
        import sqlalchemy.exc

        errors += [sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError]
    except ImportError:
        pass
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:
        pass
    try:
        import grpc

        errors.append(grpc.RpcError)
    except ImportError:
        pass
    return tuple(errors)


def retry_call(fn, *args, retry_seconds: float, what: str = "storage", **kwargs):
    """Call fn, retrying transient connection errors with exponential backoff and jitter."""
    transient = _transient_errors()
    deadline = time.monotonic() + retry_seconds
    delay = 0.25
    while True:
        try:
            return fn(*args, **kwargs)
        except transient as err:
            if time.monotonic() + delay > deadline:
                first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise StorageUnavailable(f"cannot reach {what}: {first_line}") from err
            log.warning("%s unreachable (%s); retrying in %.1fs", what, type(err).__name__, delay)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 8.0)


class _RetryingBase(BaseStorage):
    def __init__(self, inner: BaseStorage, retry_seconds: float, what: str) -> None:
        self.inner = inner
        self.retry_seconds = retry_seconds
        self.what = what

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.call_with_retry(getattr(self.inner, name), *args, **kwargs)

    def call_with_retry(self, fn, *args: Any, **kwargs: Any) -> Any:
        return retry_call(fn, *args, retry_seconds=self.retry_seconds, what=self.what, **kwargs)


def _forward(name: str):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


# Every public BaseStorage method forwards through the retry loop.
RetryingStorage = type(
    "RetryingStorage",
    (_RetryingBase,),
    {
        name: _forward(name)
        for name in dir(BaseStorage)
        if not name.startswith("_") and callable(getattr(BaseStorage, name))
    },
)


def _is_journal_path(url: str) -> bool:
    return "://" not in url and (url.endswith((".log", ".jsonl")) or os.path.isfile(url))


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
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
        # A worker needs two connections (main thread, heartbeat thread); bound them so that
        # hundreds of workers stay under the server's max_connections.
        engine_kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    if scheme == "sqlite":
        log.warning("SQLite storage is not safe for several processes; use a journal file (*.log) instead")
    return cached_rdb_storage(RDBStorage(url, engine_kwargs=engine_kwargs))


def _build(url: str, pool_size: int) -> BaseStorage:
    if url.startswith("journal-nofsync:"):
        return JournalStorage(unsynced_journal_file_backend(url.removeprefix("journal-nofsync:")))
    if url.startswith("journal:"):
        return JournalStorage(JournalFileBackend(url.removeprefix("journal:")))
    if _is_journal_path(url):
        return JournalStorage(JournalFileBackend(url))
    if url.startswith("redis"):
        with warnings.catch_warnings():  # "experimental" since Optuna 3.1; it is what Redis users have
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return JournalStorage(JournalRedisBackend(url))
    if url.startswith("grpc://"):
        host, _, port = url.removeprefix("grpc://").rstrip("/").rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"storage {url!r}: expected grpc://HOST:PORT")
        from optuna.storages import GrpcStorageProxy

        return GrpcStorageProxy(host=host, port=int(port))
    if "://" in url:
        return _rdb(url, pool_size)
    raise ValueError(
        f"storage {url!r} is neither a URL nor a journal file; use one of these forms: {', '.join(FORMS)}"
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
        raise ValueError(f"{what}: {err}") from None
    except StorageUnavailable:
        raise
    except Exception as err:  # sqlalchemy.exc.ArgumentError and friends: a malformed URL
        raise ValueError(f"{what}: malformed or unsupported URL ({type(err).__name__}: {err})") from None
    if isinstance(storage, JournalStorage) and not url.startswith("redis"):
        return storage  # a local file has no connection to lose
    wrapped = RetryingStorage(storage, retry_seconds, what)
    retry_call(storage.get_all_studies, retry_seconds=connect_seconds, what=what)  # probe now
    return wrapped
