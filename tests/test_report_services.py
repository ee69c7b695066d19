"""The report and the dashboard attachment on the multi-machine storages (PostgreSQL, MariaDB, Redis)."""

import os
import uuid

import optuna
import pytest
from report_studies import make_paired_studies

from nas_optuna.report.build import make_report
from nas_optuna.report.dashboard import attach_to_dashboard
from nas_optuna.storage_url import open_storage

pytestmark = pytest.mark.services

URLS = {
    "postgres": "postgresql+psycopg2://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
    "redis": "redis://127.0.0.1:6379/0",
}


@pytest.fixture(params=sorted(URLS))
def storage(request):
    try:
        storage = open_storage(URLS[request.param])
        optuna.get_all_study_names(storage)  # Redis connects only on first use
        return storage
    except Exception as err:  # driver missing or server down: each library raises its own error
        if os.environ.get("CI") == "true":
            pytest.fail(f"{request.param} is required in CI: {err}")
        pytest.skip(f"{request.param} unreachable: {err}")


def test_report_and_dashboard_note_on_shared_storage(storage):
    pytest.importorskip("optuna_dashboard")
    from optuna_dashboard import get_note

    name = f"rep{uuid.uuid4().hex[:10]}"  # other helpers share these servers
    names = make_paired_studies(storage, name, n_trials=6, seeds=1)
    try:
        report = make_report(storage, prefix=f"{name}-")
        assert [r.study_name for r in report.runs] == names
        assert all(len(r.trials) == 6 for r in report.runs)
        attach_to_dashboard(report, storage)
        note = get_note(optuna.load_study(study_name=f"{name}-tpe-s0", storage=storage))
        assert f"## {name}-tpe-s0" in note and "sampler **tpe**" in note
    finally:
        for study_name in names:
            optuna.delete_study(study_name=study_name, storage=storage)
