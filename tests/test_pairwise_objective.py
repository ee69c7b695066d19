import itertools

import optuna
import pytest
from nas_optuna.objectives import PairwiseObjective, make_objective

from nas_optuna import nasnet_space, params_from_genotype, random_genotype


def small_space():
    # 2 cells x (2 inputs, 2 inputs, 3 ops, 3 ops) = 1,296 architectures: small enough to enumerate.
    return nasnet_space(1, ("identity", "sep_conv_3x3", "max_pool_3x3"), ("add",))


def test_optimum_and_minimum_from_dynamic_programming_match_brute_force():
    space = small_space()
    objective = PairwiseObjective(space, landscape_seed=4)
    scores = [
        objective.score(dict(zip(space, values, strict=True)))
        for values in itertools.product(*(d.choices for d in space.values()))
    ]
    assert max(scores) == pytest.approx(1.0) and min(scores) == pytest.approx(0.0)
    assert objective.score(objective.optimum) == pytest.approx(1.0)


def test_best_value_of_one_decision_depends_on_its_partner():
    space = nasnet_space()
    objective = PairwiseObjective(space, landscape_seed=0)
    names = list(space)
    base = params_from_genotype(random_genotype(1))
    dependent = 0
    for child, parent in objective.edges:
        a, b = names[child], names[parent]
        best_a = set()
        for value_b in space[b].choices:
            trial = {**base, b: value_b}
            best_a.add(max(space[a].choices, key=lambda v, t=trial: objective.score({**t, a: v})))
        dependent += len(best_a) > 1
    # Additive rewards (like the hidden target) give one best value per decision, whatever the rest.
    assert dependent >= len(objective.edges) // 2


def test_seeded_range_and_study_config():
    space = nasnet_space()
    one, again, other = (PairwiseObjective(space, landscape_seed=s) for s in (3, 3, 4))
    arch = params_from_genotype(random_genotype(0))
    assert one.score(arch) == again.score(arch) != other.score(arch)
    assert 0.0 <= one.score(arch) <= 1.0
    objective = make_objective({"name": "synthetic", "landscape": "pairwise", "landscape_seed": 3}, space)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(one.optimum)
    study.optimize(objective, n_trials=3)
    assert study.trials[0].value == pytest.approx(1.0)
    assert all(t.value < 1.0 for t in study.trials[1:])
    assert "genotype" in study.trials[0].user_attrs


def test_bad_landscape_settings_give_one_clear_error():
    with pytest.raises(
        ValueError, match=r"unknown synthetic landscape 'nk'; choose one of \['hidden', 'pairwise'\]"
    ):
        make_objective({"name": "synthetic", "landscape": "nk"}, nasnet_space())
    with pytest.raises(ValueError, match=r"settings \['target_seed'\]; allowed: .*landscape_seed"):
        make_objective({"name": "synthetic", "landscape": "pairwise", "target_seed": 1}, nasnet_space())
