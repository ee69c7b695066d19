"""A cheap objective with a known optimum, to test and benchmark samplers and workers.

A hidden target architecture is drawn from the space by seed; the reward is the fraction of
decisions that match it, plus Gaussian noise. It needs no data and no training, yet has the
structure of the real problem (categorical decisions, noisy reward). In a space whose blocks
add their two operands (PNAS's), a block scores its better operand order: (a, b) and (b, a)
are one network. A progressive space's smaller cells lack decisions: they count as misses.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution

from nas_optuna.genotype import genotype_user_attrs
from nas_optuna.space import SIZE_PARAM, adding_blocks, genotype_from_params, suggest_params

from .settings import ANY_INT, check_settings, number

RULES = {
    "target_seed": ANY_INT,
    "noise": number(lambda v: v >= 0, ">= 0"),
    "sleep_seconds": number(lambda v: v >= 0, ">= 0"),
}


class SyntheticObjective:
    def __init__(
        self,
        space: Mapping[str, CategoricalDistribution],
        *,
        target_seed: int = 0,
        noise: float = 0.05,
        sleep_seconds: float = 0.0,
    ) -> None:
        check_settings(
            "synthetic objective",
            {"target_seed": target_seed, "noise": noise, "sleep_seconds": sleep_seconds},
            RULES,
        )
        self.space = dict(space)
        rng = np.random.default_rng(target_seed)
        self.target = {
            name: dist.choices[rng.integers(len(dist.choices))]
            for name, dist in self.space.items()
            if name != SIZE_PARAM  # the size is no decision of the target's cell
        }
        self.noise = noise
        self.sleep_seconds = sleep_seconds
        self._operand_pairs = adding_blocks(self.space)

    def score(self, params: Mapping) -> float:
        """Fraction of decisions equal to the hidden target (no noise)."""
        hits = {name: params.get(name) == value for name, value in self.target.items()}
        total = sum(hits.values())
        for a, b in self._operand_pairs:  # an adding block: its better operand order
            swapped = sum(
                params.get(mine) == self.target[theirs] for mine, theirs in zip(a + b, b + a, strict=True)
            )
            total += max(0, swapped - sum(hits[n] for n in a + b))
        return total / len(self.target)

    def __call__(self, trial: optuna.Trial) -> float:
        start = time.perf_counter()
        params = suggest_params(trial, self.space)
        if self.sleep_seconds:
            time.sleep(self.sleep_seconds)  # stands in for training time in queue tests
        for key, value in genotype_user_attrs(genotype_from_params(params, self.space)).items():
            trial.set_user_attr(key, value)
        rng = np.random.default_rng(trial.number)  # noise reproducible per trial number
        value = self.score(params) + self.noise * float(rng.standard_normal())
        trial.set_user_attr("train_seconds", time.perf_counter() - start)
        return value
