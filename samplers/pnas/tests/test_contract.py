# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Optuna's public sampler contract, run on PNASSampler."""

from __future__ import annotations

from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import RelativeSamplerTestCase
from optuna.testing.pytest_samplers import SingleOnlySamplerTestCase
import pytest

from .. import PNASSampler


class TestPNASSampler(BasicSamplerTestCase, RelativeSamplerTestCase, SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self):
        # Two random trials, a small fast ensemble: the contract's short studies use the predictor.
        return lambda: PNASSampler(
            seed=0, n_startup_trials=2, fit_steps=5, hidden_size=4, refit_every=1
        )
