import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models: one intra-op thread avoids OpenMP barrier stalls on a loaded 2-core machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)

import sys
from pathlib import Path

# the tests import their helper module (nn_driver.py) by name; --import-mode=importlib adds no path
sys.path.insert(0, str(Path(__file__).parent))
