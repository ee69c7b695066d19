import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Test networks are tiny and op-overhead bound: on a shared 2-core machine extra torch
    threads only spin (measured 2.5-20x slower), so the whole suite trains on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
