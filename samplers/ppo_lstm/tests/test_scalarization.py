# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Multi-objective studies: PPO learns from a declared scalarization of the values, or refuses."""

from __future__ import annotations

import optuna
import pytest

from .. import PPOLSTMSampler
from ..rewards import scalarize
from ._toy import toy_objective
from ._toy import TOY_SPACE


MAX, MIN = optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE


def _two_values(trial):
    score = toy_objective(trial)
    cost = sum(v == "d" for v in trial.params.values())  # a count of one choice, to minimise
    return score, float(cost)


def _study(scalarization, n_trials=9):
    sampler = PPOLSTMSampler(
        search_space=TOY_SPACE, seed=0, batch_size=4, scalarization=scalarization
    )
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(_two_values, n_trials=n_trials)
    return study


def _batch_mean(study, update, reward):
    batch = [t for t in study.trials if t.number < 4 * update["policy_version"]][-4:]
    return sum(reward(t.values) for t in batch) / 4


def test_weights_count_each_value_in_its_better_direction():
    assert scalarize([0.5, 3.0], [MAX, MIN], [2.0, 0.1]) == pytest.approx(1.0 - 0.3)
    assert scalarize([0.5, 3.0], [MAX, MAX], [2.0, 0.1]) == pytest.approx(1.0 + 0.3)
    assert scalarize([0.5], [MIN], None) == -0.5


def test_ppo_learns_from_the_weighted_values():
    study = _study([1.0, 0.05])
    updates = PPOLSTMSampler.diagnostics(study)
    assert len(updates) == 2
    for update in updates:
        expected = _batch_mean(study, update, lambda v: v[0] - 0.05 * v[1])
        assert update["mean_reward"] == pytest.approx(expected)


def test_ppo_learns_from_a_callable_of_the_values():
    study = _study(lambda values: values[0] * 10 - values[1] ** 2)
    [first, *_] = PPOLSTMSampler.diagnostics(study)
    assert first["mean_reward"] == pytest.approx(
        _batch_mean(study, first, lambda v: v[0] * 10 - v[1] ** 2)
    )


def test_without_a_scalarization_the_study_is_refused_naming_the_argument():
    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=PPOLSTMSampler(search_space=TOY_SPACE)
    )
    with pytest.raises(ValueError, match=r"Pass scalarization=\[w_1, ..., w_k\]"):
        study.optimize(_two_values, n_trials=1)


@pytest.mark.parametrize(
    ("scalarization", "message"),
    [
        ("accuracy", "a list of weights"),
        ([1.0, float("nan")], "finite numbers"),
        ([1.0, True], "finite numbers"),
        ([1.0], "one weight per objective"),
    ],
)
def test_bad_scalarizations_are_refused_at_construction(scalarization, message):
    with pytest.raises(ValueError, match=message):
        PPOLSTMSampler(search_space=TOY_SPACE, scalarization=scalarization)


def test_weights_of_the_wrong_length_for_the_study_are_refused():
    sampler = PPOLSTMSampler(search_space=TOY_SPACE, scalarization=[1.0, 1.0, 1.0])
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    with pytest.raises(ValueError, match="3 weights, but this study has 2 objectives"):
        study.optimize(_two_values, n_trials=1)
