"""How much of a synthetic reward an additive model explains: the share left is interactions.

Fits one weight per (decision, choice) by least squares on random architectures and reports
R^2 on held-out random architectures. The hidden-target reward is additive (R^2 = 1); the
pairwise one is not.

    python benchmarks/landscape_additivity.py --seeds 3
"""

from __future__ import annotations

import argparse

import numpy as np
from nas_optuna.objectives import PairwiseObjective, SyntheticObjective

from nas_optuna import nasnet_space


def additive_r2(objective, space, rng, n_fit: int, n_test: int) -> float:
    sizes = [len(d.choices) for d in space.values()]
    offsets = np.cumsum([0, *sizes[:-1]])
    rows, values = [], []
    for _ in range(n_fit + n_test):
        idx = [int(rng.integers(k)) for k in sizes]
        row = np.zeros(sum(sizes))
        row[offsets + idx] = 1.0
        rows.append(row)
        values.append(
            objective.score({n: d.choices[i] for (n, d), i in zip(space.items(), idx, strict=True)})
        )
    x, y = np.array(rows), np.array(values)
    weights, *_ = np.linalg.lstsq(x[:n_fit], y[:n_fit], rcond=None)
    residual = y[n_fit:] - x[n_fit:] @ weights
    return 1.0 - residual.var() / y[n_fit:].var()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--fit", type=int, default=5000)
    parser.add_argument("--test", type=int, default=1000)
    args = parser.parse_args()
    space = nasnet_space()
    for name, make in (
        ("hidden", lambda s: SyntheticObjective(space, target_seed=s, noise=0.0)),
        ("pairwise", lambda s: PairwiseObjective(space, landscape_seed=s)),
    ):
        r2 = [
            additive_r2(make(s), space, np.random.default_rng(s), args.fit, args.test)
            for s in range(args.seeds)
        ]
        print(
            f"{name}: additive R^2, held-out random architectures {np.mean(r2):.3f} (seeds {np.round(r2, 3)})"
        )


if __name__ == "__main__":
    main()
