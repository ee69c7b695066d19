# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""mutate_best: a share of the trials is the best architecture so far with one decision changed."""

from __future__ import annotations

import optuna
from optuna.distributions import CategoricalDistribution
import pytest

from .. import PPOLSTMSampler
from ..learner import per_decision_mutation


SPACE = {f"c{i}": CategoricalDistribution((0, 1, 2, 3)) for i in range(4)}


def _sum(trial) -> float:
    return float(sum(trial.suggest_categorical(name, d.choices) for name, d in SPACE.items()))


def _changed(a: dict, b: dict) -> int:
    return sum(a[name] != b[name] for name in SPACE)


def test_with_mutate_best_1_every_trial_after_the_first_update_is_a_neighbour_of_the_best() -> (
    None
):
    sampler = PPOLSTMSampler(seed=0, search_space=SPACE, mutate_best=1.0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_sum, n_trials=60)
    trials = study.trials
    distances = []
    for trial in trials[5:]:
        learned = trials[: 5 * (trial.number // 5)]  # the batches learned before its ask
        best = max(learned, key=lambda t: (t.value, -t.number))  # the first elite
        distances.append(_changed(trial.params, best.params))
    assert min(distances) >= 1  # never the best itself
    # one decision; where that change is known, the walk goes on from it
    assert distances.count(1) >= 15 and sum(distances) / len(distances) < 2.5
    assert len({tuple(t.params.values()) for t in trials}) == len(trials)  # and nothing twice
    assert study.best_value == 12  # a hill climb finds the top of a sum


def test_without_it_trials_come_from_the_policy() -> None:
    study = optuna.create_study(
        direction="maximize", sampler=PPOLSTMSampler(seed=0, search_space=SPACE, mutate_best=0)
    )
    study.optimize(_sum, n_trials=30)
    trials = study.trials
    far = [
        _changed(t.params, max(trials[: 5 * (t.number // 5)], key=lambda s: s.value).params)
        for t in trials[5:]
    ]
    assert max(far) >= 3  # rollouts wander far from the best early on


def _branches(trial) -> float:
    if trial.suggest_categorical("model", ["a", "b"]) == "a":
        return trial.suggest_float("x", 0, 1)
    return 2 * trial.suggest_float("y", 0, 1) + trial.suggest_int("k", 0, 3)


def test_a_best_scored_before_the_space_grew_is_mutated_with_the_policys_later_decisions() -> None:
    study = optuna.create_study(
        direction="maximize", sampler=PPOLSTMSampler(seed=0, mutate_best=1)
    )
    study.enqueue_trial({"model": "a"})  # the space starts with branch a; b's decisions join later
    study.optimize(_branches, n_trials=60)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert {t.params["model"] for t in study.trials} == {"a", "b"}
    assert study.best_value > 4


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.2", True, "per-trial"])
def test_a_bad_mutate_best_is_refused(value) -> None:
    with pytest.raises(ValueError, match="mutate_best must be"):
        PPOLSTMSampler(mutate_best=value)


def test_mutate_best_needs_elites_and_the_paper_preset_has_none() -> None:
    with pytest.raises(ValueError, match="elite_size >= 1"):
        PPOLSTMSampler(mutate_best=0.2, elite_size=0)
    with pytest.raises(ValueError, match="elite_size >= 1"):
        PPOLSTMSampler.paper(mutate_best=0.2)
    assert PPOLSTMSampler.paper()._proposals.settings.mutate_best == 0.0
    assert PPOLSTMSampler()._proposals.settings.mutate_best == "per-decision"
    assert per_decision_mutation(6) == pytest.approx(0.2)
    assert per_decision_mutation(9) == pytest.approx(0.0889, abs=1e-4)
    assert per_decision_mutation(50) == pytest.approx(0.00288)
