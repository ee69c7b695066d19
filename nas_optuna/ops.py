"""The 13 NASNet ops as PyTorch modules, following the released NASNet code.

Every op is built by ``OPS[name](c_in, c_out, stride)`` and returns ``c_out`` channels. Inputs
may have any channel count (concat blocks produce twice the cell's filters). Conv units are
ReLU -> conv -> BN with no conv bias; pooling keeps the values as they are and only projects
with 1x1 conv -> BN (no ReLU) when the channel count must change.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

OpFactory = Callable[[int, int, int], nn.Module]


def relu_conv_bn(
    c_in: int, c_out: int, kernel: int | tuple[int, int], stride: int = 1, padding=0, dilation: int = 1
) -> nn.Sequential:
    return nn.Sequential(
        nn.ReLU(),  # not in place: the input state may feed other ops too
        nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
    )


def separable_conv(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Sequential:
    """[ReLU, depthwise KxK + pointwise 1x1, BN] twice; the stride is in the first pass only."""
    pad = kernel // 2
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(c_in, c_in, kernel, stride, pad, groups=c_in, bias=False),
        nn.Conv2d(c_in, c_out, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),  # its input is this op's own BN output
        nn.Conv2d(c_out, c_out, kernel, 1, pad, groups=c_out, bias=False),
        nn.Conv2d(c_out, c_out, 1, bias=False),
        nn.BatchNorm2d(c_out),
    )


def conv_1xk_kx1(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Sequential:
    """A KxK receptive field from a 1xK conv then a Kx1 conv, as one ReLU -> conv -> BN unit."""
    pad = kernel // 2
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(c_in, c_out, (1, kernel), (1, stride), (0, pad), bias=False),
        nn.Conv2d(c_out, c_out, (kernel, 1), (stride, 1), (pad, 0), bias=False),
        nn.BatchNorm2d(c_out),
    )


def pooling(kind: str, kernel: int, c_in: int, c_out: int, stride: int) -> nn.Module:
    if kind == "avg":
        # TF 'SAME' average pooling divides by the number of real (unpadded) inputs.
        pool = nn.AvgPool2d(kernel, stride, kernel // 2, count_include_pad=False)
    else:
        pool = nn.MaxPool2d(kernel, stride, kernel // 2)
    if c_in == c_out:
        return pool
    return nn.Sequential(pool, nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))


def identity(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return relu_conv_bn(c_in, c_out, 1, stride)


class FactorizedReduction(nn.Module):
    """Halve the spatial size without skipping pixels: two 1x1 convs on grids shifted by one.

    Path 1 reads the even pixels, path 2 the odd ones (the input shifted up-left, zero padded
    bottom-right); each makes half the channels (path 2 one more when ``c_out`` is odd), then
    BN. With ``stride=1`` it is just 1x1 conv -> BN. No ReLU: callers add one where needed.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 2):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"factorized reduction supports stride 1 or 2, got {stride}")
        if stride == 2 and c_out < 2:
            raise ValueError(f"factorized reduction needs at least 2 output channels, got {c_out}")
        self.stride = stride
        half = c_out // 2 if stride == 2 else c_out
        # A strided 1x1 conv equals avgpool(1, stride 2) followed by a 1x1 conv.
        self.path1 = nn.Conv2d(c_in, half, 1, stride, bias=False)
        self.path2 = nn.Conv2d(c_in, c_out - half, 1, stride, bias=False) if stride == 2 else None
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.path2 is None:
            return self.bn(self.path1(x))
        shifted = F.pad(x, (-1, 1, -1, 1))  # crop top/left, zero-pad bottom/right
        return self.bn(torch.cat([self.path1(x), self.path2(shifted)], dim=1))


OPS: dict[str, OpFactory] = {
    "identity": identity,
    "conv_1x3_3x1": lambda c_in, c_out, stride: conv_1xk_kx1(c_in, c_out, 3, stride),
    "conv_1x7_7x1": lambda c_in, c_out, stride: conv_1xk_kx1(c_in, c_out, 7, stride),
    "dil_conv_3x3": lambda c_in, c_out, stride: relu_conv_bn(c_in, c_out, 3, stride, 2, dilation=2),
    "avg_pool_3x3": lambda c_in, c_out, stride: pooling("avg", 3, c_in, c_out, stride),
    "max_pool_3x3": lambda c_in, c_out, stride: pooling("max", 3, c_in, c_out, stride),
    "max_pool_5x5": lambda c_in, c_out, stride: pooling("max", 5, c_in, c_out, stride),
    "max_pool_7x7": lambda c_in, c_out, stride: pooling("max", 7, c_in, c_out, stride),
    "conv_1x1": lambda c_in, c_out, stride: relu_conv_bn(c_in, c_out, 1, stride),
    "conv_3x3": lambda c_in, c_out, stride: relu_conv_bn(c_in, c_out, 3, stride, 1),
    "sep_conv_3x3": lambda c_in, c_out, stride: separable_conv(c_in, c_out, 3, stride),
    "sep_conv_5x5": lambda c_in, c_out, stride: separable_conv(c_in, c_out, 5, stride),
    "sep_conv_7x7": lambda c_in, c_out, stride: separable_conv(c_in, c_out, 7, stride),
}
