from collections import Counter

import numpy as np
import optuna
import pytest

from nas_optuna import (
    NASNET_A,
    NASNET_OPS,
    genotype_from_params,
    nasnet_space,
    params_from_genotype,
    pnas_space,
    random_genotype,
    suggest_genotype,
)


def test_nasnet_space_has_the_papers_50_decisions_in_order():
    space = nasnet_space()
    names = list(space)
    assert len(names) == 50
    assert names[:5] == [
        "normal_b0_in_a",
        "normal_b0_in_b",
        "normal_b0_op_a",
        "normal_b0_op_b",
        "normal_b0_combine",
    ]
    assert names[25] == "reduction_b0_in_a"
    assert names[-1] == "reduction_b4_combine"
    assert space["normal_b2_in_a"].choices == (0, 1, 2, 3)
    assert space["reduction_b4_in_b"].choices == (0, 1, 2, 3, 4, 5)
    assert space["normal_b0_op_a"].choices == NASNET_OPS
    assert space["normal_b0_combine"].choices == ("add", "concat")
    assert all(isinstance(d, optuna.distributions.CategoricalDistribution) for d in space.values())


def test_space_is_configurable():
    small = nasnet_space(n_blocks=2, ops=("identity", "sep_conv_3x3"), combine=("add",))
    assert len(small) == 2 * 2 * 4  # combine with one choice is not a decision
    pnas = pnas_space()
    assert len(pnas) == 20 and all(n.startswith("cell_") for n in pnas)
    assert len(pnas["cell_b0_op_a"].choices) == 8
    with pytest.raises(ValueError, match="unknown ops"):
        nasnet_space(ops=("conv_9x9",))


def test_nasnet_a_round_trips_through_params_string_and_json():
    params = params_from_genotype(NASNET_A)
    assert len(params) == 50
    assert genotype_from_params(params) == NASNET_A
    assert type(NASNET_A).from_string(str(NASNET_A)) == NASNET_A
    assert type(NASNET_A).from_json(NASNET_A.to_json()) == NASNET_A


def test_define_by_run_and_ask_tell_agree():
    space = nasnet_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    genotype = suggest_genotype(trial)
    assert trial.params.keys() == space.keys()
    study.tell(trial, 0.5)
    asked = study.ask(fixed_distributions=space)
    assert list(asked.params) == list(space)
    assert genotype_from_params(study.trials[0].params) == genotype
    round_trip = genotype_from_params(params_from_genotype(genotype_from_params(asked.params)))
    assert round_trip == genotype_from_params(asked.params)


def test_enqueued_nasnet_a_is_run_as_is():
    study = optuna.create_study()
    study.enqueue_trial(params_from_genotype(NASNET_A))
    trial = study.ask()
    assert suggest_genotype(trial) == NASNET_A


def test_pnas_round_trip():
    space = pnas_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    genotype = suggest_genotype(study.ask(), space)
    assert genotype.shared
    assert all(b.combine == "add" for b in genotype.normal.blocks)
    assert genotype_from_params(params_from_genotype(genotype, space), space) == genotype
    assert type(genotype).from_string(str(genotype)) == genotype
    with pytest.raises(ValueError, match="shared cell"):
        params_from_genotype(NASNET_A, space)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"normal_b1_in_a": 3}, r"'normal_b1_in_a' = 3 .*\[0, 1, 2\]"),
        ({"normal_b0_op_a": "conv_9x9"}, r"'normal_b0_op_a' = 'conv_9x9'.*'identity'"),
        ({"reduction_b0_in_b": "1"}, r"'reduction_b0_in_b' = '1' \(str\)"),
        ({"normal_b0_combine": True}, r"'normal_b0_combine'.*'add', 'concat'"),
        ({"normal_b0_in_a": 1.0}, r"'normal_b0_in_a' = 1.0 \(float\)"),
    ],
)
def test_invalid_params_name_the_parameter_and_allowed_values(change, message):
    params = params_from_genotype(NASNET_A) | change
    with pytest.raises(ValueError, match=message):
        genotype_from_params(params)


def test_missing_param_is_named():
    params = params_from_genotype(NASNET_A)
    del params["reduction_b3_op_b"]
    with pytest.raises(ValueError, match="missing parameter 'reduction_b3_op_b'"):
        genotype_from_params(params)


def test_random_genotype_draws_every_decision_uniformly_and_reproducibly():
    assert random_genotype(3) == random_genotype(3) != random_genotype(4)
    rng = np.random.default_rng(0)
    stream = [random_genotype(rng) for _ in range(400)]
    assert stream[0] == random_genotype(0)  # a seed is the first draw of its stream
    space = nasnet_space()
    ops = Counter(params_from_genotype(g, space)["normal_b0_op_a"] for g in stream)
    assert set(ops) == set(space["normal_b0_op_a"].choices)  # all 13 ops, about 31 each
    assert max(ops.values()) < 60
    shared = random_genotype(1, pnas_space())
    assert shared.shared and params_from_genotype(shared, pnas_space())


def test_parse_param_name_reads_architecture_names_only():
    from nas_optuna.space import parse_param_name

    assert parse_param_name("normal_b2_in_a") == ("normal", 2, "in_a")
    assert parse_param_name("reduction_b10_combine") == ("reduction", 10, "combine")
    assert parse_param_name("cell_b0_op_b") == ("cell", 0, "op_b")
    for other in ("lr", "normal_b2_in_c", "normal_bx_in_a", "my_normal_b0_in_a", "normal_b0_in_a_x"):
        assert parse_param_name(other) is None


@pytest.mark.parametrize(
    "space",
    [nasnet_space(), nasnet_space(3, combine=("add",)), pnas_space(2), nasnet_space(2, shared_cell=True)],
)
def test_space_of_params_restores_the_preset_order_from_shuffled_names(space):
    from nas_optuna.space import space_of_params

    shuffled = list(reversed(space)) + ["lr", "batch_size"]
    rebuilt = space_of_params(shuffled)
    assert list(rebuilt) == list(space)
    genotype = random_genotype(0, space)
    assert genotype_from_params(params_from_genotype(genotype, space), rebuilt) == genotype
    assert space_of_params(["lr"]) == {}


def test_genotype_of_trial_prefers_the_recorded_genotype_and_else_rebuilds_it_from_params():
    from nas_optuna.space import genotype_of_trial

    shared = random_genotype(np.random.default_rng(3), pnas_space())
    shared_params = params_from_genotype(shared, pnas_space())
    assert genotype_of_trial(params_from_genotype(NASNET_A), {}) == NASNET_A
    assert genotype_of_trial(shared_params, {}) == shared
    # A recorded genotype wins over the params.
    assert genotype_of_trial(shared_params, {"genotype": str(NASNET_A)}) == NASNET_A
