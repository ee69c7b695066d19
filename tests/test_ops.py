import pytest
import torch
from torch import nn

from nas_optuna import NASNET_OPS, count_parameters
from nas_optuna.ops import OPS, FactorizedReduction


def test_ops_table_covers_the_13_nasnet_ops():
    assert set(OPS) == set(NASNET_OPS)


@pytest.mark.parametrize("name", NASNET_OPS)
@pytest.mark.parametrize(("c_in", "stride", "out_size"), [(8, 1, 9), (12, 1, 9), (12, 2, 5), (8, 2, 5)])
def test_every_op_makes_c_out_channels_at_the_strided_size(name, c_in, stride, out_size):
    op = OPS[name](c_in, 8, stride)
    x = torch.randn(2, c_in, 9, 9)
    assert op(x).shape == (2, 8, out_size, out_size)


@pytest.mark.parametrize("name", [n for n in NASNET_OPS if n != "identity" and "pool" not in n])
def test_conv_ops_are_relu_conv_bn_without_bias(name):
    op = OPS[name](8, 8, 1)
    layers = list(op)
    assert isinstance(layers[0], nn.ReLU) and not layers[0].inplace  # input may feed other ops
    assert isinstance(layers[-1], nn.BatchNorm2d)
    assert all(m.bias is None for m in op.modules() if isinstance(m, nn.Conv2d))


def test_separable_conv_is_applied_twice_with_stride_in_the_first_pass():
    op = OPS["sep_conv_5x5"](12, 8, 2)
    convs = [m for m in op.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.groups, c.kernel_size, c.stride) for c in convs] == [
        (12, 12, 12, (5, 5), (2, 2)),
        (12, 8, 1, (1, 1), (1, 1)),
        (8, 8, 8, (5, 5), (1, 1)),
        (8, 8, 1, (1, 1), (1, 1)),
    ]
    # depthwise + pointwise + BN, twice: no BN between depthwise and pointwise.
    assert count_parameters(op) == (12 * 25 + 12 * 8 + 16) + (8 * 25 + 8 * 8 + 16)


def test_identity_is_free_unless_stride_or_channels_change():
    assert isinstance(OPS["identity"](8, 8, 1), nn.Identity)
    assert count_parameters(OPS["identity"](8, 8, 2)) == 8 * 8 + 16
    assert count_parameters(OPS["identity"](16, 8, 1)) == 16 * 8 + 16


def test_pools_project_without_relu_only_on_channel_mismatch():
    assert count_parameters(OPS["max_pool_5x5"](8, 8, 2)) == 0
    projected = OPS["avg_pool_3x3"](16, 8, 1)
    assert count_parameters(projected) == 16 * 8 + 16
    assert not any(isinstance(m, nn.ReLU) for m in projected.modules())


def test_avg_pool_does_not_count_padding():
    out = OPS["avg_pool_3x3"](4, 4, 1)(torch.ones(1, 4, 5, 5))
    torch.testing.assert_close(out, torch.ones(1, 4, 5, 5))


def test_dilated_conv_has_dilation_two():
    conv = OPS["dil_conv_3x3"](8, 8, 1)[1]
    assert conv.dilation == (2, 2) and conv.kernel_size == (3, 3)


def test_factorized_convs_are_1xk_then_kx1():
    kernels = [m.kernel_size for m in OPS["conv_1x7_7x1"](8, 8, 2).modules() if isinstance(m, nn.Conv2d)]
    assert kernels == [(1, 7), (7, 1)]


def test_factorized_reduction_reads_even_and_odd_pixels_and_handles_odd_channels():
    reduce = FactorizedReduction(1, 3).eval()
    assert reduce.path1.out_channels == 1 and reduce.path2.out_channels == 2  # odd: path 2 gets more
    with torch.no_grad():
        reduce.path1.weight.fill_(1.0)
        reduce.path2.weight.fill_(1.0)
    x = torch.arange(25.0).reshape(1, 1, 5, 5)
    bn = reduce.bn
    out = reduce(x) * torch.sqrt(bn.running_var + bn.eps).view(1, -1, 1, 1)  # undo eval BN
    torch.testing.assert_close(out[0, 0], x[0, 0, ::2, ::2])
    odd = torch.zeros(3, 3)
    odd[:2, :2] = x[0, 0, 1::2, 1::2]  # the shifted grid runs into the zero padding
    torch.testing.assert_close(out[0, 1], odd)
    torch.testing.assert_close(out[0, 2], odd)
    assert FactorizedReduction(4, 6, stride=1)(torch.randn(2, 4, 5, 5)).shape == (2, 6, 5, 5)
    with pytest.raises(ValueError, match="at least 2 output channels"):
        FactorizedReduction(4, 1)
