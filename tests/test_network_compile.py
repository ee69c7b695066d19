import pytest
import torch

from nas_optuna import NASNET_A, build_network


@pytest.mark.slow
def test_compiled_network_has_one_graph_and_no_recompiles_along_the_drop_path_schedule():
    from torch._dynamo.testing import CompileCounter

    torch.manual_seed(0)
    model = build_network(NASNET_A, n_cells=1, filters=8, drop_path_keep=0.6, aux_head=True)
    counter = CompileCounter()
    compiled = torch.compile(model, backend=counter, fullgraph=True)  # fullgraph: no graph breaks
    x = torch.randn(4, 3, 32, 32)
    for progress in (0.0, 0.3, 0.9):
        model.set_drop_path_progress(progress)
        logits, aux_logits = compiled(x)
        assert logits.shape == aux_logits.shape == (4, 10)
    assert counter.frame_count == 1
