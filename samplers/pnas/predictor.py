"""The surrogate: an ensemble of small MLP regressors on the architecture's tokens (PNAS, Sec. 3.3).

PNAS fits an ensemble of 5 predictors, each on a different 4/5 of the trained models, with an
L1 loss, and ranks candidates by the ensemble's mean. Here the 5 MLPs are one batched network
(weights with a leading ensemble axis), so one step is a few small matrix products for all.
Inputs are one-hot tokens, one block per decision (all zeros when a trial lacks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import contextlib
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution


class TokenEncoder:
    """Maps params to choice indices (-1: the trial lacks that decision) and those to one-hot rows."""

    def __init__(self, decisions: Mapping[str, CategoricalDistribution]) -> None:
        self.decisions = dict(decisions)
        self.sizes = np.array([len(d.choices) for d in self.decisions.values()])
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.width = int(self.sizes.sum())

    def indices(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        out = np.full((len(rows), len(self.decisions)), -1, dtype=np.int64)
        for i, params in enumerate(rows):
            for j, (name, d) in enumerate(self.decisions.items()):
                if name in params:
                    with contextlib.suppress(ValueError):  # a value outside the choices: no token
                        out[i, j] = d.to_internal_repr(params[name])
        return out

    def one_hot(self, indices: np.ndarray) -> np.ndarray:
        out = np.zeros((len(indices), self.width), dtype=np.float32)
        rows, cols = np.nonzero(indices >= 0)
        out[rows, self.offsets[cols] + indices[rows, cols]] = 1.0
        return out

    def params(self, indices: np.ndarray) -> dict[str, Any]:
        pairs = zip(self.decisions.items(), indices, strict=True)
        return {name: d.choices[int(i)] for (name, d), i in pairs if i >= 0}

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.one_hot(self.indices(rows))


class Ensemble:
    """`size` MLPs (one hidden layer, ReLU) trained on different folds; predicts mean and spread.

    NumPy with the gradient written out: for networks this small, per-op overhead is much of
    the cost; torch autograd took 2.6x as long per step at 40 one-hot inputs and the same at
    360 (the NASNet space), so NumPy costs nothing and spares the package a torch dependency
    (BENCHMARKS.md 6(d)).
    """

    def __init__(
        self,
        width: int,
        *,
        size: int = 5,
        hidden: int = 32,
        steps: int = 100,
        batch_size: int = 128,
        lr: float = 0.01,
        seed: int = 0,
    ) -> None:
        self.size, self.steps, self.batch_size, self.lr = size, steps, batch_size, lr
        self._rng = rng = np.random.default_rng(seed)
        self.params = [
            rng.uniform(-1, 1, (size, width, hidden)).astype(np.float32) / np.sqrt(max(width, 1)),
            np.zeros((size, 1, hidden), np.float32),
            rng.uniform(-1, 1, (size, hidden, 1)).astype(np.float32) / np.sqrt(hidden),
            np.zeros((size, 1, 1), np.float32),
        ]
        self.mean, self.scale = 0.0, 1.0

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # (N, width) -> (size, N)
        w1, b1, w2, b2 = self.params
        hidden = np.maximum(np.matmul(x, w1) + b1, 0.0)
        return (np.matmul(hidden, w2) + b2)[..., 0], hidden

    def fit(self, x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> None:
        """Model k leaves out the rows whose fold is k (all rows when there is one model)."""
        self.mean = float(np.mean(y))
        self.scale = float(np.std(y)) or 1.0
        target = ((y - self.mean) / self.scale).astype(np.float32)
        keep = np.ones((self.size, len(y)), dtype=np.float32)
        if self.size > 1:
            keep = (folds[None, :] % self.size != np.arange(self.size)[:, None]).astype(np.float32)
        moments = [(np.zeros_like(p), np.zeros_like(p)) for p in self.params]
        for step in range(1, self.steps + 1):
            # Mini-batches: a fit costs the same at 100 trials as at 10,000.
            rows = (
                self._rng.choice(len(y), size=self.batch_size, replace=False)
                if len(y) > self.batch_size
                else slice(None)
            )
            xb, kb = x[rows], keep[:, rows]
            weights = kb / np.maximum(kb.sum(1, keepdims=True), 1.0)
            out, hidden = self._forward(xb)
            g_out = (np.sign(out - target[rows]) * weights)[
                ..., None
            ]  # d(weighted L1)/d(out), as in PNAS
            w2 = self.params[2]
            g_hidden = np.matmul(g_out, w2.transpose(0, 2, 1)) * (hidden > 0)
            grads = [
                np.matmul(xb.T[None], g_hidden),
                g_hidden.sum(1, keepdims=True),
                np.matmul(hidden.transpose(0, 2, 1), g_out),
                g_out.sum(1, keepdims=True),
            ]
            for p, g, (m, v) in zip(self.params, grads, moments, strict=True):
                _adam_step(p, g, m, v, step, self.lr)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self._forward(x)[0] * self.scale + self.mean
        return out.mean(0), out.std(0)


def _adam_step(
    p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float
) -> None:
    """Adam (0.9, 0.999, 1e-8), in place."""
    m *= 0.9
    m += 0.1 * g
    v *= 0.999
    v += 0.001 * g * g
    p -= (lr * (1 - 0.999**t) ** 0.5 / (1 - 0.9**t)) * m / (np.sqrt(v) + 1e-8)
