"""Model size: trainable parameters and multiply-adds of one forward pass."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_mult_adds(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply-adds of Conv2d and Linear layers for one example, measured in eval mode.

    ``input_size`` is (C, H, W) or (N, C, H, W); the count is per example. Eval mode leaves
    out training-only parts such as the aux head, as published mult-add figures do.
    """
    shape = tuple(input_size)
    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or any(not isinstance(s, int) or s < 1 for s in shape):
        raise ValueError(f"input_size must be (C, H, W) or (N, C, H, W) positive ints, got {input_size!r}")
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else "cpu"
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return total // shape[0]
