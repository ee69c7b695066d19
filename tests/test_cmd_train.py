import json

import pytest
from tiny_models import TinyNet

import nas_optuna
from nas_optuna import NASNET_A
from nas_optuna.cli import main

TINY = ["--n-cells", "1", "--filters", "4", "--epochs", "2", "--batch-size", "64", "--val-size", "100"]


@pytest.fixture(autouse=True)
def stand_in_network(monkeypatch, tmp_path):
    monkeypatch.setenv("NAS_OPTUNA_CACHE_DIR", str(tmp_path / "cache"))
    built = []

    def build_network(genotype, *, n_cells, filters, num_classes, **kwargs):
        built.append((genotype, n_cells, filters))
        return TinyNet(num_classes=num_classes, filters=filters)

    monkeypatch.setattr(nas_optuna, "build_network", build_network, raising=False)
    monkeypatch.setattr(nas_optuna, "count_parameters", lambda m: 123, raising=False)
    monkeypatch.setattr(nas_optuna, "count_mult_adds", lambda m, size: 4567, raising=False)
    return built


def test_train_json_prints_one_object(capsys, stand_in_network):
    assert main(["train", "--genotype", "nasnet-a", "--dataset", "bundled", "--json", *TINY]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert {"val_accuracy", "params", "mult_adds", "seconds", "images_per_second"} <= summary.keys()
    assert 0 <= summary["val_accuracy"] <= 1 and summary["epochs"] == 2
    assert summary["params"] == 123 and summary["mult_adds"] == 4567
    assert summary["genotype"] == str(NASNET_A) and stand_in_network[0] == (NASNET_A, 1, 4)
    assert summary["seconds"] > 0
    assert "epoch" not in out.err  # no progress bar in JSON mode


def test_train_readable_output_has_a_progress_bar_per_epoch(capsys, tmp_path):
    genotype_file = tmp_path / "g.json"
    genotype_file.write_text(NASNET_A.to_json())
    assert main(["train", "--genotype", str(genotype_file), "--train-images", "0", *TINY]) == 0
    out = capsys.readouterr()
    assert "3900 train / 100 val" in out.err  # 0 = every bundled training image
    assert "val_accuracy" in out.out and "after 2 epochs" in out.out
    assert "epoch 1/2 [" in out.err and "epoch 2/2 val_accuracy" in out.err


def test_train_bad_input_is_one_clear_error(capsys, tmp_path):
    assert main(["train", "--genotype", "nasnet-z", *TINY]) == 2
    assert "unknown genotype 'nasnet-z'" in capsys.readouterr().err
    assert main(["train", "--dataset", str(tmp_path / "missing"), *TINY]) == 2
    assert "does not exist" in capsys.readouterr().err
