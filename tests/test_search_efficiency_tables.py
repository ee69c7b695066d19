"""The benchmark script other work measures on: arms by name with settings, curves in JSON."""

import json
import runpy
from pathlib import Path

import pytest

SCRIPT = runpy.run_path(
    str(Path(__file__).resolve().parents[1] / "benchmarks" / "search_efficiency_tables.py")
)


def test_arm_specs_name_a_sampler_and_its_settings():
    parse = SCRIPT["parse_arm"]
    assert parse("tpe").settings == {"multivariate": True}  # the TPE arm
    arm = parse('ppo_lr3e-3=ppo:{"learning_rate":0.003}')
    assert (arm.label, arm.sampler, arm.settings) == ("ppo_lr3e-3", "ppo", {"learning_rate": 0.003})
    with pytest.raises(ValueError, match="settings are not JSON"):
        parse("ppo:{learning_rate}")


def test_a_small_run_writes_every_arm_and_seed_and_refuses_unknown_samplers(tmp_path, capsys):
    out = tmp_path / "curves.json"
    argv = ["--benchmarks", "nb201", "--arms", "random", "tpe", "--seeds", "2", "--budgets", "10", "30"]
    assert SCRIPT["main"]([*argv, "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| random |" in table and "| tpe |" in table and "best @30" in table
    runs = json.loads(out.read_text())["benchmarks"]["nb201"]["runs"]
    assert sorted((r["arm"], r["seed"]) for r in runs) == [(a, s) for a in ("random", "tpe") for s in (0, 1)]
    assert all(len(r["values"]) == 30 and r["values"] == r["scores"] for r in runs)  # the table is noiseless
    random_best = [max(r["values"][:10]) for r in runs if r["arm"] == "random"]
    row = next(line for line in table.splitlines() if line.startswith("| random |"))
    assert row.split(" | ")[1].startswith(f"{sum(random_best) / 2:.3f} +/- ")
    assert SCRIPT["main"](["--arms", "cmaes", "--out", str(out)]) == 2
    assert "unknown sampler 'cmaes'" in capsys.readouterr().err
