import pytest
import torch
from torch import nn

from nas_optuna import NASNET_A, Block, Cell, Genotype, build_network, count_mult_adds, count_parameters


def params_m(n_cells, filters, concat="released", **kwargs):
    return count_parameters(
        build_network(NASNET_A, n_cells=n_cells, filters=filters, concat=concat, **kwargs)
    )


@pytest.mark.parametrize(
    ("n_cells", "filters", "concat", "expected"),
    [
        (6, 32, "released", 3.347e6),
        (6, 32, "strict", 3.077e6),
        (2, 32, "released", 1.295e6),
        (2, 24, "released", 0.758e6),
    ],
)
def test_nasnet_a_parameter_counts_match_the_published_ones(n_cells, filters, concat, expected):
    assert params_m(n_cells, filters, concat) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize(
    ("n_cells", "filters", "concat", "expected"),
    [
        (6, 32, "released", 544e6),
        (6, 32, "strict", 499e6),
        (2, 32, "released", 232e6),
        (2, 24, "released", 136e6),
    ],
)
def test_nasnet_a_mult_adds_match_the_published_ones(n_cells, filters, concat, expected):
    model = build_network(NASNET_A, n_cells=n_cells, filters=filters, concat=concat)
    assert count_mult_adds(model, (3, 32, 32)) == pytest.approx(expected, rel=0.03)
    assert model.training  # the count leaves the mode as it was


def test_mult_adds_count_convs_and_linears_per_example():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, groups=1), nn.Flatten(), nn.Linear(4 * 5 * 5, 7))
    expected = 4 * 5 * 5 * 3 * 9 + 7 * 100
    assert count_mult_adds(model, (3, 5, 5)) == expected
    assert count_mult_adds(model, (8, 3, 5, 5)) == expected
    depthwise = nn.Conv2d(6, 6, 3, padding=1, groups=6)
    assert count_mult_adds(depthwise, (6, 4, 4)) == 6 * 16 * 9
    with pytest.raises(ValueError, match="input_size"):
        count_mult_adds(model, (32, 32))


def test_stage_shapes_of_6_at_768():
    model = build_network(NASNET_A, n_cells=6, filters=32).eval()
    shapes = []
    for module in [model.stem, *model.cells]:
        module.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 32, 32))
    assert logits.shape == (1, 10)
    assert shapes[0] == (96, 32, 32)
    assert shapes[1:7] == [(192, 32, 32)] * 6
    assert shapes[7] == (256, 16, 16)
    assert shapes[8:14] == [(384, 16, 16)] * 6
    assert shapes[14] == (512, 8, 8)
    assert shapes[15:21] == [(768, 8, 8)] * 6
    assert len(shapes) == 21


def test_aux_head_adds_its_published_size_and_returns_logits_in_training_only():
    assert params_m(6, 32, aux_head=True) - params_m(6, 32) == pytest.approx(1.63e6, rel=0.01)
    model = build_network(NASNET_A, n_cells=1, filters=8, aux_head=True, num_classes=7)
    logits, aux_logits = model(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux_logits.shape == (2, 7)
    (logits.sum() + aux_logits.sum()).backward()
    assert model.aux_head.layers[-1].weight.grad is not None
    model.eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)


def test_imagenet_stem_transfers_a_cell_to_224_inputs():
    model = build_network(
        NASNET_A, n_cells=1, filters=8, stem="imagenet", num_classes=1001, stem_multiplier=0.5, aux_head=True
    )
    logits, aux_logits = model(torch.randn(2, 3, 224, 224))
    assert logits.shape == aux_logits.shape == (2, 1001)
    # Two stem cells, then 3 stages of 1 cell with 2 reductions between them.
    assert [cell.reduction for cell in model.cells] == [True, True, False, True, False, True, False]


def test_nasnet_a_mobile_has_the_published_size():
    model = build_network(NASNET_A, n_cells=4, filters=44, stem="imagenet", num_classes=1001)
    assert count_parameters(model) == pytest.approx(5.3e6, rel=0.01)


@pytest.mark.slow
def test_nasnet_a_large_has_the_published_size():
    model = build_network(
        NASNET_A,
        n_cells=6,
        filters=168,
        stem="imagenet",
        stem_multiplier=3,
        num_classes=1001,
        image_size=331,
        skip_reduction_input=True,
    )
    assert count_parameters(model) == pytest.approx(88.9e6, rel=0.01)


def test_skip_reduction_input_feeds_the_cell_two_before_the_reduction():
    plain = build_network(NASNET_A, n_cells=2, filters=8)
    skipping = build_network(NASNET_A, n_cells=2, filters=8, skip_reduction_input=True)
    # The Normal cell after the first reduction reads h_{i-1} from cell 0 (6F = 48 channels).
    assert plain.cells[3].prep_prev_prev[1].path1.in_channels == 48
    assert skipping.cells[3].prep_prev_prev[1].path1.in_channels == 48
    assert skipping(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert count_parameters(plain) == count_parameters(skipping)  # same shapes, other wiring
    # ImageNet stem cells always read the cell just before (only main-stage reductions skip).
    large_like = build_network(
        NASNET_A, n_cells=1, filters=8, stem="imagenet", stem_multiplier=3, skip_reduction_input=True
    )
    assert large_like(torch.randn(1, 3, 64, 64)).shape == (1, 10)
    assert large_like.cells[1].prep_prev_prev[1].path1.in_channels == 96  # the 3x32-channel conv


def test_channels_last_forward_equals_contiguous_forward():
    every_op = Genotype(
        Cell(
            (
                Block(0, 1, "identity", "conv_1x3_3x1", "add"),
                Block(2, 1, "conv_1x7_7x1", "dil_conv_3x3", "concat"),
                Block(3, 0, "avg_pool_3x3", "max_pool_3x3", "add"),
                Block(4, 3, "max_pool_5x5", "max_pool_7x7", "concat"),
                Block(5, 2, "conv_1x1", "conv_3x3", "add"),
            )
        ),
        Cell(
            (
                Block(0, 1, "sep_conv_3x3", "sep_conv_5x5", "concat"),
                Block(2, 0, "sep_conv_7x7", "identity", "add"),
                Block(1, 3, "avg_pool_3x3", "identity", "concat"),
                Block(4, 4, "max_pool_3x3", "conv_1x1", "add"),
                Block(2, 5, "identity", "avg_pool_3x3", "add"),
            )
        ),
    )
    for genotype in (NASNET_A, every_op):
        model = build_network(genotype, n_cells=1, filters=8).eval()
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            expected = model(x)
            model_cl = model.to(memory_format=torch.channels_last)
            actual = model_cl(x.to(memory_format=torch.channels_last))
        torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_cells": 0}, "n_cells"),
        ({"n_cells": 2.0}, "n_cells"),
        ({"filters": 1}, "filters"),
        ({"filters": 4, "stem": "imagenet"}, "filters must be an int >= 8"),
        ({"concat": "paper"}, "concat rule 'paper'"),
        ({"stem": "mnist"}, "stem 'mnist'"),
        ({"num_classes": 0}, "num_classes"),
        ({"drop_path_keep": 0.0}, "drop_path_keep"),
        ({"dropout": 1.0}, "dropout"),
        ({"aux_head": True, "image_size": 8}, "aux head"),
    ],
)
def test_bad_arguments_raise_one_clear_error(kwargs, message):
    arguments = {"n_cells": 1, "filters": 8} | kwargs
    with pytest.raises(ValueError, match=message):
        build_network(NASNET_A, **arguments)


def test_bad_genotypes_are_named():
    with pytest.raises(ValueError, match="nas_optuna.Genotype"):
        build_network(str(NASNET_A), n_cells=1, filters=8)
    bad_op = Genotype(Cell((Block(0, 1, "conv_9x9", "identity"),)), NASNET_A.reduction)
    with pytest.raises(ValueError, match="normal block 0 op_a = 'conv_9x9'"):
        build_network(bad_op, n_cells=1, filters=8)
    bad_input = Genotype(NASNET_A.normal, Cell((Block(0, 2, "identity", "identity"),)))
    with pytest.raises(ValueError, match="reduction block 0 in_b = 2"):
        build_network(bad_input, n_cells=1, filters=8)
    bad_concat = Genotype(Cell((Block(0, 1, "identity", "identity"),), concat=(0, 5)), NASNET_A.reduction)
    with pytest.raises(ValueError, match="concat"):
        build_network(bad_concat, n_cells=1, filters=8)
    with pytest.raises(ValueError, match="progress"):
        build_network(NASNET_A, n_cells=1, filters=8).set_drop_path_progress(1.5)
