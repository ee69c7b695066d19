# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""refine_best: a share of the trials take the best trial's numeric values, moved together."""

from __future__ import annotations

import math

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
import pytest

from .. import PPOLSTMSampler
from ..draws import step_from_best
from ..draws import values_of
from ..memory import BestTrial
from ..memory import Memory
from ..space import action_of
from .test_local_values import _entry


def test_the_memory_keeps_the_best_numeric_trial_through_a_checkpoint() -> None:
    memory = Memory(elite_size=2)
    memory.add(_entry(0, 0.5, (1, 3)), [None, 0.2])
    memory.add(_entry(1, 0.9, (2, 4)), [None, 0.7])
    memory.add(_entry(2, 0.4, (0, 1)), [None, 0.1])  # worse: the best stays
    memory.add(_entry(3, 0.95, (0, 4)))  # better, but no numeric value: not a best to step from
    assert memory.best == BestTrial(0.9, (2, 4), (None, 0.7), None)
    restored = Memory(elite_size=2)
    state = memory.state()
    restored.load(state)
    assert restored.best == memory.best
    restored.load({k: v for k, v in state.items() if k != "best"})  # a checkpoint from before
    assert restored.best is None


def test_a_step_moves_every_numeric_value_the_best_used_by_one_scale() -> None:
    best = BestTrial(0.9, (2, 5, 7), (None, 0.5, 0.25), None)
    rng = np.random.RandomState(0)
    offsets = []
    for _ in range(2000):
        stepped = step_from_best(best, (2, 0, 0), 1.0, rng)
        assert sorted(stepped) == [1, 2]  # the categorical decision 0 keeps the rollout's
        assert (stepped[1][0], stepped[2][0]) == (5, 7)
        offsets.append((stepped[1][1] - 0.5, stepped[2][1] - 0.25))
    a, b = np.abs(np.array(offsets)).T
    assert 0 < np.median(a) < 0.2 and 0 < np.median(b) < 0.2
    # one scale for both: their sizes go together (independent scales: about 0)
    assert np.corrcoef(np.log(a), np.log(b))[0, 1] > 0.5
    state = rng.get_state()[1].copy()
    assert step_from_best(best, (2, 0, 0), 0.0, rng) == {}
    assert step_from_best(best, (1, 5, 7), 1.0, rng) == {}  # another choice
    assert step_from_best(None, (2, 0, 0), 1.0, rng) == {}
    assert (rng.get_state()[1] == state).all()  # nothing drawn: other spaces keep their bits


SPACE = {
    "op": CategoricalDistribution(("a", "b", "c")),
    "x": FloatDistribution(0.0, 1.0),
    "lr": FloatDistribution(1e-5, 1.0, log=True),
}


def _values(actions, best=None, refine_best=0.0, seed=0):
    rng = np.random.RandomState(seed)
    return values_of(SPACE, actions, 10, rng, "local", lambda t, a: None, best, refine_best)


def test_a_trial_with_the_best_ones_choices_steps_from_its_numeric_values() -> None:
    best = BestTrial(1.0, (0, 3, 6), (None, 0.5, 0.5), None)
    for seed in range(50):
        values = _values([0, 9, 0], best, 1.0, seed)
        assert values["op"] == "a"
        assert abs(action_of(SPACE["x"], values["x"], 10) - 3) <= 1  # type: ignore[operator]
        assert abs(action_of(SPACE["lr"], values["lr"], 10) - 6) <= 1  # type: ignore[operator]
    # another choice (the best x may move with it): the rollout's intervals, drawn as usual
    assert _values([2, 9, 0], best, 1.0) == _values([2, 9, 0])
    assert _values([0, 9, 0], best, 0.0) == _values([0, 9, 0])


def test_a_choice_the_best_did_not_use_need_not_agree() -> None:
    best = BestTrial(1.0, (0, 3, 6), (None, 0.5, 0.5), (False, True, True))  # another branch's
    values = _values([2, 9, 0], best, 1.0)
    assert values["op"] == "c" and action_of(SPACE["x"], values["x"], 10) in (2, 3, 4)


def _two_floats(trial) -> float:
    depth = trial.suggest_float("depth", 0.0, 1.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    return -abs(depth - 0.8) - abs(math.log10(lr) + 1 + 2.5 * depth)  # a ridge


def test_with_refine_best_1_every_trial_after_the_first_update_steps_from_the_best() -> None:
    sampler = PPOLSTMSampler(seed=0, refine_best=1.0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_two_floats, n_trials=40)
    trials = study.trials
    space = trials[0].distributions
    moved = 0
    for trial in trials[5:]:
        learned = trials[: 5 * (trial.number // 5)]  # the batches learned before its ask
        best = max(learned, key=lambda t: t.value)
        for name, distribution in space.items():
            at = action_of(distribution, trial.params[name], 10)
            assert abs(at - action_of(distribution, best.params[name], 10)) <= 1  # type: ignore[operator]
        moved += trial.params != best.params
    assert moved == len(trials) - 5  # a new point each time, not a copy
    assert study.best_value > max(t.value for t in trials[:5])  # and it climbs


def test_on_an_all_categorical_space_refine_best_changes_nothing() -> None:
    space = {f"c{i}": CategoricalDistribution(tuple(range(4))) for i in range(4)}

    def objective(trial) -> float:
        return float(sum(trial.suggest_categorical(n, d.choices) for n, d in space.items()))

    params = []
    for refine_best in (0.0, 0.3):
        sampler = PPOLSTMSampler(seed=0, search_space=space, refine_best=refine_best)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=40)
        params.append([t.params for t in study.trials])
    assert params[0] == params[1]


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.3", True])
def test_a_bad_refine_best_is_refused(value) -> None:
    with pytest.raises(ValueError, match="refine_best must"):
        PPOLSTMSampler(refine_best=value)
