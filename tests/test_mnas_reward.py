"""The MnasNet reward on the cifar objective: soft and hard budgets, settings checks, PPO on it."""

import math
import tomllib
from pathlib import Path

import optuna
import pytest
from nas_optuna.objectives import CifarObjective, check_objective_settings
from nas_optuna.objectives.data import ImageData
from nas_optuna.objectives.reward import Reward
from optuna.trial import TrialState
from tiny_models import bundled_subset, stand_in_build_network

from nas_optuna import NASNET_A, nasnet_space, params_from_genotype
from nas_optuna.cost import TransferCost, transfer_config, transfer_cost
from nas_optuna.storage_url import open_storage
from nas_optuna.study_config import validate
from nas_optuna.worker import main

ROOT = Path(__file__).resolve().parent.parent
TINY = {"n_cells": 1, "filters": 4, "epochs": 1, "batch_size": 64}
MOBILE = {"reward": "mnas", "transfer": "mobile"}
SMALL_TRANSFER = {"n_cells": 1, "filters": 8, "stem": "cifar", "image_size": 16}


@pytest.fixture(scope="module")
def small_data() -> ImageData:
    return bundled_subset(256)


@pytest.fixture
def stand_in_network(monkeypatch):
    """A tiny model in place of the proxy child (the transfer cost still builds the real one)."""
    return stand_in_build_network(monkeypatch)


def _run(objective, genotype=NASNET_A):
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(params_from_genotype(genotype))
    study.optimize(objective, n_trials=1)
    return study.trials[0]


def test_soft_mnas_reward_scales_accuracy_by_cost_over_target(stand_in_network, small_data):
    cost = transfer_cost(NASNET_A, transfer_config(SMALL_TRANSFER))
    target = cost.mult_adds / 2  # twice over budget: reward = accuracy * 2^-0.07
    settings = {"transfer": SMALL_TRANSFER, "reward": "mnas", "target_mult_adds": target}
    trial = _run(CifarObjective(nasnet_space(), data=small_data, **TINY, **settings))
    attrs = trial.user_attrs
    assert attrs["transfer_mult_adds"] == cost.mult_adds and attrs["transfer_params"] == cost.params
    assert "transfer_latency_ms" not in attrs and attrs["transfer_seconds"] >= 0
    assert 0 < attrs["accuracy"] <= 1
    assert trial.value == pytest.approx(attrs["accuracy"] * 2**-0.07)
    plain = _run(CifarObjective(nasnet_space(), data=small_data, **TINY, transfer=SMALL_TRANSFER))
    assert plain.value == attrs["accuracy"] and "accuracy" not in plain.user_attrs  # same seed, same net
    assert plain.user_attrs["transfer_mult_adds"] == cost.mult_adds


def test_hard_budget_completes_over_budget_children_untrained_with_value_0(stand_in_network, small_data):
    cost = transfer_cost(NASNET_A, transfer_config(SMALL_TRANSFER))
    hard = {"transfer": SMALL_TRANSFER, "reward": "mnas-hard", "latency": True}
    over = CifarObjective(nasnet_space(), data=small_data, **TINY, **hard, target_params=cost.params - 1)
    trial = _run(over)
    assert trial.state == TrialState.COMPLETE and trial.value == 0.0
    assert stand_in_network == []  # never built, never trained
    assert "transfer params" in trial.user_attrs["over_budget"]
    assert "scored 0 without training" in trial.user_attrs["over_budget"]
    assert trial.user_attrs["transfer_latency_ms"] > 0
    within = CifarObjective(nasnet_space(), data=small_data, **TINY, **hard, target_params=cost.params)
    trial = _run(within)
    assert stand_in_network == [NASNET_A] and "over_budget" not in trial.user_attrs
    assert trial.value == trial.user_attrs["accuracy"] > 0  # within budget: the accuracy itself


def test_two_targets_multiply_and_a_hard_reason_names_each_excess():
    cost = TransferCost(mult_adds=1_200_000_000, params=2_000_000)
    soft = Reward("mnas", (("mult_adds", 600e6), ("params", 4e6)), w=-0.07)
    assert soft.score(0.9, cost) == pytest.approx(0.9 * 2**-0.07 * 0.5**-0.07)
    assert soft.score(0.9, cost) == pytest.approx(0.9)  # 2x over one, 2x under the other
    assert soft.over_budget(cost) is None
    hard = Reward("mnas-hard", (("mult_adds", 600e6), ("params", 1e6)))
    reason = hard.over_budget(cost)
    assert "mult-adds 1200.0M > target 600.0M" in reason and "params 2.0M > target 1.0M" in reason
    assert hard.score(0.9, cost) == 0.9 and Reward().score(0.5, cost) == 0.5
    assert math.isclose(Reward("mnas", (("mult_adds", 6e8),)).score(1.0, cost), 2**-0.07)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"reward": "mnas"}, r"reward = 'mnas' needs a budget: target_mult_adds and/or target_params"),
        ({"reward": "mnas", "target_mult_adds": 6e8}, r'add transfer = "mobile"'),
        ({"latency": True}, r"latency needs the cost of the deployed network"),
        ({"latency": True, **MOBILE, "transfer": None, "target_params": 1}, r"latency and reward need the"),
        ({"target_params": 5e6}, r'target_params only apply with reward = "mnas" or "mnas-hard"'),
        ({"w": -0.1}, r'w only apply with reward = "mnas"'),
        (
            {"reward": "mnas-hard", "target_params": 5e6, "w": -0.1, "transfer": "mobile"},
            r'"mnas-hard" has no exponent; remove w',
        ),
        ({**MOBILE, "target_mult_adds": 6e8, "w": 0.07}, r"w = 0.07 is not valid; expected a number in \[-1"),
        ({**MOBILE, "target_mult_adds": -1}, r"target_mult_adds = -1 is not valid; expected a number > 0"),
        ({"reward": "latency"}, r"reward = 'latency' is not valid; expected a string one of \"accuracy\""),
        ({"transfer": {"filters": 4}}, r"cifar objective: transfer: filters = 4 is not valid"),
        ({"transfer": ["mobile"]}, r"transfer = \['mobile'\] is not valid; expected a preset name"),
    ],
)
def test_bad_reward_settings_are_one_clear_error(settings, message):
    with pytest.raises(ValueError, match=message):
        check_objective_settings({"name": "cifar", **settings})


def test_bad_reward_in_a_study_config_names_the_file():
    data = tomllib.loads((ROOT / "studies" / "mobile.toml").read_text())
    data["objective"]["reward"] = "mnas-soft"
    with pytest.raises(ValueError, match=r"^mobile.toml: cifar objective: reward = 'mnas-soft'"):
        validate(data, "mobile.toml")


def _tiny_mobile_config(tmp_path) -> str:
    """studies/mobile.toml on a tiny slice of the bundled images, so a child trains in ~1 s."""
    text = (ROOT / "studies" / "mobile.toml").read_text()
    tiny = "filters = 4\ntrain_images = 64\nval_size = 50\nbatch_size = 32\n"
    text = text.replace("filters = 8\n", tiny).replace("batch_size = 10", "batch_size = 2")
    path = tmp_path / "mobile-tiny.toml"
    path.write_text(text)
    assert validate(tomllib.loads(text)).objective["reward"] == "mnas"
    return str(path)


def test_ppo_worker_searches_the_mobile_study_on_its_scalar_reward(tmp_path):
    storage = str(tmp_path / "mobile.log")
    argv = [
        "--storage", storage, "--study-name", "mobile-ppo", "--study-config", _tiny_mobile_config(tmp_path),
        "--sampler", "ppo", "--seed", "0", "--n-trials", "4", "--create-study",
    ]  # fmt: skip
    assert main(argv) == 0
    study = optuna.load_study(study_name="mobile-ppo", storage=open_storage(storage))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    for trial in study.trials:
        attrs = trial.user_attrs
        factor = (attrs["transfer_mult_adds"] / 600e6) ** -0.07
        assert trial.value == pytest.approx(attrs["accuracy"] * factor)
        assert 2e8 < attrs["transfer_mult_adds"] < 5e9 and attrs["transfer_params"] > 1e6  # at 4@1056


@pytest.mark.slow
def test_mobile_study_runs_with_two_worker_processes(tmp_path, caplog):
    storage = str(tmp_path / "mobile.log")
    argv = [
        "--storage", storage, "--study-name", "mobile-ppo", "--study-config", _tiny_mobile_config(tmp_path),
        "--sampler", "ppo", "--seed", "0", "--n-trials", "6", "--create-study", "--processes", "2",
    ]  # fmt: skip
    with caplog.at_level("INFO"):
        assert main(argv) == 0
    assert "workers exited with codes [0, 0]" in caplog.text
    study = optuna.load_study(study_name="mobile-ppo", storage=open_storage(storage))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 6 and len({t.user_attrs["worker"] for t in complete}) == 2
    assert all("transfer_mult_adds" in t.user_attrs and "accuracy" in t.user_attrs for t in complete)
