import pytest
import torch

from nas_optuna import NASNET_A, Block, Cell, Genotype, build_network
from nas_optuna.drop_path import DropPath, layer_keep_prob, scheduled_keep_prob


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_schedule_starts_at_one_and_ends_at_the_layer_keep_prob():
    for cell_index in range(8):
        assert scheduled_keep_prob(0.6, cell_index, 8, 0.0) == 1.0
        expected = 1 - (cell_index + 1) / 8 * 0.4
        assert scheduled_keep_prob(0.6, cell_index, 8, 1.0) == pytest.approx(expected)
        assert layer_keep_prob(0.6, cell_index, 8) == pytest.approx(expected)
        midway = scheduled_keep_prob(0.6, cell_index, 8, 0.5)
        assert midway == pytest.approx((1 + expected) / 2)
    assert layer_keep_prob(0.6, 7, 8) == pytest.approx(0.6)  # the last cell reaches keep_prob


def test_drop_path_zeroes_whole_examples_and_scales_survivors():
    torch.manual_seed(0)
    drop = DropPath(0.5, cell_index=0, total_cells=1)
    drop.set_progress(1.0)
    assert float(drop.keep) == pytest.approx(0.5)
    out = drop(torch.ones(256, 3, 2, 2))
    per_example = out.flatten(1)
    assert set(per_example.unique().tolist()) == {0.0, 2.0}
    assert (per_example == per_example[:, :1]).all()  # one decision per example
    assert 0.35 < (per_example[:, 0] > 0).float().mean() < 0.65
    assert drop(torch.ones(8, 3, 2, 2, dtype=torch.bfloat16)).dtype == torch.bfloat16
    drop.eval()
    assert torch.equal(drop(torch.ones(4, 3)), torch.ones(4, 3))


def test_state_dict_does_not_depend_on_drop_path():
    trained = build_network(NASNET_A, n_cells=1, filters=8, drop_path_keep=0.6)
    trained.set_drop_path_progress(0.7)
    evaluated = build_network(NASNET_A, n_cells=1, filters=8)
    evaluated.load_state_dict(trained.state_dict())  # strict: same keys


def test_network_drops_paths_per_example_in_training_only():
    model = build_network(NASNET_A, n_cells=1, filters=8, drop_path_keep=0.6)
    model.set_drop_path_progress(1.0)
    for module in model.modules():  # BN on running stats, so examples do not mix
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eval()
    same = torch.randn(1, 3, 16, 16).expand(8, 3, 16, 16)
    torch.manual_seed(0)
    logits = model(same)
    assert not torch.allclose(logits, logits[:1].expand_as(logits))  # copies of one image differ
    model.eval()
    logits = model(same)
    torch.testing.assert_close(logits, logits[:1].expand_as(logits))


def test_drop_path_off_at_progress_zero_and_without_keep():
    x = torch.randn(4, 3, 16, 16)
    for keep, progress in ((0.6, 0.0), (1.0, 1.0)):
        model = build_network(NASNET_A, n_cells=1, filters=8, drop_path_keep=keep)
        model.set_drop_path_progress(progress)
        torch.manual_seed(0)
        first = model(x)
        torch.manual_seed(1)
        torch.testing.assert_close(model(x), first)


def test_drop_path_is_never_applied_to_identity_ops():
    # Identity with a channel change (2F -> F) is a 1x1 conv, yet still not dropped.
    cell = Cell((Block(0, 1, "identity", "identity", "concat"), Block(2, 0, "identity", "conv_1x1", "add")))
    model = build_network(Genotype(cell, cell), n_cells=1, filters=8, drop_path_keep=0.5)
    for network_cell in model.cells:
        wrapped = [isinstance(m, DropPath) for m in [*network_cell.drops_a, *network_cell.drops_b]]
        assert wrapped == [False, False, False, True]  # drops_a then drops_b; only conv_1x1 is dropped
    nasnet = build_network(NASNET_A, n_cells=1, filters=8, drop_path_keep=0.5)
    n_identities = sum(op == "identity" for b in NASNET_A.normal.blocks for op in (b.op_a, b.op_b))
    n_normal_drops = sum(isinstance(m, DropPath) for m in nasnet.cells[0].modules())
    assert n_normal_drops == 10 - n_identities


def test_deeper_cells_get_lower_keep_probs():
    model = build_network(NASNET_A, n_cells=2, filters=8, drop_path_keep=0.6)
    model.set_drop_path_progress(1.0)
    keeps = [float(next(m for m in cell.modules() if isinstance(m, DropPath)).keep) for cell in model.cells]
    total = len(model.cells)
    assert keeps == pytest.approx([1 - (i + 1) / total * 0.4 for i in range(total)])
