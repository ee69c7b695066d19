# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""Int and Float parameters as policy decisions, and define-by-run spaces that grow."""

from __future__ import annotations

import logging
import math
import multiprocessing
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
import pytest
import torch

from .. import _storage
from .. import learner
from .. import PPOLSTMSampler
from ..presets import DEFAULT
from ..space import action_of
from ..space import n_actions
from ..space import value_of


KINDS = {
    "int": IntDistribution(-3, 40),
    "int_step": IntDistribution(0, 100, step=5),
    "int_log": IntDistribution(1, 1024, log=True),
    "int_few": IntDistribution(1, 4),
    "float": FloatDistribution(-2.0, 3.0),
    "float_log": FloatDistribution(1e-5, 1.0, log=True),
    "float_step": FloatDistribution(0.0, 1.0, step=0.05),
}
# Where each kind's score peaks; a policy that learns them scores well above random.
PEAKS = {"int": 30, "int_step": 20, "int_log": 8, "int_few": 3, "float": -1.0,
         "float_log": 1e-3, "float_step": 0.75}  # fmt: skip


@pytest.mark.parametrize("name", KINDS)
def test_every_value_maps_back_to_the_action_it_was_drawn_for(name) -> None:
    distribution, bins = KINDS[name], 10
    n = n_actions(distribution, bins)
    assert n == (4 if name == "int_few" else 10)
    rng = np.random.RandomState(0)
    seen = set()
    for action in range(n):
        for _ in range(50):
            value = value_of(distribution, action, bins, rng)
            assert distribution._contains(distribution.to_internal_repr(value))
            assert action_of(distribution, value, bins) == action
            seen.add(value)
        centre = value_of(distribution, action, bins, rng, 0.5)
        assert action_of(distribution, centre, bins) == action
    assert min(seen) == pytest.approx(distribution.low, rel=0.2, abs=0.06)
    assert max(seen) == pytest.approx(distribution.high, rel=0.2, abs=0.06)
    assert action_of(distribution, distribution.high + 1, bins) is None  # not a value of it


def _score(name: str, value: float) -> float:
    """1 at the peak, falling off linearly over the range (in the log domain for log ones)."""
    d = KINDS[name]

    def f(x: float) -> float:
        return math.log(x) if d.log else float(x)

    return 1 - abs(f(value) - f(PEAKS[name])) / (f(d.high) - f(d.low))


def _suggest_kinds(trial):
    for name, d in KINDS.items():
        step = {} if d.log or d.step is None else {"step": d.step}
        suggest = trial.suggest_float if isinstance(d, FloatDistribution) else trial.suggest_int
        suggest(name, d.low, d.high, log=d.log, **step)


def _kinds_objective(trial):
    _suggest_kinds(trial)
    return sum(_score(name, trial.params[name]) for name in KINDS) / len(KINDS)


def _last_mean(sampler, objective, n_trials=200, last=50, **enqueue):
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for params in enqueue.values():
        study.enqueue_trial(params)
    study.optimize(objective, n_trials=n_trials)
    return study, float(np.mean([t.value for t in study.trials[-last:]]))


def test_every_numeric_kind_is_learned_by_the_policy() -> None:
    study, ppo = _last_mean(PPOLSTMSampler(seed=0), _kinds_objective)
    assert list(study.sampler._lineage.space) == list(KINDS)  # all are decisions
    assert len(study.trials[-1].system_attrs[_storage.RECORD_KEY]["a"]) == len(KINDS)
    _, random = _last_mean(optuna.samplers.RandomSampler(seed=0), _kinds_objective)
    assert ppo > random + 0.08


def test_numeric_random_keeps_them_out_of_the_policy() -> None:
    def objective(trial):
        trial.suggest_categorical("c", ["a", "b"])
        return _kinds_objective(trial)

    study, _ = _last_mean(PPOLSTMSampler(seed=0, numeric="random"), objective, n_trials=12)
    assert list(study.sampler._lineage.space) == ["c"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"numeric": "bins"}, "numeric must be one of"),
        ({"numeric_bins": 1}, "numeric_bins"),
        ({"numeric_value": "mean"}, "numeric_value"),
        ({"max_visits": 0}, "max_visits"),
        ({"max_visits": 2.5}, "max_visits"),
    ],
)
def test_bad_numeric_settings_are_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        PPOLSTMSampler(**kwargs)


def branches(trial):
    """Two branches with their own params; "big" is the better one (best 1.0 against 0.5)."""
    if trial.suggest_categorical("model", ["small", "big"]) == "small":
        x = trial.suggest_float("small_x", 0.0, 1.0)
        return 0.5 - 0.5 * abs(x - 0.2)
    lr = trial.suggest_float("big_lr", 1e-4, 1.0, log=True)
    n = trial.suggest_int("big_n", 1, 64, log=True)
    act = trial.suggest_categorical("big_act", ["relu", "tanh", "gelu"])
    return 1 - abs(math.log10(lr) + 2) / 4 - abs(math.log2(n) - 4) / 6 - 0.3 * (act != "gelu")


BRANCH_SPACE = {
    "model": CategoricalDistribution(("small", "big")),
    "small_x": FloatDistribution(0.0, 1.0),
    "big_lr": FloatDistribution(1e-4, 1.0, log=True),
    "big_n": IntDistribution(1, 64, log=True),
    "big_act": CategoricalDistribution(("relu", "tanh", "gelu")),
}


def test_a_branch_first_seen_later_joins_the_policy_and_is_learned() -> None:
    # The first trial takes the worse branch, so the policy starts without the better one.
    study, ppo = _last_mean(
        PPOLSTMSampler(seed=0), branches, n_trials=250, first={"model": "small"}
    )
    lineage = study.sampler._lineage
    assert list(lineage.initial_space) == ["model", "small_x"]
    assert set(lineage.space) == set(BRANCH_SPACE)
    assert [name for name, _, _ in lineage.learner.grown] == ["big_lr", "big_n", "big_act"]
    assert lineage.learner.optimizer.lr == pytest.approx(0.1 / 5)  # "per-decision" follows them
    last = study.trials[-50:]
    assert sum(t.params["model"] == "big" for t in last) >= 30  # random: about 25
    # Its parameters are learned too, not just the branch: better than random within "big".
    _, random = _last_mean(optuna.samplers.RandomSampler(seed=0), branches, n_trials=250)
    assert ppo > random + 0.15
    # Trials of the other branch still train the decisions they used (the ratio is masked).
    assert PPOLSTMSampler.diagnostics(study)[-1]["n_trained"] > 0


def test_a_learning_rate_given_stays_as_the_space_grows() -> None:
    sampler = PPOLSTMSampler(seed=0, learning_rate=0.003)
    _last_mean(sampler, branches, n_trials=20, first={"model": "small"})
    assert sampler._lineage is not None
    assert sampler._lineage.learner.grown and sampler._lineage.learner.optimizer.lr == 0.003


@pytest.mark.parametrize(
    ("numeric_value", "refine_best"), [("uniform", 0.0), ("local", 0.0), ("local", 0.3)]
)
def test_with_the_full_space_given_no_trial_is_left_out_of_learning(
    numeric_value, refine_best
) -> None:
    sampler = PPOLSTMSampler(
        search_space=BRANCH_SPACE, seed=0, numeric_value=numeric_value, refine_best=refine_best
    )
    study, _ = _last_mean(sampler, branches, 60)
    # A local step across an interval's edge, or a step from the best trial to other intervals,
    # leaves its rollout: the only trials not trained on.
    crossed = [
        any(
            action_of(BRANCH_SPACE[name], value, 10) != drawn
            for (name, value), drawn in zip(
                ((n, t.params.get(n)) for n in BRANCH_SPACE),
                t.system_attrs[_storage.RECORD_KEY]["a"],
            )
            if value is not None
        )
        for t in study.trials
    ]
    assert (numeric_value == "local" or refine_best > 0) == any(crossed)
    updates = PPOLSTMSampler.diagnostics(study)
    window, every = DEFAULT["batch_size"], DEFAULT["update_every"]
    assert isinstance(window, int) and isinstance(every, int)
    assert len(updates) == 60 // every - 1  # the last batch is learned at the next ask
    for u in updates:
        end = every * u["policy_version"]
        assert u["n_trained"] == min(window, end) - sum(crossed[max(0, end - window) : end])


def test_a_parameter_whose_range_changes_is_warned_about_once(caplog) -> None:
    def objective(trial):
        x = trial.suggest_categorical("x", [0, 1])
        return x + trial.suggest_int("n", 0, 10 + trial.number % 3)  # the range moves

    with caplog.at_level(logging.WARNING):
        study, _ = _last_mean(PPOLSTMSampler(seed=0, batch_size=5), objective, n_trials=25)
    warnings = [r for r in caplog.records if "'n'" in r.getMessage()]
    assert len(warnings) == 1 and "does not learn" in warnings[0].getMessage()
    assert len(study.trials) == 25 and all(t.state.is_finished() for t in study.trials)


def test_warm_start_with_numeric_and_conditional_parameters(tmp_path) -> None:
    make = lambda seed, **kw: PPOLSTMSampler(search_space=BRANCH_SPACE, seed=seed, **kw)  # noqa: E731
    source, _ = _last_mean(make(0), branches, n_trials=40)
    path = tmp_path / "policy.pt"
    assert source.sampler.save_policy(source, path) == 8
    saved = torch.load(path, weights_only=True)
    warm = make(1, init_policy=path)
    target, _ = _last_mean(warm, branches, n_trials=1, last=1)
    assert warm.save_policy(target, tmp_path / "warm.pt") == 0
    weights = torch.load(tmp_path / "warm.pt", weights_only=True)
    assert all(torch.equal(weights[k], saved[k]) for k in saved)


# -- two processes on one journal file ---------------------------------------------------------

WORKER_SETTINGS: dict[str, Any] = dict(
    batch_size=5, checkpoint_every=3, hidden_size=16, embedding_size=8
)


def _journal(path):
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))


def _worker(path: str, seed: int, out_path: str, total: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = PPOLSTMSampler(seed=seed, **WORKER_SETTINGS)
    study = optuna.load_study(study_name="shared", storage=_journal(path), sampler=sampler)
    study.optimize(branches, n_trials=total // 2)
    while sum(t.state.is_finished() for t in study.get_trials(deepcopy=False)) < total:
        pass  # the other worker is still running: wait, then learn from every batch
    sampler.save_policy(study, out_path)


def test_two_processes_on_a_journal_file_share_one_growing_policy(tmp_path) -> None:
    path, total = str(tmp_path / "journal.log"), 60
    study = optuna.create_study(study_name="shared", storage=_journal(path), direction="maximize")
    study.enqueue_trial({"model": "small"})
    context = multiprocessing.get_context("spawn")
    outputs = [str(tmp_path / f"policy-{i}.pt") for i in range(2)]
    workers = [
        context.Process(target=_worker, args=(path, i, outputs[i], total)) for i in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    first, second = (torch.load(p, weights_only=True) for p in outputs)
    assert first["embedding.weight"].shape[0] > 1 + 2 + 10  # grew past model and small_x
    assert all(torch.equal(first[k], second[k]) for k in first)

    # One process replaying the trials from scratch, with the study's first decisions, agrees.
    replay_sampler = PPOLSTMSampler(seed=7, **{**WORKER_SETTINGS, "checkpoint_every": 10**6})
    replay = optuna.create_study(direction="maximize", sampler=replay_sampler)
    key = _storage.SPACE_KEY
    _storage.write_study_attr(replay, key, _storage.read_study_attr(study, key))
    replay.add_trials(study.get_trials())
    assert replay_sampler.save_policy(replay, tmp_path / "replay.pt") == total // 5
    replayed = torch.load(tmp_path / "replay.pt", weights_only=True)
    assert all(torch.equal(replayed[k], first[k]) for k in first)


def test_a_joining_worker_takes_the_grown_decisions_from_the_checkpoint(monkeypatch) -> None:
    study = optuna.create_study(direction="maximize")
    first = PPOLSTMSampler(seed=0, batch_size=5, checkpoint_every=2)
    study.sampler = first
    study.enqueue_trial({"model": "small"})
    study.optimize(branches, n_trials=42)  # versions 0..8; checkpoints at 2, 4, 6 and 8
    applied: list[int] = []
    original = learner.Learner.apply_batch

    def counted(self: learner.Learner, batch: Any) -> Any:
        applied.append(1)
        return original(self, batch)

    monkeypatch.setattr(learner.Learner, "apply_batch", counted)
    joining = PPOLSTMSampler(seed=1, batch_size=5, checkpoint_every=2)
    assert joining.save_policy(study, "/dev/null") == 8
    assert not applied  # loaded, not replayed
    assert first._lineage is not None and joining._lineage is not None
    assert list(joining._lineage.space) == list(first._lineage.space)  # from the checkpoint
    assert joining._lineage.learner.grown == first._lineage.learner.grown
    assert joining._lineage.learner.optimizer.lr == first._lineage.learner.optimizer.lr
    mine, theirs = (s._lineage.learner.policy.state_dict() for s in (first, joining) if s._lineage)
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    # and it goes on learning from there like the first
    study.sampler = joining
    study.optimize(branches, n_trials=5)
    assert joining._lineage.learner.version == 9


def test_max_visits_lets_an_interval_combination_be_drawn_again_up_to_its_share() -> None:
    space = {"x": FloatDistribution(0.0, 1.0)}  # 10 intervals: 10 combinations

    def objective(trial):
        return -abs(trial.suggest_float("x", 0.0, 1.0) - 0.55)

    counts = {}
    for visits in (1, 3):
        # refine_best off: its steps from the best trial are not rollouts, and not capped
        sampler = PPOLSTMSampler(search_space=space, seed=0, max_visits=visits, refine_best=0.0)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=25)  # below the 30 that 3 each allow
        per_bin = np.bincount([action_of(space["x"], t.params["x"], 10) for t in study.trials])
        counts[visits] = per_bin
        lineage = sampler._lineage
        assert lineage is not None
        learned = lineage.learner.version * lineage.learner.settings.stride
        assert sum(lineage.learner.memory.visits.values()) == learned  # every learned trial
    assert counts[1].max() > 1  # exhausted after 10: the walk gives known ones back
    assert counts[3].max() == 3 and counts[3].min() >= 1  # revisits, never a 4th


OPTIMIZER_SPACE = {
    "opt": CategoricalDistribution(["sgd", "adam", "rms"]),
    "momentum": CategoricalDistribution([0, 1, 2, 3]),
    "beta": CategoricalDistribution([0, 1, 2, 3]),
    "wd": IntDistribution(0, 3),
    "alpha": CategoricalDistribution([0, 1]),
}


def _optimizer(trial) -> float:
    """22 architectures: sgd x 4 momenta, adam x 4 betas x 4 weight decays, rms x 2 alphas."""
    name = trial.suggest_categorical("opt", ["sgd", "adam", "rms"])
    if name == "sgd":
        return 0.5 + 0.1 * trial.suggest_categorical("momentum", [0, 1, 2, 3])
    if name == "adam":
        beta = trial.suggest_categorical("beta", [0, 1, 2, 3])
        return 0.6 + 0.05 * beta + 0.03 * trial.suggest_int("wd", 0, 3)
    return 0.4 + 0.1 * trial.suggest_categorical("alpha", [0, 1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_finished_branch_trial_is_not_drawn_again_before_its_batch_is_learned(seed) -> None:
    # Rollouts that differ only in branches a trial did not take ask the objective the same
    # questions; before, 2-4 of these 20 trials repeated one of their own batch in every seed.
    sampler = PPOLSTMSampler(seed=seed, search_space=OPTIMIZER_SPACE)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_optimizer, n_trials=20)
    keys = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(keys)) == len(keys)


def test_the_first_trial_drawn_before_the_policy_exists_is_not_repeated_in_its_batch() -> None:
    # Trial 0 of a define-by-run study comes from the independent sampler; once it finishes, the
    # policy's space is inferred from it. Before, a rollout of the first batch could repeat it.
    for seed in range(30):
        study = optuna.create_study(direction="maximize", sampler=PPOLSTMSampler(seed=seed))
        study.optimize(_optimizer, n_trials=5)
        first = study.trials[0].params
        assert all(t.params != first for t in study.trials[1:]), seed
