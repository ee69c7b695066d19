# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
from __future__ import annotations

import numpy as np
import optuna
import pytest

from .. import PPOLSTMSampler
from ._toy import toy_objective
from ._toy import TOY_SPACE


def _mean_of_last(sampler: optuna.samplers.BaseSampler, n_trials: int, last: int) -> float:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(toy_objective, n_trials=n_trials)
    return float(np.mean([t.value for t in study.trials[-last:]]))


def test_policy_learns_the_hidden_target_better_than_random() -> None:
    ppo = _mean_of_last(PPOLSTMSampler(search_space=TOY_SPACE, seed=1), 600, 100)
    random = _mean_of_last(optuna.samplers.RandomSampler(seed=1), 600, 100)
    assert random < 0.35
    assert ppo > random + 0.2


def test_minimize_negates_the_reward() -> None:
    def loss(trial):  # minimising the misses is maximising the hits
        return 1.0 - toy_objective(trial)

    study = optuna.create_study(
        direction="minimize", sampler=PPOLSTMSampler(search_space=TOY_SPACE, seed=1)
    )
    study.optimize(loss, n_trials=600)
    assert np.mean([t.value for t in study.trials[-100:]]) < 0.5
    assert PPOLSTMSampler.diagnostics(study)[-1]["mean_reward"] < 0  # reward = -loss


@pytest.mark.parametrize(
    "settings",
    [
        {"learning_rate": 0}, {"batch_size": 0}, {"baseline_decay": 1.0},
        {"epochs": 2.5}, {"batch_size": "ten"}, {"clip_range": "wide"}, {"deduplicate": "yes"},
    ],
)  # fmt: skip
def test_bad_settings_raise_value_error(settings) -> None:
    with pytest.raises(ValueError, match=next(iter(settings))):
        PPOLSTMSampler(**settings)


def test_search_space_with_nothing_for_the_policy_raises_value_error() -> None:
    numeric_only = {"lr": optuna.distributions.FloatDistribution(0, 1)}
    PPOLSTMSampler(search_space=numeric_only)  # numeric ones are decisions by default
    with pytest.raises(ValueError, match="no parameter the policy decides"):
        PPOLSTMSampler(search_space=numeric_only, numeric="random")


def test_missing_init_policy_file_raises_value_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="init_policy"):
        PPOLSTMSampler(init_policy=tmp_path / "none.pt")
