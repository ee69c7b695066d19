import pytest
import torch

from nas_optuna import NASNET_A, Block, Cell, Genotype, build_network
from nas_optuna.drop_path import DropPath, layer_keep_prob, scheduled_keep_prob


def test_schedule_starts_at_one_and_ends_at_the_layer_keep_prob():
    for cell_index in range(8):
        assert scheduled_keep_prob(0.6, cell_index, 8, 0.0) == 1.0
        expected = 1 - (cell_index + 1) / 8 * 0.4
        assert scheduled_keep_prob(0.6, cell_index, 8, 1.0) == pytest.approx(expected)
        assert layer_keep_prob(0.6, cell_index, 8) == pytest.approx(expected)
        midway = scheduled_keep_prob(0.6, cell_index, 8, 0.5)
        assert midway == pytest.approx((1 + expected) / 2)
    assert layer_keep_prob(0.6, 7, 8) == pytest.approx(0.6)  # the last cell reaches keep_prob


def test_drop_path_masks_zero_whole_examples_and_scale_survivors():
    torch.manual_seed(0)
    drop = DropPath(3, keep_prob=0.5, cell_index=0, total_cells=1)
    drop.set_progress(1.0)
    assert float(drop.keep) == pytest.approx(0.5)
    masks = drop.masks(torch.ones(256, 8, 2, 2))
    assert masks.shape == (3, 256, 1, 1, 1)  # one value per op and example, broadcast over C, H, W
    assert set(masks.unique().tolist()) == {0.0, 2.0}
    assert 0.35 < (masks > 0).float().mean() < 0.65
    assert not torch.equal(masks[0], masks[1])  # ops draw independently
    assert drop.masks(torch.ones(8, 3, 2, 2, dtype=torch.bfloat16)).dtype == torch.bfloat16
    drop.set_progress(0.0)
    assert torch.equal(drop.masks(torch.ones(8, 3, 2, 2)), torch.ones(3, 8, 1, 1, 1))


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
        assert network_cell.dropped_ops == ((False, False), (False, True))  # only conv_1x1
        assert network_cell.drop_path.n_ops == 1
    nasnet = build_network(NASNET_A, n_cells=1, filters=8, drop_path_keep=0.5)
    n_identities = sum(op == "identity" for b in NASNET_A.normal.blocks for op in (b.op_a, b.op_b))
    assert nasnet.cells[0].drop_path.n_ops == 10 - n_identities
    identities = [(b.op_a == "identity", b.op_b == "identity") for b in NASNET_A.normal.blocks]
    assert nasnet.cells[0].dropped_ops == tuple((not a, not b) for a, b in identities)
    assert build_network(NASNET_A, n_cells=1, filters=8).cells[0].drop_path is None


def test_deeper_cells_get_lower_keep_probs():
    model = build_network(NASNET_A, n_cells=2, filters=8, drop_path_keep=0.6)
    model.set_drop_path_progress(1.0)
    keeps = [float(cell.drop_path.keep) for cell in model.cells]
    total = len(model.cells)
    assert keeps == pytest.approx([1 - (i + 1) / total * 0.4 for i in range(total)])
