# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""The predictor ensemble and the candidates it ranks."""

from __future__ import annotations

import numpy as np
from optuna.distributions import CategoricalDistribution

from ..candidates import mutations
from ..predictor import Ensemble
from ..predictor import TokenEncoder


SPACE = {f"d{i}": CategoricalDistribution(tuple(range(5))) for i in range(8)}


def test_encoder_round_trips_and_marks_missing_decisions() -> None:
    encoder = TokenEncoder(SPACE)
    rows = [{f"d{i}": (i * 3) % 5 for i in range(8)}, {"d0": 4}]
    indices = encoder.indices(rows)
    assert encoder.params(indices[0]) == rows[0]
    assert encoder.params(indices[1]) == {"d0": 4}
    hot = encoder.one_hot(indices)
    assert hot.shape == (2, 40) and hot[0].sum() == 8 and hot[1].sum() == 1 and hot[1, 4] == 1


def test_ensemble_ranks_unseen_architectures_of_an_additive_reward() -> None:
    rng = np.random.default_rng(0)
    encoder = TokenEncoder(SPACE)
    effect = rng.normal(size=encoder.width)
    indices = rng.integers(0, 5, size=(400, 8))
    x = encoder.one_hot(indices)
    y = x @ effect + 0.1 * rng.normal(size=400)
    ensemble = Ensemble(encoder.width, seed=0, steps=300)
    ensemble.fit(x[:300], y[:300], folds=np.arange(300))
    mean, spread = ensemble.predict(x[300:])
    assert np.corrcoef(mean, y[300:])[0, 1] > 0.9
    assert spread.shape == (100,) and np.all(spread >= 0) and spread.mean() > 0  # folds differ


def test_mutations_move_one_or_two_decisions_and_skip_the_seen() -> None:
    rng = np.random.RandomState(0)
    parents = np.array([[0] * 8, [1] * 8])
    sizes = np.full(8, 5)
    done = {np.array([1] + [0] * 7).tobytes()}
    running = np.array([[2, 0] + [-1] * 6])  # a running trial that has its first two params so far
    children = mutations(parents, sizes, 50, (done, running), rng)
    assert len(children) == 50 and len({c.tobytes() for c in children}) == 50
    for child in children:
        assert child.tobytes() not in done
        assert not (child[0] == 2 and child[1] == 0)
        assert min(int(np.sum(child != p)) for p in parents) in (1, 2)
