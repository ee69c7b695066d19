import optuna
import pytest
import torch
from nas_optuna.objectives import CifarObjective, TrainingFailed, make_objective
from nas_optuna.objectives.data import ImageData
from tiny_models import NaNNet, OOMNet, TinyNet, bundled_subset, stand_in_build_network

import nas_optuna
from nas_optuna import NASNET_A, nasnet_space, params_from_genotype

TINY = {"n_cells": 1, "filters": 4, "epochs": 2, "batch_size": 64}


@pytest.fixture(scope="module")
def small_data() -> ImageData:
    return bundled_subset(640)


@pytest.fixture
def stand_in_network(monkeypatch):
    """A tiny model in place of build_network (same call signature): trials train in a second."""
    built = stand_in_build_network(monkeypatch)
    monkeypatch.setattr(nas_optuna, "count_parameters", lambda m: sum(p.numel() for p in m.parameters()))
    monkeypatch.setattr(nas_optuna, "count_mult_adds", lambda m, size: 1000)
    return built


def test_trials_record_budget_attrs_and_same_genotype_scores_the_same(stand_in_network, small_data):
    objective = CifarObjective(nasnet_space(), data=small_data, **TINY)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(params_from_genotype(NASNET_A))
    study.enqueue_trial(params_from_genotype(NASNET_A))
    study.optimize(objective, n_trials=3)
    first, second, third = study.trials
    assert first.value == second.value and 0 <= first.value <= 1
    assert first.intermediate_values.keys() == {0, 1}
    attrs = first.user_attrs
    assert attrs["genotype"] == str(NASNET_A)
    assert attrs["epochs_done"] == 2 and attrs["device"] == "cpu"
    assert attrs["n_params"] == sum(p.numel() for p in TinyNet(filters=4).parameters())
    assert attrs["train_seconds"] > 0 and attrs["images_per_second"] > 0
    assert third.user_attrs["genotype"] != str(NASNET_A)
    assert stand_in_network[2] == nas_optuna.parse_genotype(third.user_attrs["genotype"])


@pytest.mark.parametrize(
    ("bad_model", "reason"),
    [
        (lambda: NaNNet(nan_from_step=3, filters=4), "training loss became nan"),
        (lambda: OOMNet(filters=4), "out of memory at batch_size 64"),
    ],
)
def test_failed_trial_records_reason_and_the_next_one_runs(
    stand_in_network, small_data, monkeypatch, bad_model, reason
):
    models = iter([bad_model(), TinyNet(filters=4)])
    monkeypatch.setattr(nas_optuna, "build_network", lambda genotype, **kw: next(models))
    objective = CifarObjective(nasnet_space(), data=small_data, **TINY)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=2, catch=(TrainingFailed,))
    failed, ok = study.trials
    assert failed.state == optuna.trial.TrialState.FAIL
    assert reason in failed.user_attrs["fail_reason"]
    assert ok.state == optuna.trial.TrialState.COMPLETE and 0 <= ok.value <= 1


def test_pruned_trials_stop_after_the_reported_epoch(stand_in_network, small_data):
    objective = CifarObjective(nasnet_space(), data=small_data, **TINY)
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1.01))
    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs["epochs_done"] == 1 and list(trial.intermediate_values) == [0]
    assert trial.user_attrs["train_seconds"] > 0


def test_last_epoch_is_never_pruned(stand_in_network, small_data):
    # After the final epoch the accuracy is the trial's result: pruning it would waste it.
    objective = CifarObjective(nasnet_space(), data=small_data, **{**TINY, "epochs": 1})
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1.01))
    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.value == trial.intermediate_values[0]


def test_make_objective_builds_cifar_and_rejects_unknown_settings(stand_in_network, tmp_path, monkeypatch):
    monkeypatch.setenv("NAS_OPTUNA_CACHE_DIR", str(tmp_path))
    objective = make_objective({"name": "cifar", "val_size": 200, **TINY}, nasnet_space())
    assert isinstance(objective, CifarObjective)
    assert len(objective.data.val_labels) == 200 and objective.settings["epochs"] == 2
    with pytest.raises(
        ValueError, match=r"unknown cifar objective settings \['epoch'\]; allowed: .*'epochs'"
    ):
        make_objective({"name": "cifar", "epoch": 3}, nasnet_space())


def test_seeded_builds_start_from_the_same_weights(stand_in_network, small_data):
    objective = CifarObjective(nasnet_space(), data=small_data, **TINY)
    a, b = objective.build(NASNET_A), objective.build(NASNET_A)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_real_network_same_seed_same_genotype_same_accuracy(small_data):
    tiny = {**TINY, "epochs": 1, "batch_size": 32, "train_images": 96}
    objective = CifarObjective(nasnet_space(), data=small_data, **tiny)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(params_from_genotype(NASNET_A))
    study.enqueue_trial(params_from_genotype(NASNET_A))
    study.optimize(objective, n_trials=2)
    first, second = study.trials
    assert first.value == second.value
    assert first.user_attrs["n_params"] == nas_optuna.count_parameters(objective.build(NASNET_A))
    assert first.user_attrs["mult_adds"] > first.user_attrs["n_params"]


def test_data_and_augmenter_reach_the_device_once_and_every_trial_keeps_its_own_seed(
    stand_in_network, small_data, monkeypatch
):
    from nas_optuna.objectives import cifar

    moves = []
    real = cifar.data_on_device
    monkeypatch.setattr(
        cifar, "data_on_device", lambda data, device: (moves.append(device), real(data, device))[1]
    )
    objective = CifarObjective(nasnet_space(), data=small_data, **TINY)
    study = optuna.create_study(direction="maximize")
    for _ in range(3):
        study.enqueue_trial(params_from_genotype(NASNET_A))
    study.optimize(objective, n_trials=3)
    assert moves == ["cpu"]
    # The shared augmenter draws from each trial's own seeded stream: same genotype, same value,
    # and the value a fresh objective (its own copy of the data) gets for it.
    fresh = CifarObjective(nasnet_space(), data=small_data, **TINY).train(NASNET_A).val_accuracy
    assert [t.value for t in study.trials] == [fresh] * 3
