"""PPOLSTMSampler on the NASNet space: it loads both ways, and it learns the synthetic target."""

from __future__ import annotations

import numpy as np
import optuna
import optunahub
import pytest
from nas_optuna.objectives import SyntheticObjective

from nas_optuna import PPOLSTMSampler, nasnet_space, suggest_genotype


def _last_200_mean(sampler: optuna.samplers.BaseSampler, seed: int, n_trials: int = 1000) -> float:
    space = nasnet_space()
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(SyntheticObjective(space, target_seed=seed, noise=0.05), n_trials=n_trials)
    return float(np.mean([t.value for t in study.trials[-200:]]))


def _ppo_minus_random(seeds: list[int]) -> tuple[float, float]:
    ppo = np.mean([_last_200_mean(PPOLSTMSampler(search_space=nasnet_space(), seed=s), s) for s in seeds])
    random = np.mean([_last_200_mean(optuna.samplers.RandomSampler(seed=s), s) for s in seeds])
    return float(ppo), float(random)


def test_ppo_beats_random_on_the_synthetic_target_one_seed():
    ppo, random = _ppo_minus_random([0])
    assert random < 0.3  # about 1 in 5 decisions right by chance
    assert ppo > random + 0.3


@pytest.mark.slow
def test_ppo_beats_random_on_the_synthetic_target_five_seeds():
    ppo, random = _ppo_minus_random([0, 1, 2, 3, 4])
    assert ppo > random + 0.3


def test_policy_follows_the_space_order_and_suggest_genotype_uses_it():
    space = nasnet_space()
    sampler = PPOLSTMSampler(search_space=space, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    assert list(sampler.infer_relative_search_space(study, None)) == list(space)  # not sorted
    study.optimize(lambda trial: float(len(str(suggest_genotype(trial)))), n_trials=2)
    record = study.trials[1].system_attrs["ppo_lstm:rollout"]
    assert len(record["a"]) == 50
    assert [space[n].choices[a] for n, a in zip(space, record["a"], strict=True)] == [
        study.trials[1].params[n] for n in space
    ]


def test_loads_as_an_optunahub_package_from_the_repo():
    module = optunahub.load_local_module(package="ppo_lstm", registry_root="samplers")
    sampler = module.PPOLSTMSampler(search_space=nasnet_space(), seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(SyntheticObjective(nasnet_space()), n_trials=3)
    assert len(study.trials[2].params) == 50
