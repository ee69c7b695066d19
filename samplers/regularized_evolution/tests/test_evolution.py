# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Aging evolution's behaviour: population from the storage, one mutation per child, seeds."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
import pytest

from .. import RegularizedEvolutionSampler
from ._toy import hamming
from ._toy import score
from ._toy import toy_objective
from ._toy import TOY_SPACE


optuna.logging.set_verbosity(optuna.logging.WARNING)


def _trial(params: dict, value: float) -> optuna.trial.FrozenTrial:
    return optuna.create_trial(params=params, distributions=TOY_SPACE, value=value)


def _params(i: int) -> dict:
    return {name: "abcd"[(i + k) % 4] for k, name in enumerate(TOY_SPACE)}


def test_first_population_size_trials_are_random_then_children_differ_from_a_member_in_one_decision() -> (
    None
):
    sampler = RegularizedEvolutionSampler(population_size=10, sample_size=3, seed=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(toy_objective, n_trials=60)
    trials = study.trials
    for child in trials[10:]:
        alive = [t for t in trials[: child.number]][-10:]  # sequential run: the 10 before it
        # Its parent is one of them, one decision away (a sibling may be an exact twin).
        assert 1 in {hamming(child.params, t.params) for t in alive}, child.number
    # Random trials are not one mutation apart from their predecessors as a rule.
    assert (
        sum(
            min(hamming(t.params, s.params) for s in trials[: t.number]) == 1 for t in trials[1:10]
        )
        < 5
    )


def test_population_is_the_last_complete_trials_read_from_the_storage() -> None:
    """A fresh sampler (no memory) on a study filled elsewhere picks its parent among the last P
    COMPLETE trials: the old best outside them is never a parent, and failures do not count."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(_trial(_params(0), 1.0))  # the best ever, but aged out of the population
    for i in range(1, 30):
        study.add_trial(_trial(_params(i), 0.1 + 0.001 * i))
    study.add_trial(
        optuna.create_trial(
            state=optuna.trial.TrialState.FAIL, params=_params(5), distributions=TOY_SPACE
        )
    )
    best_alive = study.trials[29]
    for seed in range(5):
        sampler = RegularizedEvolutionSampler(population_size=20, sample_size=20, seed=seed)
        study.sampler = sampler
        trial = study.ask()
        params = {
            name: trial.suggest_categorical(name, d.choices) for name, d in TOY_SPACE.items()
        }
        parent = sampler.parent_of(study, trial)
        assert parent is not None
        assert parent.number == best_alive.number
        assert hamming(params, best_alive.params) == 1
        study.tell(trial, state=optuna.trial.TrialState.FAIL)  # keep the population as it was


def test_minimize_picks_the_lowest_value() -> None:
    study = optuna.create_study(direction="minimize")
    for i in range(6):
        study.add_trial(_trial(_params(i), float(i)))
    sampler = RegularizedEvolutionSampler(population_size=6, sample_size=6, seed=0)
    study.sampler = sampler
    trial = study.ask(TOY_SPACE)
    parent = sampler.parent_of(study, trial)
    assert parent is not None
    assert parent.number == 0
    assert hamming(trial.params, study.trials[0].params) == 1


def test_identity_mutation_copies_the_parent() -> None:
    study = optuna.create_study(direction="maximize")
    for i in range(4):
        study.add_trial(_trial(_params(i), float(i)))
    study.sampler = RegularizedEvolutionSampler(
        population_size=4, sample_size=4, identity_probability=1.0
    )
    trial = study.ask(TOY_SPACE)
    assert trial.params == study.trials[3].params


def test_same_seed_same_search_other_seed_another() -> None:
    def run(seed):
        study = optuna.create_study(
            direction="maximize", sampler=RegularizedEvolutionSampler(seed=seed)
        )
        study.optimize(toy_objective, n_trials=80)
        return [t.params for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_it_beats_random_search_on_the_toy_problem() -> None:
    def last_mean(sampler):
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(toy_objective, n_trials=300)
        return np.mean([t.value for t in study.trials[-100:]])

    evolution = np.mean([last_mean(RegularizedEvolutionSampler(seed=s)) for s in range(3)])
    random = np.mean([last_mean(optuna.samplers.RandomSampler(seed=s)) for s in range(3)])
    assert evolution > random + 0.3, (evolution, random)


def test_conditional_space_inherits_per_name_and_draws_the_missing_fresh() -> None:
    parents: dict[int, Any] = {}

    def objective(trial):
        kind = trial.suggest_categorical("kind", ["conv", "pool"])
        if kind == "conv":
            value = 1.0 + trial.suggest_categorical("kernel", [3, 5, 7]) / 10
        else:
            value = 0.5 if trial.suggest_categorical("pool_type", ["max", "avg"]) == "max" else 0.4
        parents[trial.number] = sampler.parent_of(study, trial)
        return value

    sampler = RegularizedEvolutionSampler(population_size=4, sample_size=4, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=60)
    switched = 0
    for child in study.trials[4:]:
        parent = parents[child.number]
        if parent.params["kind"] == child.params["kind"]:
            assert hamming(parent.params, child.params) == 1  # one decision of its branch re-drawn
        else:
            switched += 1  # the mutation was "kind": the new branch's decision is drawn fresh
            assert set(child.params) != set(parent.params)
    assert 0 < switched < 56
    assert max(t.value for t in study.trials) == pytest.approx(1.7)


def test_numeric_parameters_go_to_the_independent_sampler_with_one_warning(caplog) -> None:
    sampler = RegularizedEvolutionSampler(population_size=2, sample_size=2, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    optuna.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            study.optimize(
                lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=5
            )
    finally:
        optuna.logging.disable_propagation()
    warnings = [r for r in caplog.records if "categorical parameters only" in r.getMessage()]
    assert len(warnings) == 1
    assert len({t.params["x"] for t in study.trials}) == 5


def test_mixed_space_evolves_the_categorical_part() -> None:
    space = {**TOY_SPACE, "lr": FloatDistribution(1e-4, 1e-1, log=True)}
    sampler = RegularizedEvolutionSampler(population_size=5, sample_size=5, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for _ in range(20):
        trial = study.ask(space)
        parent = sampler.parent_of(study, trial)
        if trial.number >= 5:
            assert parent is not None
            categorical = dict(trial.params)
            assert categorical.pop("lr") != parent.params["lr"]  # numeric: drawn independently
            assert hamming(categorical, {k: v for k, v in parent.params.items() if k != "lr"}) == 1
        study.tell(trial, score(trial.params))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"population_size": 1}, "population_size"),
        ({"population_size": 10, "sample_size": 11}, "sample_size"),
        ({"sample_size": 0}, "sample_size"),
        ({"identity_probability": 1.5}, "identity_probability"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        RegularizedEvolutionSampler(**kwargs)


def test_paper_preset_is_the_published_protocol() -> None:
    sampler = RegularizedEvolutionSampler.paper(seed=0)
    assert (sampler.population_size, sampler.sample_size) == (100, 25)


def test_a_value_the_child_distribution_lacks_is_drawn_fresh() -> None:
    study = optuna.create_study(direction="maximize")
    old = {"x": CategoricalDistribution(["y", "z"])}
    study.add_trial(optuna.create_trial(params={"x": "z"}, distributions=old, value=1))
    study.add_trial(optuna.create_trial(params={"x": "y"}, distributions=old, value=0))
    study.sampler = RegularizedEvolutionSampler(population_size=2, sample_size=2, seed=0)
    values = {study.ask({"x": CategoricalDistribution(["a", "b"])}).params["x"] for _ in range(10)}
    assert values <= {"a", "b"}
