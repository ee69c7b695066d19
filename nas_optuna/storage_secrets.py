"""Keep storage passwords out of output, argv and studies: redaction and the storage options.

A storage URL may carry a password (``postgresql://user:PW@host/db``, ``redis://:PW@host``,
``...?password=PW``). Every message shows ``redact(url)``; the URL itself can come from
``--storage``, ``--storage-file PATH`` (its first line) or ``$NAS_OPTUNA_STORAGE``, so that it
need never be on a command line, where ``ps`` shows it to every user of the machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path
from urllib.parse import quote, unquote

STORAGE_ENV = "NAS_OPTUNA_STORAGE"
MASK = "***"

# Query keys that name a secret: password=, sslpassword=, passwd=, pwd=, token=, api_key=, ...
_SECRET_KEY = r"[^=&;#?]*(?:pass|pwd|secret|token|auth|credential|key)[^=&;#?]*"
_SECRET_QUERY = re.compile(rf"([?&;]{_SECRET_KEY}=)([^&;#]*)", re.IGNORECASE)


def redact(url: str) -> str:
    """The URL with its password (user-info or query) replaced by ***, for messages.

    The user-info ends at the last '@' (an unencoded '@', '/' or ':' in a password stays
    hidden); should a query hold an '@', more than the password is hidden, never less.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url  # a file path
    password = _password_span(rest)
    if password is not None:
        rest = f"{rest[: password[0]]}{MASK}{rest[password[1] :]}"
    rest = _SECRET_QUERY.sub(rf"\1{MASK}", rest)
    return f"{scheme}{sep}{rest}"


def _password_span(rest: str) -> tuple[int, int] | None:
    """Where the user-info password lies in the URL after '://': user:PASSWORD@host."""
    at = rest.rfind("@")
    colon = rest.find(":", 0, max(at, 0))
    if at < 0 or colon < 0 or "/" in rest[:colon]:  # no '/' in a user name: sqlite:///a:b@c.db is a path
        return None
    return colon + 1, at


def secrets_of(url: str) -> set[str]:
    """The URL's secrets in every spelling a message may hold: as written, decoded, encoded."""
    _, sep, rest = url.partition("://")
    if not sep:
        return set()
    span = _password_span(rest)
    found = [] if span is None else [rest[span[0] : span[1]]]
    found += [m.group(2) for m in _SECRET_QUERY.finditer(rest)]
    spellings = {s for raw in found for s in (raw, unquote(raw), quote(unquote(raw), safe=""))}
    return {s for s in spellings if len(s) >= 3}  # shorter ones would mangle every message


def scrub(text: str, url: str | None) -> str:
    """``text`` with ``url`` redacted and its secrets masked wherever they appear."""
    if not url:
        return text
    text = text.replace(url, redact(url))
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class ScrubSecrets(logging.Filter):
    """A logging filter that masks one URL's secrets in every record it passes."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.url)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:  # a formatter keeps a preset exc_text
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.url)
        return True


def scrub_logs(url: str | None) -> None:
    """Mask ``url``'s secrets in everything the root logger's handlers write."""
    if url and secrets_of(url):
        for handler in logging.getLogger().handlers:
            handler.addFilter(ScrubSecrets(url))


def add_storage_arguments(parser: argparse.ArgumentParser, what: str, *, required: bool = True) -> None:
    """--storage URL | --storage-file PATH, with $NAS_OPTUNA_STORAGE as the fallback."""
    group = parser.add_mutually_exclusive_group()
    needed = "" if required else "; optional"
    group.add_argument(
        "--storage",
        help=f"{what} (or --storage-file, or ${STORAGE_ENV}, which keep a password off argv{needed})",
    )
    group.add_argument(
        "--storage-file", metavar="PATH", help="read the storage URL from the first line of PATH"
    )


def resolve_storage(args: argparse.Namespace, *, required: bool = True) -> str | None:
    """The storage URL from --storage, else --storage-file, else $NAS_OPTUNA_STORAGE; stored in args."""
    url = args.storage
    if url and secrets_of(url):
        print(
            f"warning: --storage puts the password on the command line, where every user of this "
            f"machine can read it (ps); use --storage-file PATH or ${STORAGE_ENV} instead",
            file=sys.stderr,
        )
    if not url and getattr(args, "storage_file", None):
        path = Path(args.storage_file).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise ValueError(f"--storage-file {path}: cannot read it ({err.strerror})") from None
        url = lines[0].strip() if lines else ""
        if not url:
            raise ValueError(f"--storage-file {path}: the first line must be the storage URL; it is empty")
    if not url:
        url = os.environ.get(STORAGE_ENV, "").strip() or None
    if url is None and required:
        raise ValueError(f"no storage given: pass --storage URL, --storage-file PATH or set ${STORAGE_ENV}")
    args.storage = url
    return url
