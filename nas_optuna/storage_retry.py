"""Retrying storage calls: a database restart or fail-over pauses a worker instead of killing it.

Every call retries connection errors with exponential backoff and jitter for a retry window;
past it, StorageUnavailable names the innermost cause (the driver's connection error, not the
wrapper's message). A URL naming a database that does not exist is bad input, not an outage.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import time
from typing import Any

import optuna
from optuna.storages import BaseStorage

log = logging.getLogger("nas_optuna.worker")


class StorageUnavailable(RuntimeError):
    """The storage could not be reached within the retry window."""


class BadStorage(ValueError):
    """The storage string names something that cannot be used as asked (exit 2, bad input)."""


MAX_BACKOFF_SECONDS = 8.0 * 1.5  # the longest sleep between two tries (delay cap x jitter)
CONNECT_TIMEOUT_SECONDS = 10  # a database connection attempt gives up after this
# After an outage every live worker is through: a retry that slept in the outage and one
# whose connect hung while the server came back (both bounds for the judge and the judged).
RECONNECT_SECONDS = 2 * MAX_BACKOFF_SECONDS + CONNECT_TIMEOUT_SECONDS
# Server answers that no retry can change: the URL names a database that is not there.
MISSING_DATABASE = re.compile(r'database "[^"]*" does not exist|Unknown database', re.IGNORECASE)


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


def root_cause(err: BaseException) -> str:
    """The first line of the innermost error: the connection error, not a wrapper's message
    (Optuna's "An exception is raised during the commit ..." wraps the driver's)."""
    while err.__cause__ is not None:
        err = err.__cause__
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def retry_call(fn, *args, retry_seconds: float, what: str = "storage", on_error=None, **kwargs):
    """Call fn, retrying transient connection errors with exponential backoff and jitter.

    ``on_error()`` is called on every transient error (the worker tracks its outages with it).
    """
    transient = _transient_errors()
    deadline = time.monotonic() + retry_seconds
    delay = 0.25
    while True:
        try:
            return fn(*args, **kwargs)
        except transient as err:
            if on_error is not None:
                on_error()
            cause = root_cause(err)
            if MISSING_DATABASE.search(cause):
                raise BadStorage(f"{what}: {cause}; create the database or fix the URL") from None
            if time.monotonic() + delay > deadline:
                raise StorageUnavailable(f"cannot reach {what}: {cause}") from err
            log.warning("%s unreachable (%s); retrying in %.1fs", what, type(err).__name__, delay)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 8.0)


class _RetryingBase(BaseStorage):
    def __init__(self, inner: BaseStorage, retry_seconds: float, what: str) -> None:
        self.inner = inner
        self.retry_seconds = retry_seconds
        self.what = what
        self.last_error_time: float | None = None  # time.time() of the latest connection error

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.call_with_retry(getattr(self.inner, name), *args, **kwargs)

    def call_with_retry(self, fn, *args: Any, **kwargs: Any) -> Any:
        return retry_call(
            fn, *args, retry_seconds=self.retry_seconds, what=self.what, on_error=self._saw_error, **kwargs
        )

    def _saw_error(self) -> None:
        self.last_error_time = time.time()


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
