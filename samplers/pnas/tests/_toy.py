# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""A small categorical problem with a hidden target, for the sampler's own tests."""

from __future__ import annotations

import optuna
from optuna.distributions import CategoricalDistribution


TOY_SPACE = {f"d{i}": CategoricalDistribution(tuple("abcd")) for i in range(10)}
TARGET = {name: "abcd"[(3 * i + 1) % 4] for i, name in enumerate(TOY_SPACE)}


def score(params: dict) -> float:
    """Fraction of decisions equal to the hidden target (random search averages 0.25)."""
    return sum(params.get(name) == value for name, value in TARGET.items()) / len(TARGET)


def toy_objective(trial: optuna.Trial) -> float:
    return score(
        {name: trial.suggest_categorical(name, d.choices) for name, d in TOY_SPACE.items()}
    )


def toy_growth(n_blocks: int = 3, ops: str = "abcd"):  # type: ignore[no-untyped-def]
    """A PNAS-like cell: block b adds two (input, op) operands, inputs 0..b+1."""
    from ..growth import CellGrowth

    dists = {"size": CategoricalDistribution(tuple(range(1, n_blocks + 1)))}
    blocks = []
    for b in range(n_blocks):
        for x in "xy":
            dists[f"b{b}_in_{x}"] = CategoricalDistribution(tuple(range(b + 2)))
            dists[f"b{b}_op_{x}"] = CategoricalDistribution(tuple(ops))
        blocks.append(((f"b{b}_in_x", f"b{b}_op_x"), (f"b{b}_in_y", f"b{b}_op_y")))
    return CellGrowth("size", tuple(blocks), dists)


def growing_objective(growth, target):  # type: ignore[no-untyped-def]
    """Suggests the size, then that many blocks; scores matches with ``target``."""

    def objective(trial: optuna.Trial) -> float:
        size = trial.suggest_categorical(growth.size_param, growth.distributions["size"].choices)
        params = {
            n: trial.suggest_categorical(n, growth.distributions[n].choices)
            for b in range(size)
            for n in growth.block_names(b)
        }
        return sum(params.get(n) == v for n, v in target.items()) / len(target)

    return objective
