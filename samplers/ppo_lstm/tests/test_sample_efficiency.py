# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""The default preset's sample-efficiency parts: no architecture twice, sliding windows, rank
advantages, elites, and the paper's controller kept as a preset."""

from __future__ import annotations

import io
import json

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
import pytest
import torch

from .. import PPOLSTMSampler
from ..learner import Learner
from ..learner import Sample
from ..memory import digest
from ..memory import Entry
from ..memory import Memory
from ..options import learner_settings
from ..settings import LearnerSettings
from ._toy import toy_objective
from ._toy import TOY_SPACE


SMALL = {f"x{i}": CategoricalDistribution((0, 1)) for i in range(3)}  # 8 architectures


def _objective(trial: optuna.Trial) -> float:
    return float(sum(trial.suggest_categorical(name, d.choices) for name, d in SMALL.items()))


def test_no_architecture_twice_until_the_space_is_exhausted_and_then_it_still_terminates() -> None:
    study = optuna.create_study(
        direction="maximize", sampler=PPOLSTMSampler(seed=0, search_space=SMALL)
    )
    study.optimize(_objective, n_trials=8)
    keys = [tuple(t.params.values()) for t in study.trials]
    assert len(set(keys)) == 8
    study.optimize(_objective, n_trials=4)  # nothing new is left: known ones, not a hang
    assert len(study.trials) == 12


def test_without_deduplicate_a_converging_policy_repeats_itself() -> None:
    sampler = PPOLSTMSampler(seed=0, search_space=SMALL, deduplicate=False)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_objective, n_trials=30)
    assert (
        len({tuple(t.params.values()) for t in study.trials}) < 30
    )  # so the option does something


def test_an_update_every_5_trials_trains_on_the_window_of_the_last_30() -> None:
    study = optuna.create_study(
        direction="maximize", sampler=PPOLSTMSampler(seed=0, search_space=TOY_SPACE)
    )
    study.optimize(toy_objective, n_trials=41)
    updates = PPOLSTMSampler.diagnostics(study)
    assert [u["policy_version"] for u in updates] == list(range(1, 9))
    assert [u["n_trials"] for u in updates] == [5] * 8
    assert [u["n_trained"] for u in updates] == [5, 10, 15, 20, 25, 30, 30, 30]
    assert [u["n_elites"] for u in updates] == [5, 10, 10, 10, 10, 10, 10, 10]


def test_rank_advantages_are_centred_ranks_with_ties_averaged() -> None:
    memory = Memory(elite_size=0)
    for number, reward in enumerate([0.5, 0.1, 0.9, 0.5]):
        memory.add(Entry(number, reward, 0.0, (number,), None, None))
    assert memory.advantages("rank") == [0.0, -1.0, 1.0, 0.0]
    z = memory.advantages("zscore")
    assert abs(np.mean(z)) < 1e-9 and abs(np.std(z) - 1) < 1e-6


def test_elites_are_the_best_distinct_architectures_earlier_trial_first_on_ties() -> None:
    memory = Memory(elite_size=2)
    for number, (reward, actions) in enumerate(
        [(0.3, (0,)), (0.9, (1,)), (0.9, (1,)), (0.9, (2,)), (0.1, (3,))]
    ):
        memory.add(Entry(number, reward, 0.0, actions, None, None))
    assert [(e.number, e.actions) for e in memory.elites] == [(1, (1,)), (3, (2,))]


def test_visits_count_each_architecture_and_travel_in_the_checkpoint() -> None:
    memory = Memory(elite_size=2)
    for number, (reward, actions) in enumerate(
        [(0.3, (0,)), (0.5, (1,)), (0.9, (0,)), (0.1, (0,)), (0.9, (2,))]
    ):
        memory.add(Entry(number, reward, 0.0, actions, None, None))
    key = {a: digest(a) for a in [(0,), (1,), (2,)]}
    assert memory.visits == {key[(0,)]: 3, key[(1,)]: 1, key[(2,)]: 1}
    # A better trial of an elite's architecture takes its place (one entry per architecture).
    assert [(e.number, e.actions) for e in memory.elites] == [(2, (0,)), (4, (2,))]
    copy = Memory(elite_size=2)
    copy.load(memory.state())
    assert copy.visits == memory.visits
    old = memory.state()  # a checkpoint from before visits were counted
    del old["visits"]
    copy.load(old)
    assert copy.visits == dict.fromkeys(memory.visits, 1)


def test_a_conditional_trial_counts_under_the_decisions_it_used() -> None:
    def visits(memory: Memory, actions: tuple[int, ...]) -> int:
        # Trials with a reward that a trial of `actions` repeats, under any pattern seen.
        return next(n for n in range(10) if memory.has_room(actions, n + 1))

    memory = Memory(elite_size=0)
    memory.add(Entry(0, 0.5, 0.0, (1, 2, 3), None, None, (True, True, False)))
    assert visits(memory, (1, 2, 0)) == 1  # differs only where the trial had no value
    assert visits(memory, (1, 3, 3)) == 0
    assert visits(memory, (1, 2, 0, 4)) == 1  # a decision that joined later: unused by it
    memory.add(Entry(1, 0.5, 0.0, (0, 0, 0), None, None))  # all used
    assert visits(memory, (0, 0, 0)) == 1 and visits(memory, (0, 0, 1)) == 0
    copy = Memory(elite_size=0)
    copy.load(memory.state())
    assert copy.patterns == memory.patterns and visits(copy, (1, 2, 0)) == 1


def test_no_configuration_twice_in_a_conditional_space_until_it_is_exhausted() -> None:
    space = {
        "model": CategoricalDistribution(("a", "b")),
        "a_x": CategoricalDistribution((0, 1)),
        "b_y": CategoricalDistribution((0, 1, 2)),
    }  # 2 + 3 = 5 configurations, 12 action sets

    def objective(trial):
        if trial.suggest_categorical("model", ["a", "b"]) == "a":
            return float(trial.suggest_categorical("a_x", [0, 1]))
        return float(trial.suggest_categorical("b_y", [0, 1, 2]))

    for seed in range(3):
        sampler = PPOLSTMSampler(seed=seed, search_space=space, batch_size=5, update_every=1)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=5)
        assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 5


def test_an_enqueued_architecture_can_be_an_elite_and_is_not_sampled_again() -> None:
    study = optuna.create_study(
        direction="maximize", sampler=PPOLSTMSampler(seed=0, search_space=SMALL)
    )
    study.enqueue_trial({"x0": 1, "x1": 1, "x2": 1})  # the best one
    study.optimize(_objective, n_trials=7)
    learner = study.sampler._lineage.learner
    assert learner.memory.elites[0].actions == (1, 1, 1)
    assert [tuple(t.params.values()) for t in study.trials].count((1, 1, 1)) == 1


def test_the_memory_travels_in_the_checkpoint() -> None:
    settings = LearnerSettings(
        n_choices=(4, 4, 4), batch_size=4, update_every=2, advantage="rank", elite_size=3
    )
    learner = Learner(settings)
    rng = np.random.RandomState(0)
    for k in range(4):
        actions, log_probs = learner.policy.sample_many(rng, 2)
        learner.apply_batch(
            [
                Sample(2 * k + i, float(rng.rand()), a, lp, k)
                for i, (a, lp) in enumerate(zip(actions, log_probs, strict=False))
            ]
        )
    copy = Learner(settings)
    copy.load_state_bytes(learner.state_bytes())
    assert copy.memory.window == learner.memory.window and len(copy.memory.window) == 4
    assert (
        copy.memory.elites == learner.memory.elites and copy.memory.visits == learner.memory.visits
    )


def test_the_paper_preset_is_the_published_controller_with_its_old_fingerprint() -> None:
    paper = learner_settings((5, 5), PPOLSTMSampler.paper()._settings)
    assert (paper.ppo.learning_rate, paper.batch_size, paper.stride, paper.advantage) == (
        0.00035,
        20,
        20,
        "ema",
    )
    assert (
        paper.ppo.entropy_weight == 1e-5
        and paper.baseline_decay == 0.95
        and paper.hidden_size == 100
    )
    assert not PPOLSTMSampler.paper()._proposals.settings.deduplicate and paper.elite_size == 0
    # Written as before these settings existed, so studies started then keep their checkpoints.
    assert not {"update_every", "advantage", "elite_size", "elite_weight"} & set(
        _flat_keys(paper.as_json())
    )
    assert (
        learner_settings(
            (5, 5), PPOLSTMSampler.paper(learning_rate=0.01)._settings
        ).ppo.learning_rate
        == 0.01
    )


def test_the_default_learning_rate_is_per_decision() -> None:
    default = PPOLSTMSampler()._settings
    assert learner_settings((5,) * 50, default).ppo.learning_rate == pytest.approx(0.002)
    assert learner_settings((5,) * 6, default).ppo.learning_rate == pytest.approx(0.1 / 6)
    assert learner_settings((5,), default).ppo.learning_rate == 0.02  # capped


def test_the_default_elite_weight_is_per_decision_and_follows_grown_decisions() -> None:
    default = PPOLSTMSampler()._settings
    assert learner_settings((5,) * 50, default).ppo.elite_weight == pytest.approx(0.036)
    assert learner_settings((5,) * 6, default).ppo.elite_weight == pytest.approx(0.3)
    assert learner_settings((5,), default).ppo.elite_weight == 0.3  # capped
    settings = learner_settings((3,) * 6, default)
    grown = Learner(settings, per_decision=True, per_decision_elite=True)
    for k in range(4):
        grown.grow(f"extra{k}", "{}", 3)
    assert grown.elite_weight == pytest.approx(0.18)  # 1.8 / 10 decisions
    loaded = Learner(settings, per_decision=True, per_decision_elite=True)
    loaded.load_state_bytes(grown.state_bytes())  # a worker joining from a checkpoint
    assert loaded.elite_weight == pytest.approx(0.18)
    assert Learner(settings).elite_weight == pytest.approx(0.3)


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"preset": "nasnet"}, "preset 'nasnet' is not one of"),
        ({"advantage": "mean"}, "advantage must be one of"),
        ({"update_every": 31}, "update_every must be in"),
        ({"elite_size": -1}, "elite_size"),
        ({"elite_weight": -0.1}, "elite_weight must be >= 0 or 'per-decision'"),
        ({"elite_weight": "high"}, "elite_weight must be >= 0 or 'per-decision'"),
        ({"learning_rate": "fast"}, "learning_rate"),
    ],
)
def test_bad_settings_say_what_to_pass(settings, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        PPOLSTMSampler(**settings)


def _flat_keys(text: str) -> list[str]:
    data = json.loads(text)
    return [*data, *data["ppo"]]


def test_state_bytes_load_with_weights_only() -> None:
    learner = Learner(LearnerSettings(n_choices=(3,), elite_size=2))
    learner.apply_batch([Sample(0, 1.0, (1,), None, None)])
    assert torch.load(io.BytesIO(learner.state_bytes()), weights_only=True)["memory"]["elites"]
