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
