import optuna
import pytest
from nas_optuna.objectives import SyntheticObjective, make_objective

from nas_optuna import NASNET_A, nasnet_space, params_from_genotype


def test_synthetic_reward_is_fraction_of_target_decisions():
    space = nasnet_space()
    objective = SyntheticObjective(space, target_seed=3, noise=0.0)
    assert objective.score(objective.target) == 1.0
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(objective.target)
    study.enqueue_trial(params_from_genotype(NASNET_A))
    study.optimize(objective, n_trials=2)
    assert study.trials[0].value == 1.0
    assert study.trials[1].value == pytest.approx(objective.score(params_from_genotype(NASNET_A)))
    assert study.trials[1].value < 1.0
    assert "genotype" in study.trials[0].user_attrs


def test_make_objective_rejects_unknown_names_and_settings():
    with pytest.raises(ValueError, match="unknown objective 'cifar10x'"):
        make_objective({"name": "cifar10x"}, nasnet_space())
    with pytest.raises(
        ValueError, match=r"unknown synthetic objective settings \['colour'\]; allowed: .*noise"
    ):
        make_objective({"name": "synthetic", "colour": 1}, nasnet_space())
