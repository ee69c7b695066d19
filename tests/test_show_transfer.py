"""`nas-optuna show` prints the genotype's cost at the transfer configuration."""

import optuna

from nas_optuna import NASNET_A, nasnet_space, suggest_genotype
from nas_optuna.cli import main
from nas_optuna.cost import transfer_config, transfer_cost
from nas_optuna.storage_url import open_storage

SMALL = ["--cells", "1", "--filters", "8"]  # the proxy-size lines stay cheap


def _transfer_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("transfer (")]
    assert len(lines) == 1, out
    return lines[0]


def test_show_prints_the_mobile_cost_by_default(tmp_path, capsys):
    assert main(["show", "nasnet-a", *SMALL, "--out", str(tmp_path / "a.html")]) == 0
    out = capsys.readouterr().out
    line = _transfer_line(out)
    assert line.startswith("transfer (mobile): 4@1056 (N=4, F=44), imagenet stem, 224x224 input")
    params = int(line.split(": ")[2].split(" ")[0].replace(",", ""))
    mult_adds = int(line.split("parameters (")[1].split(", ")[1].split(" ")[0].replace(",", ""))
    cost = transfer_cost(NASNET_A, transfer_config("mobile"))
    assert (params, mult_adds) == (cost.params, cost.mult_adds)
    assert "(564M)" in line and "latency" not in out
    assert "transfer (" in (tmp_path / "a.html").read_text()  # the page lists it too


def test_show_uses_the_studys_transfer_table_for_a_trial(tmp_path, capsys):
    journal = str(tmp_path / "s.log")
    study = optuna.create_study(study_name="m", storage=open_storage(journal), direction="maximize")
    table = {"stem": "cifar", "n_cells": 1, "filters": 8, "image_size": 16}
    study.set_user_attr("study_config", {"objective": {"name": "cifar", "transfer": table}})
    study.optimize(lambda t: len(str(suggest_genotype(t, nasnet_space()))) / 1e4, n_trials=1)
    args = ["show", "--storage", journal, "--study", "m", "--trial", "0", *SMALL, "--latency"]
    assert main([*args, "--out", str(tmp_path / "t.svg")]) == 0
    out = capsys.readouterr().out
    assert _transfer_line(out).startswith(
        "transfer (of the study): 1@192 (N=1, F=8), cifar stem, 16x16 input"
    )
    assert "transfer CPU latency, batch 1: " in out
    assert main([*args[:-1], "--transfer", "cifar", "--out", str(tmp_path / "t.svg")]) == 0
    assert _transfer_line(capsys.readouterr().out).startswith("transfer (cifar): 6@768")


def test_show_transfer_none_skips_it_and_refuses_latency(tmp_path, capsys):
    out_file = str(tmp_path / "n.svg")
    assert main(["show", "nasnet-a", *SMALL, "--transfer", "none", "--out", out_file]) == 0
    assert "transfer (" not in capsys.readouterr().out
    assert main(["show", "nasnet-a", *SMALL, "--transfer", "none", "--latency", "--out", out_file]) == 2
    assert "--latency times the transfer network; drop --transfer none" in capsys.readouterr().err
