"""Every genotype the spaces can produce builds, runs forward and backward, with finite gradients."""

import pytest
import torch

from nas_optuna import Block, Cell, Genotype, build_network, nasnet_space, pnas_space, random_genotype


def check_trains(genotype, concat, *, drop_path_keep=1.0, size=8):
    torch.manual_seed(0)
    model = build_network(genotype, n_cells=1, filters=8, concat=concat, drop_path_keep=drop_path_keep)
    model.set_drop_path_progress(1.0)
    logits = model(torch.randn(2, 3, size, size))
    assert logits.shape == (2, 10)
    assert torch.isfinite(logits).all()
    logits.square().mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f"{name} got no gradient in {genotype}"
        assert torch.isfinite(parameter.grad).all(), f"{name} has a non-finite gradient in {genotype}"


@pytest.mark.parametrize("seed", range(30))
def test_random_nasnet_genotypes_build_and_train(seed):
    genotype = random_genotype(seed, nasnet_space())
    for concat in ("released", "strict"):
        check_trains(genotype, concat, drop_path_keep=0.7 if seed % 2 else 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_random_pnas_genotypes_build_and_train(seed):
    genotype = random_genotype(100 + seed, pnas_space())
    assert genotype.shared
    for concat in ("released", "strict"):
        check_trains(genotype, concat)


def cell(rows, concat=None):
    return Cell(tuple(Block(*row) for row in rows), concat)


ALL_CONCAT = cell(
    [
        (0, 1, "sep_conv_3x3", "conv_1x1", "concat"),
        (2, 0, "identity", "max_pool_3x3", "concat"),
        (3, 2, "avg_pool_3x3", "conv_1x3_3x1", "concat"),
        (4, 1, "dil_conv_3x3", "identity", "concat"),
        (5, 3, "conv_3x3", "max_pool_5x5", "concat"),
    ]
)
# Block 0 concat makes a 2F state; block 1 applies identity to it (stride 1, channel change).
IDENTITY_ON_CONCAT = cell(
    [
        (0, 1, "sep_conv_3x3", "identity", "concat"),
        (2, 2, "identity", "identity", "add"),
        (2, 3, "identity", "max_pool_7x7", "concat"),
    ]
)
# Only input 1 and block 0 are read: input 0 and blocks 1, 2 are used by no block.
UNUSED_STATES = cell(
    [(1, 1, "conv_1x7_7x1", "identity", "add"), (2, 1, "avg_pool_3x3", "identity", "concat")]
)
# Pinned outputs that include both cell inputs: in a reduction cell both are brought down.
PINNED_INPUTS = cell([(0, 1, "max_pool_3x3", "identity", "add")], concat=(0, 1, 2))


@pytest.mark.parametrize(
    ("normal", "reduction"),
    [
        (ALL_CONCAT, ALL_CONCAT),
        (ALL_CONCAT, IDENTITY_ON_CONCAT),
        (UNUSED_STATES, UNUSED_STATES),
        (IDENTITY_ON_CONCAT, UNUSED_STATES),
        (PINNED_INPUTS, PINNED_INPUTS),
    ],
)
@pytest.mark.parametrize("concat", ["released", "strict"])
def test_explicit_corner_cases_build_and_train(normal, reduction, concat):
    check_trains(Genotype(normal, reduction), concat, drop_path_keep=0.8, size=16)


def test_output_channels_follow_the_states_concatenated():
    genotype = Genotype(UNUSED_STATES, UNUSED_STATES)
    model = build_network(genotype, n_cells=1, filters=8, concat="strict")
    # Strict outputs: input 0 (F), block 1 (F, add) and block 2 (2F, concat) -> 4F.
    assert UNUSED_STATES.output_states("strict") == (0, 3)
    assert [c.out_channels for c in model.cells] == [8 + 16, 16 + 32, 16 + 32, 32 + 64, 32 + 64]
    model = build_network(Genotype(ALL_CONCAT, ALL_CONCAT), n_cells=1, filters=8)
    assert ALL_CONCAT.output_states("released") == (6,)
    assert model.cells[0].out_channels == 16
    reduction = build_network(Genotype(PINNED_INPUTS, PINNED_INPUTS), n_cells=1, filters=8).cells[1]
    assert reduction.out_channels == 3 * 16
    assert [type(a).__name__ for a in reduction.out_adapters] == [
        "FactorizedReduction",
        "FactorizedReduction",
        "Identity",
    ]
