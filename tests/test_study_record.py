"""The study's settings record: one write, first writer wins, on every storage."""

from __future__ import annotations

import threading

import optuna
import pytest

from nas_optuna.storage_url import open_storage
from nas_optuna.study_attrs import KEYS, RECORD, record_or_check
from tests.queue_helpers import SERVERS, drop_study, require_server, unique_name

WORKERS = 4


def settings(seed: int) -> dict:
    return {
        "sampler": "random",
        "sampler_settings": {},
        "seed": seed,
        "budget": {"n_trials": 10 + seed, "device_seconds": None},
        "study_config": {"objective": {"name": "synthetic"}},
    }


def _url(kind: str, tmp_path) -> str:
    if kind == "journal":
        return str(tmp_path / "record.log")
    require_server(SERVERS[kind])
    return SERVERS[kind]


def race(url: str, name: str) -> list[str]:
    """WORKERS first workers, one storage connection each, record their own settings at once."""
    studies = [optuna.load_study(study_name=name, storage=open_storage(url)) for _ in range(WORKERS)]
    barrier = threading.Barrier(WORKERS)
    outcomes = [""] * WORKERS

    def first_worker(i: int) -> None:
        barrier.wait()
        try:
            record_or_check(studies[i], settings(i))
            outcomes[i] = "joined"
        except ValueError as err:
            outcomes[i] = str(err)

    threads = [threading.Thread(target=first_worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.services
@pytest.mark.parametrize("kind", ["journal", "postgresql", "mariadb", "redis"])
def test_racing_first_workers_leave_one_whole_record_and_refuse_the_others(kind, tmp_path):
    url = _url(kind, tmp_path)
    for _ in range(3):  # three races: the interleaving differs each time
        name = unique_name("record")
        try:
            optuna.create_study(study_name=name, storage=open_storage(url), direction="maximize")
            outcomes = race(url, name)
            assert outcomes.count("joined") == 1, outcomes
            winner = outcomes.index("joined")
            attrs = optuna.load_study(study_name=name, storage=open_storage(url)).user_attrs
            assert attrs[RECORD] == settings(winner)  # whole, from one worker
            assert {key: attrs[key] for key in KEYS} == settings(winner)  # copies match it
            for i, outcome in enumerate(outcomes):
                if i != winner:
                    assert "refuses to join" in outcome
                    assert f"seed: study has {winner}, this worker has {i}" in outcome
        finally:
            if kind != "journal":
                drop_study(url, name)


def test_a_worker_with_the_recorded_settings_joins_and_a_study_from_before_the_record_is_checked(
    tmp_path,
):
    log = str(tmp_path / "s.log")
    study = optuna.create_study(study_name="new", storage=open_storage(log), direction="maximize")
    record_or_check(study, settings(1))
    record_or_check(optuna.load_study(study_name="new", storage=open_storage(log)), settings(1))
    old = optuna.create_study(study_name="old", storage=open_storage(log), direction="maximize")
    for key, value in settings(2).items():  # as workers recorded them before the one-write record
        old.set_user_attr(key, value)
    record_or_check(old, settings(2))
    with pytest.raises(ValueError, match="seed: study has 2, this worker has 3"):
        record_or_check(old, settings(3))
    assert RECORD not in old.user_attrs  # an old study is compared, not rewritten
