"""Storage passwords: redaction of every URL form, the storage from a file or the environment."""

from __future__ import annotations

import argparse
import io
import logging

import pytest

from nas_optuna import cli, worker
from nas_optuna.spawn import child_argv, child_env
from nas_optuna.storage_secrets import (
    STORAGE_ENV,
    add_storage_arguments,
    redact,
    resolve_storage,
    scrub,
    scrub_logs,
)
from nas_optuna.storage_url import open_storage
from tests.queue_helpers import write_synthetic_config

# (url, redacted, the password as the server would receive it)
REDACT_TABLE = [
    (
        "postgresql+psycopg2://user:pw1234@host:5432/db",
        "postgresql+psycopg2://user:***@host:5432/db",
        "pw1234",
    ),
    ("postgresql://user@host:5432/db", "postgresql://user@host:5432/db", None),
    ("redis://:pw1234@host:6379/0", "redis://:***@host:6379/0", "pw1234"),
    ("redis://default:pw1234@host:6379/0", "redis://default:***@host:6379/0", "pw1234"),
    ("rediss://:pw1234@host:6380/1", "rediss://:***@host:6380/1", "pw1234"),
    ("redis://host:6379/0", "redis://host:6379/0", None),
    ("mysql+pymysql://root:pa/ss@host/db", "mysql+pymysql://root:***@host/db", "pa/ss"),
    ("mysql+pymysql://root:p@ss@host:3306/db", "mysql+pymysql://root:***@host:3306/db", "p@ss"),
    ("postgresql://u:p:a:ss@h/db", "postgresql://u:***@h/db", "p:a:ss"),
    ("postgresql://u:S3cr%2Fet%40x%3A@h/db", "postgresql://u:***@h/db", "S3cr/et@x:"),
    ("postgresql://u:a/b@c:d@h:5432/db", "postgresql://u:***@h:5432/db", "a/b@c:d"),
    (
        "postgresql://u@h/db?password=pw1234&sslmode=require",
        "postgresql://u@h/db?password=***&sslmode=require",
        "pw1234",
    ),
    (
        "postgresql://u@h/db?sslmode=require&PASSWORD=pw%2F34",
        "postgresql://u@h/db?sslmode=require&PASSWORD=***",
        "pw/34",
    ),
    ("postgresql://h/db?sslpassword=pw1234", "postgresql://h/db?sslpassword=***", "pw1234"),
    ("redis://h:6379/0?password=pw1234", "redis://h:6379/0?password=***", "pw1234"),
    ("mysql+pymysql://u:pw1234@h/db?passwd=other99", "mysql+pymysql://u:***@h/db?passwd=***", "other99"),
    ("grpc://host:13000", "grpc://host:13000", None),
    ("grpc://user:pw1234@host:13000", "grpc://user:***@host:13000", "pw1234"),
    ("grpc://host:13000?token=tok1234", "grpc://host:13000?token=***", "tok1234"),
    ("runs/search.log", "runs/search.log", None),
    ("journal:runs/a:b@c.log", "journal:runs/a:b@c.log", None),
    ("sqlite:///data/x:y@z.db", "sqlite:///data/x:y@z.db", None),
]


@pytest.mark.parametrize(("url", "redacted", "password"), REDACT_TABLE)
def test_redact_hides_the_password_of_every_url_form(url, redacted, password):
    assert redact(url) == redacted
    if password is not None:
        for spelling in (password, password.replace("/", "%2F")):
            assert spelling not in redact(url)


@pytest.mark.parametrize(("url", "redacted", "password"), [r for r in REDACT_TABLE if r[2]])
def test_scrub_masks_the_password_however_a_message_spells_it(url, redacted, password):
    message = f"could not connect to {url} (password {password!r} rejected; url {url!r})"
    clean = scrub(message, url)
    assert password not in clean and redacted in clean
    assert clean.startswith("could not connect to")


def _parser():
    parser = argparse.ArgumentParser()
    add_storage_arguments(parser, "storage")
    return parser


def test_storage_comes_from_the_flag_then_the_file_then_the_environment(tmp_path, monkeypatch):
    url_file = tmp_path / "storage.txt"
    url_file.write_text("postgresql://u:from-file@h/db\n# comments below the first line are ignored\n")
    monkeypatch.setenv(STORAGE_ENV, "postgresql://u:from-env@h/db")
    assert resolve_storage(_parser().parse_args(["--storage", "x.log"])) == "x.log"
    assert resolve_storage(_parser().parse_args(["--storage-file", str(url_file)])).endswith("from-file@h/db")
    args = _parser().parse_args([])
    assert resolve_storage(args).endswith("from-env@h/db") and args.storage.endswith("from-env@h/db")
    monkeypatch.delenv(STORAGE_ENV)
    with pytest.raises(
        ValueError, match=f"no storage given: pass --storage URL, --storage-file PATH or set \\${STORAGE_ENV}"
    ):
        resolve_storage(_parser().parse_args([]))
    assert resolve_storage(_parser().parse_args([]), required=False) is None


def test_storage_file_problems_are_one_clear_error(tmp_path):
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="first line must be the storage URL; it is empty"):
        resolve_storage(_parser().parse_args(["--storage-file", str(tmp_path / "empty.txt")]))
    with pytest.raises(ValueError, match="cannot read it"):
        resolve_storage(_parser().parse_args(["--storage-file", str(tmp_path / "missing.txt")]))
    with pytest.raises(SystemExit):  # argparse: not both
        _parser().parse_args(["--storage", "a.log", "--storage-file", "b.txt"])


def test_worker_and_report_take_the_storage_from_the_environment(tmp_path, monkeypatch, capsys):
    journal = str(tmp_path / "env.log")
    monkeypatch.setenv(STORAGE_ENV, journal)
    config = write_synthetic_config(tmp_path)
    argv = ["--study-name", "env-random-s0", "--study-config", str(config), "--sampler", "random"]
    assert worker.main([*argv, "--n-trials", "3", "--create-study"]) == 0
    assert cli.main(["report", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["env-random-s0"]
    storage = open_storage(journal)
    assert len(storage.get_all_trials(storage.get_study_id_from_name("env-random-s0"))) == 3


def test_children_get_the_storage_by_environment_never_on_argv(tmp_path, monkeypatch):
    monkeypatch.delenv(STORAGE_ENV, raising=False)
    url = "postgresql+psycopg2://postgres:Zq7%2Fpw@127.0.0.1:5432/test"
    args = worker.build_parser().parse_args(
        ["--storage", url, "--study-name", "s", "--study-config", "c.toml", "--processes", "2"]
    )
    argv = child_argv(args, "cpu", 1)
    assert not any("Zq7" in part for part in argv) and "--storage" not in argv
    assert child_env(args)[STORAGE_ENV] == url


def test_children_get_their_share_of_the_cores_before_numpy_loads(monkeypatch):
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the user's own setting wins
    argv = ["--storage", "s.log", "--study-name", "s", "--study-config", "c.toml", "--processes", "2"]
    args = worker.build_parser().parse_args([*argv, "--threads", "4"])
    env = child_env(args)
    assert (env["OMP_NUM_THREADS"], env["OPENBLAS_NUM_THREADS"], env["MKL_NUM_THREADS"]) == ("4", "4", "3")
    assert "OPENBLAS_NUM_THREADS" not in child_env(worker.build_parser().parse_args(argv))


def test_bad_storage_messages_never_show_the_password(tmp_path, capsys):
    config = write_synthetic_config(tmp_path)
    for url in ("foo+bar://u:Zq7pw@x/y", "grpc://u:Zq7pw@host", "mysql+nodriver://u:Zq7pw@h/db"):
        argv = ["--storage", url, "--study-name", "s", "--study-config", str(config), "--create-study"]
        code = worker.main([*argv, "--n-trials", "2", "--storage-retry-seconds", "0.3"])
        err = capsys.readouterr().err
        assert code in (2, 3) and "nas-worker: error:" in err, err
        assert "Zq7" not in err and "***" in err, err


def test_log_records_and_their_tracebacks_are_scrubbed(monkeypatch):
    url = "redis://:Zq7pass@cache:6379/0"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    monkeypatch.setattr(logging.getLogger(), "handlers", [handler])
    scrub_logs(url)
    log = logging.getLogger("nas_optuna.test_secrets")
    log.warning("lost %s", url)
    try:
        raise ConnectionError(f"cannot talk to {url} with password Zq7pass")
    except ConnectionError:
        log.exception("storage call failed")
    text = stream.getvalue()
    assert "Zq7pass" not in text
    assert "lost redis://:***@cache:6379/0" in text and "ConnectionError: cannot talk to" in text


def test_a_password_on_the_command_line_gets_one_warning(capsys):
    resolve_storage(_parser().parse_args(["--storage", "postgresql://u:Zq7pass@h/db"]))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--storage-file PATH or $NAS_OPTUNA_STORAGE" in err and "Zq7" not in err
    resolve_storage(_parser().parse_args(["--storage", "postgresql://u@h/db"]))
    assert capsys.readouterr().err == ""
