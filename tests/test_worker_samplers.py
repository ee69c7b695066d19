"""nas-worker with the evolution and PNAS samplers: two workers share one study on a journal file."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from nas_optuna.storage_url import open_storage
from nas_optuna.worker import main


def _config(tmp_path, sampler_table: str, preset: str = "nasnet") -> str:
    path = tmp_path / f"{preset}.toml"
    path.write_text(
        "# Run: nas-worker --study-config this.toml ...\n"
        f'[space]\npreset = "{preset}"\nn_blocks = 2\n\n'
        '[objective]\nname = "synthetic"\nnoise = 0.0\nsleep_seconds = 0.02\n\n' + sampler_table
    )
    return str(path)


def _argv(tmp_path, config: str, *extra: str, sampler: str = "evolution") -> list[str]:
    return [
        "--storage", str(tmp_path / "study.log"), "--study-name", sampler, "--study-config", config,
        "--sampler", sampler, "--n-trials", "40", "--create-study", *extra,
    ]  # fmt: skip


def _hamming(a: dict, b: dict) -> int:
    return sum(a[k] != b[k] for k in a)


def test_two_evolution_workers_share_one_population(tmp_path, caplog):
    config = _config(tmp_path, "[sampler.evolution]\npopulation_size = 6\nsample_size = 3\n")
    with caplog.at_level("INFO"):
        assert main(_argv(tmp_path, config, "--seed", "0", "--processes", "2")) == 0
    assert "workers exited with codes [0, 0]" in caplog.text
    study = optuna.load_study(study_name="evolution", storage=open_storage(str(tmp_path / "study.log")))
    assert study.user_attrs["sampler"] == "evolution"
    assert study.user_attrs["sampler_settings"] == {"population_size": 6, "sample_size": 3}
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 40
    assert len({t.user_attrs["worker"] for t in complete}) == 2
    for child in complete[6:]:
        earlier = [t for t in complete if t is not child and t.datetime_complete <= child.datetime_complete]
        assert 1 in {_hamming(child.params, t.params) for t in earlier}, child.number


def test_bad_evolution_setting_is_one_clear_error(tmp_path, capsys):
    config = _config(tmp_path, "[sampler.evolution]\npopulation_size = 6\nsample_size = 9\n")
    assert main(_argv(tmp_path, config)) == 2
    err = capsys.readouterr().err
    assert "sample_size must be an integer in [1, population_size=6]" in err
    assert "Traceback" not in err and err.count("\n") == 1
    fixed = _config(tmp_path, "[sampler.evolution]\npopulation_size = 6\nsample_size = 3\n")
    assert main(_argv(tmp_path, fixed)) == 0  # the rejected settings were not recorded


def test_two_pnas_workers_on_the_pnas_space_skip_each_others_architectures(tmp_path, caplog):
    config = _config(tmp_path, "[sampler.pnas]\nn_startup_trials = 10\n", preset="pnas")
    with caplog.at_level("INFO"):
        assert main(_argv(tmp_path, config, "--seed", "0", "--processes", "2", sampler="pnas")) == 0
    assert "workers exited with codes [0, 0]" in caplog.text
    study = optuna.load_study(study_name="pnas", storage=open_storage(str(tmp_path / "study.log")))
    assert study.user_attrs["sampler"] == "pnas"
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 40 and all(name.startswith("cell_") for name in complete[0].params)
    assert len({t.user_attrs["worker"] for t in complete}) == 2
    proposed = [tuple(sorted(t.params.items())) for t in complete if t.number >= 10]
    assert len(set(proposed)) >= 0.9 * len(proposed)
    values = [t.value for t in sorted(complete, key=lambda t: t.number)]
    assert np.mean(values[-10:]) > np.mean(values[:10])


def _nb201_config(tmp_path) -> str:
    path = tmp_path / "nb201.toml"
    path.write_text(
        # 20 ms a look-up: the first worker must not run all 40 trials before the second starts
        '[space]\npreset = "nb201"\n\n[objective]\nname = "nb201"\nsleep_seconds = 0.02\n\n'
        "[sampler.evolution]\npopulation_size = 8\nsample_size = 3\n\n[sampler.pnas]\nn_startup_trials = 10\n"
    )
    return str(path)


@pytest.mark.parametrize("sampler", ["evolution", "pnas"])
@pytest.mark.parametrize("preset", ["nasnet", "nb201"])
def test_two_workers_search_the_nasnet_space_and_the_nb201_table(tmp_path, caplog, sampler, preset):
    tables = (
        "[sampler.evolution]\npopulation_size = 8\nsample_size = 3\n\n[sampler.pnas]\nn_startup_trials = 10\n"
    )
    config = _config(tmp_path, tables) if preset == "nasnet" else _nb201_config(tmp_path)
    with caplog.at_level("INFO"):
        assert main(_argv(tmp_path, config, "--seed", "0", "--processes", "2", sampler=sampler)) == 0
    assert "workers exited with codes [0, 0]" in caplog.text
    study = optuna.load_study(study_name=sampler, storage=open_storage(str(tmp_path / "study.log")))
    complete = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.number)
    assert len(complete) == 40 and len({t.user_attrs["worker"] for t in complete}) == 2
    prefix = "normal_" if preset == "nasnet" else "edge_"
    assert all(any(n.startswith(prefix) for n in t.params) for t in complete)
    if (
        sampler == "evolution"
    ):  # past the population, every child is one mutation of a trial either worker ran
        for child in complete[8:]:
            earlier = [
                t for t in complete if t is not child and t.datetime_complete <= child.datetime_complete
            ]
            assert 1 in {_hamming(child.params, t.params) for t in earlier}, child.number
    else:  # each worker's predictor ranks everyone's results and skips everyone's architectures
        proposed = [tuple(sorted(t.params.items())) for t in complete[10:]]
        assert len(set(proposed)) >= 0.9 * len(proposed)
