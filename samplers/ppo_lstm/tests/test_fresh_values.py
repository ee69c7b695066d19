# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""No configuration evaluated twice where numeric decisions are intervals of an integer grid."""

from __future__ import annotations

import collections
import math

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from .. import PPOLSTMSampler
from ..fresh_values import configuration
from ..fresh_values import FreshValues
from ..fresh_values import MAX_REDRAWS
from ..fresh_values import OWN_REDRAWS
from ..memory import config_digest
from ..memory import Entry
from ..memory import Memory


SPACE = {
    "kind": CategoricalDistribution(("a", "b")),
    "n": IntDistribution(1, 40),
}  # 4 per interval


def _peaked(trial) -> float:
    kind = trial.suggest_categorical("kind", ["a", "b"])
    return -abs(trial.suggest_int("n", 1, 40) - 23) - (kind == "a")


def _repeats(**settings) -> int:
    sampler = PPOLSTMSampler(seed=0, search_space=SPACE, **settings)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_peaked, n_trials=60)
    counts = collections.Counter(tuple(sorted(t.params.items())) for t in study.trials)
    return sum(n - 1 for n in counts.values())


def test_local_draws_on_an_integer_grid_never_repeat_a_configuration() -> None:
    # 80 configurations, 60 trials: the local draws around n = 23 used to land on it again.
    assert _repeats() == 0
    assert _repeats(deduplicate=False) > 5  # what the redraws prevent


def test_a_configuration_is_its_actions_and_positions_under_the_used_decisions() -> None:
    space = {"c": SPACE["kind"], "n": SPACE["n"], "m": IntDistribution(1, 40)}
    actions, positions = configuration(space, {"c": "b", "n": 23}, 10)  # m: not drawn
    assert actions == [1, 5] and positions == [None, 0.625]  # 23 is the 3rd of 21..24
    a = config_digest([1, 5, 2], [None, 0.625, 0.125], [True, True, False])
    assert a == config_digest([1, 5], [None, 0.625], None)  # an unused last decision: left out
    assert a != config_digest([1, 5], [None, 0.375], None)  # 22, not 23
    assert a != config_digest([1, 6], [None, 0.625], None)


def test_the_memory_knows_configurations_under_the_patterns_seen_and_keeps_them() -> None:
    memory = Memory(elite_size=0)
    memory.add(Entry(0, 1.0, 0.0, (1, 5, 2), (), 0, (True, True, False)), [None, 0.625, None])
    assert memory.knows_config([1, 5, 9], [None, 0.625, 0.875])  # whatever m was drawn as
    assert not memory.knows_config([1, 5, 9], [None, 0.375, 0.875])
    restored = Memory(elite_size=0)
    restored.load(memory.state())
    assert restored.configs == memory.configs
    restored.load({k: v for k, v in memory.state().items() if k != "configs"})  # an older one
    assert restored.configs == set()


def test_a_known_draw_is_redrawn_and_a_full_combination_still_ends() -> None:
    memory = Memory(elite_size=0)
    memory.add(Entry(0, 1.0, 0.0, (1, 5), (), 0, None), [None, 0.625])
    asked: list[bool] = []

    def draw(values):
        def next_draw(uniform: bool):
            asked.append(uniform)
            return values[min(len(asked) - 1, len(values) - 1)]

        return next_draw

    known, new = {"kind": "b", "n": 23}, {"kind": "b", "n": 22}
    fresh = FreshValues()
    assert fresh.draw(draw([known, known, new]), SPACE, 10, memory, 5, 5) == new
    assert asked == [False, False, False]  # redrawn the sampler's own way first
    asked.clear()  # trial 6: 22 is handed out to trial 5 and not learned yet, 23 has a reward
    assert fresh.draw(draw([new, known]), SPACE, 10, memory, 6, 5) == known
    # nothing new: the last draw, after MAX_REDRAWS, the uniform ones last
    assert asked == [False] * (1 + OWN_REDRAWS) + [True] * (MAX_REDRAWS - OWN_REDRAWS)
    asked.clear()  # once trial 5 is learned from, only the memory counts
    assert fresh.draw(draw([new]), SPACE, 10, memory, 10, 10) == new and asked == [False]


def test_a_combination_has_room_for_as_many_trials_as_its_used_intervals_hold_values() -> None:
    memory = Memory(elite_size=0)
    sizes = [[1.0, 1.0], [4.0, 2.0], [math.inf, math.inf]]  # a choice, a grid, a float
    used = (True, True, False)  # the float belongs to another branch
    for number, position in enumerate((0.25, 0.75)):
        assert memory.has_room((0, 1, 0), 30, sizes)
        memory.add(Entry(number, 1.0, 0.0, (0, 1, 0), (), 0, used), [None, position, None])
    assert not memory.has_room((0, 1, 1), 30, sizes)  # both values of interval 1 were tried
    assert memory.has_room((0, 0, 1), 30, sizes)  # interval 0 holds 4
    assert not memory.has_room((0, 0, 1), 0, sizes)  # and max_visits still applies
    assert memory.has_room((0, 1, 1), 3)  # without sizes: max_visits only, 2 of 3 used
    assert not memory.has_room((0, 1, 1), 2)
