# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Optuna's public sampler contract, run on RegularizedEvolutionSampler."""

from __future__ import annotations

from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import RelativeSamplerTestCase
from optuna.testing.pytest_samplers import SingleOnlySamplerTestCase
import pytest

from .. import RegularizedEvolutionSampler


class TestRegularizedEvolutionSampler(
    BasicSamplerTestCase, RelativeSamplerTestCase, SingleOnlySamplerTestCase
):
    @pytest.fixture
    def sampler(self):
        # A tiny population, so that the contract's short studies already evolve.
        return lambda: RegularizedEvolutionSampler(seed=0, population_size=2, sample_size=2)
