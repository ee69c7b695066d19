"""`nas-optuna grpc-proxy` listens on this machine only unless told, and warns when told."""

from __future__ import annotations

import logging

import pytest

from nas_optuna import cli
from nas_optuna.cmd_grpc_proxy import exposure_warning

pytest.importorskip("grpc", reason="the gRPC proxy needs grpcio (pip install 'nas-optuna[grpc]')")


@pytest.fixture
def served(monkeypatch):
    """Record what Optuna's server would be started with instead of serving forever."""
    calls = []
    import optuna.storages

    monkeypatch.setattr(optuna.storages, "run_grpc_proxy_server", lambda storage, **kw: calls.append(kw))
    return calls


def _proxy(tmp_path, caplog, *extra):
    journal = tmp_path / "behind-proxy.log"
    with caplog.at_level(logging.INFO, logger="nas_optuna.worker"):
        assert cli.main(["grpc-proxy", "--storage", f"journal:{journal}", *extra]) == 0
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_default_binds_loopback_without_a_warning(tmp_path, caplog, served):
    warnings = _proxy(tmp_path, caplog)
    assert served[0]["host"] == "127.0.0.1" and served[0]["port"] == 13000
    assert warnings == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "proxyhost"])
def test_any_other_address_gives_one_warning(tmp_path, caplog, served, host):
    warnings = _proxy(tmp_path, caplog, "--host", host, "--port", "13001")
    assert served[0]["host"] == host
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert f"{host}:13001 has no authentication and no TLS" in message
    assert "SSH tunnel" in message and "every study" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses_need_no_warning(host):
    assert exposure_warning(host, 13000) is None
