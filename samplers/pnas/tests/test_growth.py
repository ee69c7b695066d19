# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Progressive growth (PNAS, Alg. 1): every 1-block cell, then the K best grown one block per stage."""

from __future__ import annotations

from collections import Counter

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution
import pytest

from .. import CellGrowth
from .. import PNASSampler
from ..growth import BlockMeanEncoder
from ._toy import growing_objective
from ._toy import toy_growth


optuna.logging.set_verbosity(optuna.logging.WARNING)
K = 4


def _target(growth, seed=0):
    rng = np.random.RandomState(seed)
    names = [n for b in range(growth.n_blocks) for n in growth.block_names(b)]
    return {
        n: growth.distributions[n].choices[rng.randint(len(growth.distributions[n].choices))]
        for n in names
    }


def _grow(n_trials, seed=0):
    growth = toy_growth()
    sampler = PNASSampler(growth=growth, growth_beam_size=K, seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(growing_objective(growth, _target(growth)), n_trials=n_trials)
    return growth, sorted(study.trials, key=lambda t: t.number)


def test_first_blocks_are_every_unordered_pair_of_operands_once() -> None:
    growth = toy_growth()
    rows = growth.expansions(0)
    operands = 2 * 4  # inputs {0, 1} x 4 ops
    assert len(rows) == operands * (operands + 1) // 2  # 36, as PNAS's 136 of 256 on its space
    assert len({r.tobytes() for r in rows}) == len(rows)
    assert all(tuple(r[:2]) <= tuple(r[2:]) for r in rows)


def test_stages_train_all_small_cells_then_grow_the_best_by_one_block() -> None:
    growth, trials = _grow(36 + K + K + 10)
    sizes = [t.params["size"] for t in trials]
    assert sizes == [1] * 36 + [2] * K + [3] * K + [3] * 10
    first = [tuple(sorted(t.params.items())) for t in trials[:36]]
    assert len(set(first)) == 36  # every 1-block cell, once
    best_small = sorted(trials[:36], key=lambda t: -t.value)
    threshold = best_small[K - 1].value
    for grown in trials[36 : 36 + K]:  # a 2-block cell extends one of the K best 1-block cells
        parent = {n: grown.params[n] for n in growth.block_names(0)}
        match = [t for t in trials[:36] if all(t.params[n] == v for n, v in parent.items())]
        assert match and match[0].value >= threshold
    keys = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(keys)) == len(keys)  # no cell twice, before or after the last stage
    assert all(len(t.params) == 1 + 4 * t.params["size"] for t in trials)


def test_growth_is_reproducible_and_learns() -> None:
    _, first = _grow(90, seed=3)
    _, second = _grow(90, seed=3)
    assert [t.params for t in first] == [t.params for t in second]
    grown = [t.value for t in first if t.params["size"] == 3]
    assert max(grown) > max(t.value for t in first[:36]) + 0.3


def test_block_mean_input_is_the_same_for_one_block_at_any_position() -> None:
    growth = toy_growth()
    encoder = BlockMeanEncoder(growth)
    one = {"size": 1, "b0_in_x": 1, "b0_op_x": "c", "b0_in_y": 0, "b0_op_y": "a"}
    moved = {"size": 2, **{k: v for k, v in one.items() if k != "size"}}
    moved.update({"b1_in_x": 1, "b1_op_x": "c", "b1_in_y": 0, "b1_op_y": "a"})
    x = encoder.encode([one, moved])
    mean_width = growth.n_blocks + 2 * (4 + 4)  # sizes, then per token the widest choices
    assert np.array_equal(x[0, growth.n_blocks : mean_width], x[1, growth.n_blocks : mean_width])
    assert not np.array_equal(x[0], x[1])  # the size and the positions still differ


@pytest.mark.parametrize(
    "change, message",
    [
        ({"size": CategoricalDistribution((1, 2))}, "choices \\[1, 2, 3\\]"),
        ({"b0_op_x": IntDistribution(0, 3)}, "needs a CategoricalDistribution"),
        ({"b1_in_y": CategoricalDistribution((0, 1))}, "interchangeable"),
    ],
)
def test_bad_growths_are_refused_with_the_parameter_named(change, message) -> None:
    growth = toy_growth()
    with pytest.raises(ValueError, match=message):
        CellGrowth(growth.size_param, growth.blocks, {**growth.distributions, **change})
    with pytest.raises(ValueError, match="growth must be a CellGrowth"):
        PNASSampler(growth={"size": 3})  # type: ignore[arg-type]


def test_sizes_counted_from_the_storage_whatever_the_sampler_that_ran_them() -> None:
    growth = toy_growth()
    study = optuna.create_study(direction="maximize")
    objective = growing_objective(growth, _target(growth))
    study.enqueue_trial({"size": 1, "b0_in_x": 0, "b0_op_x": "a", "b0_in_y": 0, "b0_op_y": "a"})
    study.optimize(objective, n_trials=1)
    study.sampler = PNASSampler(growth=growth, growth_beam_size=K, seed=0)
    study.optimize(objective, n_trials=36)
    assert Counter(t.params["size"] for t in study.trials) == {1: 36, 2: 1}
