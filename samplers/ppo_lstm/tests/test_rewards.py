# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
"""How finished trials count: complete -> value, pruned -> last report, failed -> nothing,
enqueued (params not from the rollout) -> baseline only."""

from __future__ import annotations

import optuna
import pytest

from .. import PPOLSTMSampler
from ._toy import toy_objective
from ._toy import TOY_SPACE


def _run_one_batch(direction: str) -> tuple[dict, optuna.Study]:
    study = optuna.create_study(
        direction=direction, sampler=PPOLSTMSampler(search_space=TOY_SPACE, seed=0, batch_size=4)
    )
    study.enqueue_trial({name: "a" for name in TOY_SPACE})

    def objective(trial):
        value = toy_objective(trial)
        if trial.number == 1:
            trial.report(0.5, step=0)
            trial.report(0.25, step=3)  # the last report is the reward
            raise optuna.TrialPruned()
        if trial.number == 2:
            raise RuntimeError("child training crashed")
        return 0.75 if trial.number == 3 else value

    study.optimize(objective, n_trials=4, catch=(RuntimeError,))
    study.optimize(toy_objective, n_trials=1)  # trial 4 triggers update 0
    [update] = PPOLSTMSampler.diagnostics(study)
    return update, study


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_batch_accounting(direction) -> None:
    update, study = _run_one_batch(direction)
    sign = 1 if direction == "maximize" else -1
    rewards = [sign * study.trials[0].value, sign * 0.25, sign * 0.75]
    assert update["policy_version"] == 1
    assert update["n_trials"] == 4
    assert update["n_rewards"] == 3  # the failed trial is excluded
    assert update["n_trained"] == 2  # the enqueued trial informs the baseline only
    assert update["mean_reward"] == pytest.approx(sum(rewards) / 3)
    assert update["entropy"] > 0 and update["approx_kl"] >= 0 and 0 <= update["clip_fraction"] <= 1


def test_stale_samples_are_dropped() -> None:
    study = optuna.create_study(direction="maximize")
    sampler = PPOLSTMSampler(search_space=TOY_SPACE, seed=0, batch_size=2, max_staleness=0)
    study.sampler = sampler
    # Ask trials 0-3 before telling any: trials 2 and 3 are sampled by version 0 but belong to
    # batch 1, which is learned from by version 1 (lag 1 > max_staleness 0).
    trials = [study.ask(TOY_SPACE) for _ in range(4)]
    for trial in trials:
        study.tell(trial, 0.5 + 0.1 * trial.number)
    study.ask(TOY_SPACE)
    updates = PPOLSTMSampler.diagnostics(study)
    assert [u["n_trained"] for u in updates] == [2, 0]
    assert [u["n_rewards"] for u in updates] == [2, 2]
