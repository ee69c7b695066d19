# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""PNASSampler on whole studies: it learns, it is reproducible, it never repeats an architecture."""

from __future__ import annotations

import logging

import numpy as np
import optuna
import pytest

from .. import PNASSampler
from ._toy import toy_objective


optuna.logging.set_verbosity(optuna.logging.WARNING)


def _run(sampler, n_trials=120):
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(toy_objective, n_trials=n_trials)
    return study


def test_it_beats_random_search_on_the_toy_problem() -> None:
    pnas = np.mean(
        [np.mean([t.value for t in _run(PNASSampler(seed=s)).trials[-40:]]) for s in range(2)]
    )
    random = np.mean(
        [
            np.mean([t.value for t in _run(optuna.samplers.RandomSampler(seed=s)).trials[-40:]])
            for s in range(2)
        ]
    )
    assert pnas > random + 0.3, (pnas, random)


def test_same_seed_same_search_and_no_architecture_twice() -> None:
    first, second = _run(PNASSampler(seed=5), 60), _run(PNASSampler(seed=5), 60)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    keys = [tuple(sorted(t.params.items())) for t in first.trials]
    assert len(set(keys[20:])) == len(keys[20:])  # proposals skip everything tried before


def test_minimize_proposes_what_the_predictor_ranks_lowest() -> None:
    study = optuna.create_study(direction="minimize", sampler=PNASSampler(seed=0))
    study.optimize(lambda t: -toy_objective(t), n_trials=100)
    assert np.mean([t.value for t in study.trials[-30:]]) < -0.6


def test_predict_needs_results_then_ranks_the_target_first() -> None:
    sampler = PNASSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.raises(ValueError, match="at least 2 COMPLETE trials"):
        sampler.predict(study, [{}])
    study.optimize(toy_objective, n_trials=80)
    from ._toy import TARGET

    far = {name: "abcd"[("abcd".index(v) + 1) % 4] for name, v in TARGET.items()}
    mean, _ = sampler.predict(study, [TARGET, far])
    assert mean[0] > mean[1]


def test_numeric_parameters_go_to_the_independent_sampler_with_one_warning(caplog) -> None:
    study = optuna.create_study(
        direction="maximize", sampler=PNASSampler(seed=0, n_startup_trials=2)
    )
    optuna.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            study.optimize(
                lambda t: (
                    t.suggest_float("x", 0, 1) + (t.suggest_categorical("c", ["a", "b"]) == "a")
                ),
                n_trials=6,
            )
    finally:
        optuna.logging.disable_propagation()
    assert len([r for r in caplog.records if "categorical parameters only" in r.getMessage()]) == 1


def test_define_by_run_branches_are_predicted_and_drawn_per_name() -> None:
    def objective(trial):
        if trial.suggest_categorical("kind", ["conv", "pool"]) == "conv":
            return trial.suggest_categorical("kernel", [3, 5, 7]) / 7
        return 0.3 if trial.suggest_categorical("pool_type", ["max", "avg"]) == "max" else 0.2

    study = optuna.create_study(
        direction="maximize", sampler=PNASSampler(seed=0, n_startup_trials=4)
    )
    study.optimize(objective, n_trials=8)  # only 8 distinct architectures exist
    assert max(t.value for t in study.trials) == 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_startup_trials": 1}, "n_startup_trials"),
        ({"beam_size": 0}, "beam_size"),
        ({"fit_steps": 2.5}, "fit_steps"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        PNASSampler(**kwargs)
