"""NAS-Bench-201 costs: hand-derived values, a torch build of the network, the objective's attrs."""

import optuna
import pytest
import torch
from nas_optuna.objectives import make_objective
from torch import nn

from nas_optuna.flops import count_mult_adds, count_parameters
from nas_optuna.nb201 import NB201_EDGES, edge_name, nb201_space, params_from_cellstr
from nas_optuna.nb201_cost import cost_of_ops, nb201_cost

ALL = {op: {name: op for name in nb201_space()} for op in ("none", "nor_conv_3x3", "nor_conv_1x1")}
# Per cell and stage C*C*H*W = 16*16*32*32 = 262,144 (the same in all three stages).
CCHW = 16 * 16 * 32 * 32


def test_all_none_network_costs_only_stem_reductions_and_classifier():
    # stem 3x3x3x16 on 32x32; two reduction blocks (two 3x3 convs + a 1x1 shortcut); FC 64x10
    stem = 9 * 3 * 16 * 32 * 32
    reductions = 9 * 16 * 32 * 16 * 16 + 9 * 32 * 32 * 16 * 16 + 16 * 32 * 16 * 16
    reductions += 9 * 32 * 64 * 8 * 8 + 9 * 64 * 64 * 8 * 8 + 32 * 64 * 8 * 8
    assert cost_of_ops(ALL["none"]).mult_adds == stem + reductions + 64 * 10 == 7_783_040


def test_each_conv_edge_adds_its_cost_in_all_fifteen_cells():
    base = cost_of_ops(ALL["none"])
    assert cost_of_ops(ALL["nor_conv_3x3"]).mult_adds == base.mult_adds + 6 * 15 * 9 * CCHW == 220_119_680
    assert cost_of_ops(ALL["nor_conv_1x1"]).mult_adds == base.mult_adds + 6 * 15 * CCHW
    one = {**ALL["none"], "edge_3_2": "nor_conv_3x3"}
    conv_params = 5 * sum(9 * c * c + 2 * c for c in (16, 32, 64))  # weights + BN per stage
    assert cost_of_ops(one).n_params == base.n_params + conv_params
    # weight-free ops cost nothing
    free = {**ALL["none"], "edge_1_0": "skip_connect", "edge_2_0": "avg_pool_3x3"}
    assert cost_of_ops(free) == base


class _ReLUConvBN(nn.Sequential):
    def __init__(self, c_in, c_out, k, stride=1):
        conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        super().__init__(nn.ReLU(), conv, nn.BatchNorm2d(c_out))


class _Cell(nn.Module):
    def __init__(self, ops, c):
        super().__init__()
        make = {
            "nor_conv_3x3": lambda: _ReLUConvBN(c, c, 3),
            "nor_conv_1x1": lambda: _ReLUConvBN(c, c, 1),
            "avg_pool_3x3": lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False),
            "skip_connect": nn.Identity,
        }
        self.edges = nn.ModuleDict({edge_name(t, s): make[ops[edge_name(t, s)]]() for t, s in NB201_EDGES
                                    if ops[edge_name(t, s)] != "none"})  # fmt: skip

    def forward(self, x):
        nodes = [x]
        for to in (1, 2, 3):
            names = [(edge_name(to, s), s) for s in range(to)]
            parts = [self.edges[name](nodes[s]) for name, s in names if name in self.edges]
            nodes.append(sum(parts) if parts else torch.zeros_like(x))
        return nodes[3]


class _Reduction(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.a, self.b = _ReLUConvBN(c_in, c_out, 3, 2), _ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        return self.b(self.a(x)) + self.shortcut(x)


def _tiny_network(ops):
    layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)]
    for i, c in enumerate((16, 32, 64)):
        if i:
            layers.append(_Reduction(c // 2, c))
        layers += [_Cell(ops, c) for _ in range(5)]
    layers += [nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


@pytest.mark.parametrize(
    "cellstr",
    [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|",
    ],
)
def test_analytic_cost_equals_the_cost_of_the_network_built_in_torch(cellstr):
    ops = params_from_cellstr(cellstr)
    model = _tiny_network(ops)
    cost = nb201_cost(ops)
    assert (cost.mult_adds, cost.n_params) == (count_mult_adds(model, (3, 32, 32)), count_parameters(model))


def test_the_nb201_objective_records_mult_adds_and_params():
    objective = make_objective({"name": "nb201"}, nb201_space())
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(objective, n_trials=5)
    for trial in study.trials:
        cost = nb201_cost(trial.params)
        assert trial.user_attrs["mult_adds"] == cost.mult_adds
        assert trial.user_attrs["n_params"] == cost.n_params
        assert 7_783_040 <= cost.mult_adds <= 220_119_680
