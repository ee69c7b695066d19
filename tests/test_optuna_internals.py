"""The private-Optuna layer: one write per architecture, and the public fallback when the installed
Optuna lacks a private name (simulated by adding a name that no Optuna has)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from types import SimpleNamespace

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from nas_optuna import _optuna_internals as internals
from nas_optuna._optuna_internals import OptunaInternalsWarning, batched_writes, checks, study_access
from tests.queue_helpers import assert_exact_budget, unique_name, worker_command, write_synthetic_config

CHOICES = CategoricalDistribution(["conv", "pool", "skip"])
RENAMED = "optuna.storages:JournalStorage._renamed_in_a_future_release"


def _journal_study(tmp_path):
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))
    return optuna.create_study(study_name="s", storage=storage), storage


def _count_appends(monkeypatch, storage: JournalStorage) -> list[int]:
    appends: list[int] = []
    real = storage._backend.append_logs
    monkeypatch.setattr(storage._backend, "append_logs", lambda logs: (appends.append(len(logs)), real(logs)))
    return appends


@pytest.fixture
def fresh_checks(monkeypatch):
    """Each test sees the checks run anew and may be warned again."""
    monkeypatch.setattr(checks, "_warned", set())
    checks._module_names_missing.cache_clear()
    yield
    checks._module_names_missing.cache_clear()


def _suggest_all(trial: optuna.Trial) -> None:
    trial.set_user_attr("worker", "w0")
    for i in range(5):
        trial.suggest_categorical(f"b{i}", CHOICES.choices)


def test_batched_writes_store_a_journal_trial_in_one_append(tmp_path, monkeypatch, fresh_checks):
    study, storage = _journal_study(tmp_path)
    trial = study.ask()
    appends = _count_appends(monkeypatch, storage)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptunaInternalsWarning)  # the installed Optuna has every name
        with batched_writes(study):
            _suggest_all(trial)
            assert appends == []  # nothing written before the block ends
    assert appends == [6]  # 5 params and 1 user attr, one append
    reread = optuna.load_study(
        study_name="s", storage=JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))
    )
    stored = reread.trials[0]
    assert stored.params == trial.params and len(stored.params) == 5
    assert stored.user_attrs == {"worker": "w0"}


def test_batched_writes_flush_when_the_block_raises(tmp_path):
    study, _ = _journal_study(tmp_path)
    trial = study.ask()
    with pytest.raises(RuntimeError), batched_writes(study):
        trial.set_user_attr("fail_reason", "boom")
        raise RuntimeError("objective failed")
    assert study.trials[0].user_attrs == {"fail_reason": "boom"}


def test_batched_writes_on_sqlite_store_params_and_refuse_finished_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=url)
    trial = study.ask()
    with batched_writes(study):
        _suggest_all(trial)
    assert optuna.load_study(study_name="s", storage=url).trials[0].params == trial.params
    study.tell(trial, 1.0)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError), batched_writes(study):
        internals.storage_of(study).set_trial_user_attr(internals.trial_id_of(study, trial), "late", 1)


def test_missing_journal_name_falls_back_to_one_write_per_call_with_one_warning(
    tmp_path, monkeypatch, fresh_checks
):
    monkeypatch.setattr(checks, "_JOURNAL_NAMES", [*checks._JOURNAL_NAMES, RENAMED])
    study, storage = _journal_study(tmp_path)
    appends = _count_appends(monkeypatch, storage)
    with pytest.warns(OptunaInternalsWarning, match="_renamed_in_a_future_release") as caught:
        for _ in range(3):
            trial = study.ask()
            with batched_writes(study):
                _suggest_all(trial)
            study.tell(trial, 0.5)
    assert len([w for w in caught if w.category is OptunaInternalsWarning]) == 1
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert all(len(t.params) == 5 and t.user_attrs["worker"] == "w0" for t in study.trials)
    assert 1 in appends and 6 not in appends  # written one by one


def test_missing_rdb_name_falls_back_and_write_once_still_keeps_the_first_value(
    tmp_path, monkeypatch, fresh_checks
):
    monkeypatch.setattr(checks, "_RDB_NAMES", [*checks._RDB_NAMES, "optuna.storages._rdb.models:Renamed"])
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{tmp_path / 'study.db'}")
    with pytest.warns(OptunaInternalsWarning, match="Renamed"):
        assert internals.set_study_user_attr_once(study, "settings", {"a": 1}) == {"a": 1}
        assert internals.set_study_user_attr_once(study, "settings", {"a": 2}) == {"a": 1}
        trial = study.ask()
        with batched_writes(study):
            _suggest_all(trial)
    assert study.trials[0].params == trial.params


def test_missing_journal_lock_names_fall_back_to_check_then_write(tmp_path, monkeypatch, fresh_checks):
    study, storage = _journal_study(tmp_path)
    monkeypatch.setattr(study_access, "JOURNAL_FILE_LOCK_ATTRS", ["_file_path_renamed"])
    with pytest.warns(OptunaInternalsWarning, match="JournalFileBackend._file_path_renamed"):
        assert internals.set_study_user_attr_once(study, "k", 1) == 1
    assert internals.set_study_user_attr_once(study, "k", 2) == 1


def test_missing_study_and_trial_attributes_use_public_lookups(tmp_path, fresh_checks):
    study, storage = _journal_study(tmp_path)
    trial = study.ask()
    renamed = SimpleNamespace(_renamed_storage=storage, study_name="s")  # a Study without _storage
    with pytest.warns(OptunaInternalsWarning):
        assert internals.storage_of(renamed) is storage
        assert internals.study_id_of(renamed) == study._study_id
        assert internals.trial_id_of(study, SimpleNamespace(number=trial.number)) == trial._trial_id


def test_a_worker_without_the_private_names_completes_every_trial(tmp_path):
    """End to end: nas-worker on a journal, every private name of the batched path 'renamed'."""
    url, name = str(tmp_path / "study.log"), unique_name()
    command = worker_command(url, name, write_synthetic_config(tmp_path), 6)
    patch = (
        "import sys; from nas_optuna._optuna_internals import checks; "
        f"checks._JOURNAL_NAMES.append({RENAMED!r}); checks._module_names_missing.cache_clear(); "
        "from nas_optuna.worker import main; sys.exit(main(sys.argv[1:]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", patch, *command[3:]], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("OptunaInternalsWarning") == 1, run.stderr
    study = optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(url)))
    trials = assert_exact_budget(study, 6)
    assert all(len(t.params) == 20 for t in trials if t.state == TrialState.COMPLETE)
