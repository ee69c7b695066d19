# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Seeds, reseeding, pickling, warm starts and checkpoints."""

from __future__ import annotations

import pickle
from typing import Any

import optuna
import pytest
import torch

from .. import PPOLSTMSampler
from ._toy import toy_objective
from ._toy import TOY_SPACE


def _params(sampler: PPOLSTMSampler, n_trials: int = 30) -> list[dict]:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(toy_objective, n_trials=n_trials)
    return [t.params for t in study.trials]


def test_same_seed_same_trials_and_other_seed_other_trials() -> None:
    make = lambda seed: PPOLSTMSampler(search_space=TOY_SPACE, seed=seed, batch_size=5)  # noqa: E731
    assert _params(make(3)) == _params(make(3))
    assert _params(make(3)) != _params(make(4))


def test_reseed_rng_changes_the_rollouts() -> None:
    first, second = (PPOLSTMSampler(search_space=TOY_SPACE, seed=3) for _ in range(2))
    second.reseed_rng()
    assert _params(first, 5) != _params(second, 5)


def test_pickled_sampler_continues_like_the_original() -> None:
    sampler = PPOLSTMSampler(search_space=TOY_SPACE, seed=5, batch_size=5)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(toy_objective, n_trials=12)
    copy = pickle.loads(pickle.dumps(sampler))
    twin = optuna.create_study(direction="maximize", sampler=copy)
    for trial in study.trials:
        twin.add_trial(trial)
    study.optimize(toy_objective, n_trials=10)
    twin.optimize(toy_objective, n_trials=10)
    assert [t.params for t in study.trials] == [t.params for t in twin.trials]


def test_warm_start_from_a_saved_policy_and_from_a_study(tmp_path) -> None:
    source = optuna.create_study(direction="maximize")
    sampler = PPOLSTMSampler(search_space=TOY_SPACE, seed=0, batch_size=5, checkpoint_every=2)
    source.sampler = sampler
    source.optimize(toy_objective, n_trials=21)
    path = tmp_path / "policy.pt"
    assert sampler.save_policy(source, path) == 4
    saved = torch.load(path, weights_only=True)
    for init_policy in (path, source):
        warm = PPOLSTMSampler(search_space=TOY_SPACE, seed=1, init_policy=init_policy)
        target = optuna.create_study(direction="maximize", sampler=warm)
        target.optimize(toy_objective, n_trials=1)
        assert warm.save_policy(target, tmp_path / "warm.pt") == 0  # a fresh lineage ...
        weights = torch.load(tmp_path / "warm.pt", weights_only=True)
        assert all(torch.equal(weights[k], saved[k]) for k in saved)  # ... from the saved weights


def test_warm_start_on_another_space_is_refused(tmp_path) -> None:
    source = optuna.create_study(
        direction="maximize", sampler=PPOLSTMSampler(search_space=TOY_SPACE)
    )
    source.optimize(toy_objective, n_trials=2)
    source.sampler.save_policy(source, tmp_path / "policy.pt")
    smaller = dict(list(TOY_SPACE.items())[:4])
    sampler = PPOLSTMSampler(search_space=smaller, init_policy=tmp_path / "policy.pt")
    study = optuna.create_study(sampler=sampler)
    with pytest.raises(ValueError, match="init_policy"):
        study.optimize(toy_objective, n_trials=1)


@pytest.mark.parametrize("use_artifact_store", [False, True])
def test_a_joining_worker_starts_from_the_checkpoint_not_from_scratch(
    monkeypatch, tmp_path, use_artifact_store
) -> None:
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, direction="maximize")
    settings: dict[str, Any] = dict(search_space=TOY_SPACE, batch_size=5, checkpoint_every=3)
    if use_artifact_store:
        settings["artifact_store"] = optuna.artifacts.FileSystemArtifactStore(str(tmp_path))
    first = PPOLSTMSampler(seed=0, **settings)
    study.sampler = first
    study.optimize(toy_objective, n_trials=42)  # versions 0..8; checkpoints at 3 and 6
    applied = []
    from .. import learner

    original = learner.Learner.apply_batch

    def counted_apply_batch(self, samples):
        applied.append(1)
        return original(self, samples)

    monkeypatch.setattr(learner.Learner, "apply_batch", counted_apply_batch)
    joining = PPOLSTMSampler(seed=1, **settings)
    joining.save_policy(study, "/dev/null")
    assert joining._lineage is not None and first._lineage is not None
    assert joining._lineage.learner.version == first._lineage.learner.version == 8
    assert len(applied) == 2  # replayed 6 -> 8 only
    for name, value in first._lineage.learner.policy.state_dict().items():
        assert torch.equal(value, joining._lineage.learner.policy.state_dict()[name])
    assert bool(optuna.artifacts.get_all_artifact_meta(study)) == use_artifact_store


def test_other_settings_on_a_shared_study_are_refused() -> None:
    study = optuna.create_study(
        direction="maximize",
        sampler=PPOLSTMSampler(search_space=TOY_SPACE, batch_size=2, checkpoint_every=1),
    )
    study.optimize(toy_objective, n_trials=5)
    study.sampler = PPOLSTMSampler(
        search_space=TOY_SPACE, batch_size=2, checkpoint_every=1, learning_rate=0.1
    )
    with pytest.raises(ValueError, match="same PPOLSTMSampler settings") as error:
        study.optimize(toy_objective, n_trials=1)
    default = 0.1 / len(TOY_SPACE)  # the default, "per-decision"
    assert f"(learning_rate: {default} in the study, 0.1 here)" in str(error.value)


def test_without_search_space_the_first_complete_trial_fixes_the_order() -> None:
    names = ["zeta", "alpha", "mid"]  # not sorted: the order of suggestion is kept

    def objective(trial):
        return sum(
            trial.suggest_categorical(n, ["x", "y", "z"]) == "y" for n in names
        ) + trial.suggest_float("lr", 0, 1)

    for numeric, decisions in (("policy", [*names, "lr"]), ("random", names)):
        sampler = PPOLSTMSampler(seed=0, batch_size=2, numeric=numeric)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=6)
        assert "ppo_lstm:rollout" not in study.trials[0].system_attrs  # nothing known before 0
        assert list(sampler.infer_relative_search_space(study, study.trials[-1])) == decisions
        records = [t.system_attrs["ppo_lstm:rollout"] for t in study.trials[1:]]
        assert all(len(r["a"]) == len(decisions) for r in records)
        assert PPOLSTMSampler.diagnostics(study)  # it learns from them
