# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Optuna's public sampler contract, run on PPOLSTMSampler."""

from __future__ import annotations

from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import RelativeSamplerTestCase
from optuna.testing.pytest_samplers import SingleOnlySamplerTestCase
import pytest

from .. import PPOLSTMSampler


class TestPPOLSTMSampler(BasicSamplerTestCase, RelativeSamplerTestCase, SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self):
        # Small batches so that the contract's short studies also run policy updates.
        return lambda: PPOLSTMSampler(seed=0, batch_size=2, hidden_size=8, embedding_size=4)
