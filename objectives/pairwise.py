"""A synthetic reward with interactions: a seeded random pairwise model on the space.

The hidden-target reward scores each decision on its own, which flatters a sampler that
models decisions independently. Here every decision also has a partner, and a random table
scores each pair of their values, so the best value of one decision depends on another's.
Partners form a random tree over the decisions (drawn over a shuffled order, so partners are
rarely neighbours in the space's order); on a tree the exact optimum and minimum are found by
dynamic programming, which puts the reward on a known scale: 0 = worst architecture,
1 = best. Seeded by ``landscape_seed``; optional Gaussian noise on top.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution

from nas_optuna.genotype import genotype_user_attrs
from nas_optuna.space import SIZE_PARAM, genotype_from_params

from .settings import ANY_INT, check_settings, number

RULES = {
    "landscape_seed": ANY_INT,
    "unary_weight": number(lambda v: v >= 0, ">= 0"),
    "noise": number(lambda v: v >= 0, ">= 0"),
    "sleep_seconds": number(lambda v: v >= 0, ">= 0"),
}


class PairwiseObjective:
    def __init__(
        self,
        space: Mapping[str, CategoricalDistribution],
        *,
        landscape_seed: int = 0,
        unary_weight: float = 0.5,
        noise: float = 0.0,
        sleep_seconds: float = 0.0,
    ) -> None:
        check_settings(  # Python callers too: a wrong type fails here, not in the first trial
            "pairwise synthetic objective",
            dict(
                landscape_seed=landscape_seed,
                unary_weight=unary_weight,
                noise=noise,
                sleep_seconds=sleep_seconds,
            ),
            RULES,
        )
        self.space = dict(space)
        self.names = list(self.space)
        if SIZE_PARAM in self.space:
            raise ValueError(
                "pairwise objective: its pairs need every decision in every trial; a progressive "
                "space's small cells lack some. Use the synthetic objective, or drop progressive"
            )
        if len(self.names) < 2:
            raise ValueError("pairwise objective: the space needs at least 2 decisions")
        self.noise = noise
        self.sleep_seconds = sleep_seconds
        rng = np.random.default_rng(landscape_seed)
        sizes = [len(d.choices) for d in self.space.values()]
        self.unary = [unary_weight * rng.standard_normal(k) for k in sizes]
        order = rng.permutation(len(sizes))
        # (child, parent) pairs: each decision after the first in `order` joins an earlier one.
        self.edges = [(int(order[t]), int(order[rng.integers(t)])) for t in range(1, len(order))]
        self.pair = [rng.standard_normal((sizes[c], sizes[p])) for c, p in self.edges]
        self.root = int(order[0])
        self._low, _ = self._extreme(np.min, np.argmin)
        self._high, best = self._extreme(np.max, np.argmax)
        self.optimum = {name: self.space[name].choices[i] for name, i in zip(self.names, best, strict=True)}

    def energy(self, indices) -> float:
        total = sum(u[i] for u, i in zip(self.unary, indices, strict=True))
        return float(
            total + sum(w[indices[c], indices[p]] for (c, p), w in zip(self.edges, self.pair, strict=True))
        )

    def _extreme(self, reduce, arg) -> tuple[float, list[int]]:
        """Exact max (or min) of the energy over all architectures, and an architecture reaching it."""
        best_below = [u.copy() for u in self.unary]  # best energy of a subtree, per value of its root
        choice = {}
        for (c, p), w in reversed(list(zip(self.edges, self.pair, strict=True))):  # children before parents
            joint = w + best_below[c][:, None]  # rows: child's value, columns: parent's value
            choice[c] = arg(joint, axis=0)
            best_below[p] = best_below[p] + reduce(joint, axis=0)
        indices = [0] * len(self.unary)
        indices[self.root] = int(arg(best_below[self.root]))
        for c, p in self.edges:  # parents before children
            indices[c] = int(choice[c][indices[p]])
        return float(reduce(best_below[self.root])), indices

    def score(self, params: Mapping) -> float:
        """Noiseless reward in [0, 1]: 0 for the worst architecture, 1 for the best."""
        indices = [self.space[n].choices.index(params[n]) for n in self.names]
        return (self.energy(indices) - self._low) / (self._high - self._low)

    def __call__(self, trial: optuna.Trial) -> float:
        start = time.perf_counter()
        params = {name: trial.suggest_categorical(name, d.choices) for name, d in self.space.items()}
        if self.sleep_seconds:
            time.sleep(self.sleep_seconds)
        for key, value in genotype_user_attrs(genotype_from_params(params, self.space)).items():
            trial.set_user_attr(key, value)
        rng = np.random.default_rng(trial.number)  # noise reproducible per trial number
        value = self.score(params) + self.noise * float(rng.standard_normal())
        trial.set_user_attr("train_seconds", time.perf_counter() - start)
        return value
