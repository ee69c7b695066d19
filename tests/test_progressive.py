"""PNAS's progressive space: cells of 1..B blocks as trials of one study, and nas-worker growing them."""

from __future__ import annotations

from collections import Counter

import numpy as np
import optuna
import pytest
import torch
from nas_optuna.objectives import SyntheticObjective
from optuna.trial import TrialState

from nas_optuna import build_network, random_genotype
from nas_optuna.progressive import cell_growth
from nas_optuna.space import (
    SIZE_PARAM,
    genotype_from_params,
    params_from_genotype,
    pnas_space,
    suggest_params,
)
from nas_optuna.storage_url import open_storage
from nas_optuna.worker import main

SPACE = pnas_space(progressive=True)


def test_the_size_comes_first_and_picks_the_blocks_a_trial_holds():
    assert list(SPACE)[0] == SIZE_PARAM and SPACE[SIZE_PARAM].choices == (1, 2, 3, 4, 5)
    assert {k: v for k, v in SPACE.items() if k != SIZE_PARAM} == pnas_space()
    study = optuna.create_study()
    study.enqueue_trial({SIZE_PARAM: 2})
    trial = study.ask()
    params = suggest_params(trial, SPACE)
    assert set(params) == set(trial.params) and len(params) == 1 + 2 * 4
    assert {int(n.split("_b")[1][0]) for n in params if n != SIZE_PARAM} == {0, 1}


@pytest.mark.parametrize("seed", range(6))
def test_cells_of_every_size_round_trip(seed):
    genotype = random_genotype(seed, SPACE)
    params = params_from_genotype(genotype, SPACE)
    assert params[SIZE_PARAM] == len(genotype.normal.blocks)
    assert genotype_from_params(params, SPACE) == genotype
    small = {**params, SIZE_PARAM: 1}  # decisions of blocks the cell lacks are ignored
    assert genotype_from_params(small, SPACE).normal.blocks == genotype.normal.blocks[:1]


def test_a_missing_decision_of_the_cells_own_blocks_is_named():
    params = params_from_genotype(random_genotype(0, pnas_space(2)), pnas_space(2))
    with pytest.raises(ValueError, match="missing parameter 'cell_b1_op_b'"):
        genotype_from_params(
            {SIZE_PARAM: 2, **{k: v for k, v in params.items() if k != "cell_b1_op_b"}}, SPACE
        )
    with pytest.raises(ValueError, match="cell_n_blocks"):
        genotype_from_params({SIZE_PARAM: 6, **params}, SPACE)


def test_a_small_cell_builds_and_trains():
    genotype = genotype_from_params(
        {SIZE_PARAM: 1, **params_from_genotype(random_genotype(2, pnas_space(1)), pnas_space(1))}, SPACE
    )
    assert len(genotype.normal.blocks) == 1
    model = build_network(genotype, n_cells=1, filters=4)
    loss = model(torch.randn(2, 3, 32, 32))[0].sum()
    loss.backward()
    assert torch.isfinite(loss)


def test_growth_of_the_space_is_pnas_first_stage():
    growth = cell_growth(SPACE)
    assert growth.n_blocks == 5 and len(growth.expansions(0)) == 136  # PNAS's B_1 = 136 cells
    with pytest.raises(ValueError, match="not a progressive space"):
        cell_growth(pnas_space())


def test_synthetic_target_is_scored_per_network_not_per_operand_order():
    fixed = SyntheticObjective(pnas_space(), target_seed=4, noise=0.0)
    grown = SyntheticObjective(SPACE, target_seed=4, noise=0.0)
    assert fixed.target == grown.target and grown.score(grown.target) == 1.0
    swapped = dict(fixed.target)
    for x, y in (("in_a", "in_b"), ("op_a", "op_b")):
        swapped[f"cell_b3_{x}"], swapped[f"cell_b3_{y}"] = (
            fixed.target[f"cell_b3_{y}"],
            fixed.target[f"cell_b3_{x}"],
        )
    assert fixed.score(swapped) == 1.0  # (a, b) and (b, a) are one block: add commutes
    first_block = {SIZE_PARAM: 1, **{k: v for k, v in fixed.target.items() if "_b0_" in k}}
    assert grown.score(first_block) == pytest.approx(4 / 20)  # blocks a cell lacks are misses


def _config(tmp_path, extra: str = "") -> str:
    path = tmp_path / "grow.toml"
    path.write_text(
        '[space]\npreset = "pnas"\nprogressive = true\n\n'
        '[objective]\nname = "synthetic"\nnoise = 0.0\nsleep_seconds = 0.01\n\n'
        "[sampler.pnas]\ngrowth_beam_size = 3\n" + extra
    )
    return str(path)


def _argv(tmp_path, sampler="pnas", n_trials="150", *extra):
    return [
        "--storage", str(tmp_path / "study.log"), "--study-name", "grow", "--study-config", _config(tmp_path),
        "--sampler", sampler, "--n-trials", n_trials, "--create-study", *extra,
    ]  # fmt: skip


def test_two_workers_grow_cells_stage_by_stage(tmp_path, caplog):
    with caplog.at_level("INFO"):
        assert main(_argv(tmp_path, "pnas", "150", "--seed", "0", "--processes", "2")) == 0
    assert "workers exited with codes [0, 0]" in caplog.text
    study = optuna.load_study(study_name="grow", storage=open_storage(str(tmp_path / "study.log")))
    # (a worker that asks once the budget is spent gets a FAIL "over budget" trial, no params)
    trials = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.number)
    assert len(trials) == 150
    counts = Counter(t.params[SIZE_PARAM] for t in trials)
    assert 136 <= counts[1] <= 138 and min(counts[b] for b in (2, 3, 4)) >= 2 and counts[5] >= 1
    assert [t.params for t in trials if len(t.params) != 1 + 4 * t.params[SIZE_PARAM]] == []
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    assert max(t.value for t in trials) > max(t.value for t in trials[:136])
    assert np.isclose(
        max(t.value for t in trials[:136]), max(t.value for t in trials if t.params[SIZE_PARAM] == 1)
    )


def test_a_sampler_that_cannot_follow_the_conditional_space_is_refused(tmp_path, capsys):
    assert main(_argv(tmp_path, "ppo", "5")) == 2
    err = capsys.readouterr().err
    assert "progressive = true" in err and "--sampler ppo needs the fixed space" in err
    assert err.count("\n") == 1
    assert main(_argv(tmp_path, "random", "5")) == 0  # random search draws the conditional space


def test_the_pairwise_reward_refuses_a_progressive_space():
    from nas_optuna.objectives import PairwiseObjective

    with pytest.raises(ValueError, match="drop progressive"):
        PairwiseObjective(SPACE)
