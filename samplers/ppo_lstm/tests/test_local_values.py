# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""numeric_value="local": inside the interval the policy chose, draws around the best value seen."""

from __future__ import annotations

import math

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
import pytest

from .. import PPOLSTMSampler
from ..draws import local_position
from ..memory import Entry
from ..memory import Memory
from ..space import action_of
from ..space import n_actions
from ..space import position_of
from ..space import value_of
from .test_numeric_conditional import KINDS


@pytest.mark.parametrize("name", KINDS)
def test_a_local_value_lies_in_its_interval_or_a_neighbour_and_maps_back(name) -> None:
    distribution, bins = KINDS[name], 10
    rng = np.random.RandomState(0)
    n = n_actions(distribution, bins)
    moved = 0
    for action in range(n):
        for near in (0.0, 0.3, 0.999) * 20:
            value = value_of(distribution, action, bins, rng, local_position(near, rng))
            assert distribution._contains(distribution.to_internal_repr(value))
            landed = action_of(distribution, value, bins)
            assert landed is not None and abs(landed - action) <= 1
            moved += landed != action
            assert 0 <= position_of(distribution, value, landed, bins) < 1
        centre = value_of(distribution, action, bins, rng, 0.5)
        if distribution.step is None and not isinstance(distribution.low, int):
            assert position_of(distribution, centre, action, bins) == pytest.approx(0.5)
    assert 0 < moved < n * 60 / 2  # from a best value at an edge, up to half step across it


def test_a_uniform_value_is_found_at_the_position_it_was_drawn_at() -> None:
    distribution, bins = FloatDistribution(1e-5, 1.0, log=True), 10
    width = (math.log(1.0) - math.log(1e-5)) / bins
    for action, u in [(0, 0.25), (4, 0.5), (9, 0.9)]:
        value = math.exp(math.log(1e-5) + (action + u) * width)
        assert position_of(distribution, value, action, bins) == pytest.approx(u)


def test_local_draws_gather_around_the_position_at_most_one_interval_away() -> None:
    rng = np.random.RandomState(0)
    for near in (0.0, 0.42, 0.999):
        draws = np.array([local_position(near, rng) for _ in range(2000)])
        assert draws.min() >= -1 and draws.max() < 2
        inside = np.mean((draws >= 0) & (draws < 1))
        assert (0.4 if near in (0.0, 0.999) else 0.9) < inside < 1  # across an edge at times
        assert np.median(np.abs(draws - near)) < 0.05  # mostly close ...
        assert np.mean(np.abs(draws - near) > 0.2) > 0.05  # ... with some coarse moves
        assert np.mean(np.abs(draws - near) < 0.005) > 0.05  # ... and some very fine ones


def _entry(number: int, reward: float, actions: tuple[int, ...]) -> Entry:
    return Entry(number, reward, 0.0, actions, None, None)


def test_the_memory_keeps_each_intervals_best_position_and_count_through_a_checkpoint() -> None:
    memory = Memory(elite_size=2)
    memory.add(_entry(0, 0.5, (1, 3)), [None, 0.2])
    memory.add(_entry(1, 0.9, (2, 3)), [None, 0.7])
    memory.add(_entry(2, 0.4, (2, 3)), [None, 0.1])  # worse: the position stays, the count grows
    memory.add(_entry(3, 0.6, (0, 4)))  # no positions: a categorical-only trial
    assert memory.near(1, 3) == (0.7, 3)
    assert memory.near(1, 4) is None and memory.near(0, 2) is None
    restored = Memory(elite_size=2)
    state = memory.state()
    restored.load(state)
    assert restored.best_at == memory.best_at
    older = {k: v for k, v in state.items() if k != "best_at"}  # a checkpoint from before
    restored.load(older)
    assert restored.best_at == {}


def _two_floats(trial) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    return -abs(x - 0.4137) - abs(math.log10(lr) + 2.718) / 5


def _best(numeric_value: str, seed: int) -> float:
    sampler = PPOLSTMSampler(seed=seed, numeric_value=numeric_value)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_two_floats, n_trials=400)
    return study.best_value


def test_local_values_refine_below_the_interval_width() -> None:
    local = np.mean([_best("local", seed) for seed in range(3)])
    uniform = np.mean([_best("uniform", seed) for seed in range(3)])
    assert local > uniform
    assert local > -0.005  # uniform draws in 10 intervals: about -0.012 after 400 trials


def test_a_joining_worker_draws_around_the_same_best_positions() -> None:
    study = optuna.create_study(direction="maximize")
    study.sampler = PPOLSTMSampler(seed=0, batch_size=5, checkpoint_every=2)
    study.optimize(_two_floats, n_trials=41)  # a checkpoint at version 8
    joining = PPOLSTMSampler(seed=1, batch_size=5, checkpoint_every=2)
    joining.save_policy(study, "/dev/null")
    lineages = [study.sampler._lineage, joining._lineage]  # type: ignore[attr-defined]
    first, second = (lineage.learner.memory for lineage in lineages if lineage is not None)
    assert second.best_at == first.best_at and first.best_at
