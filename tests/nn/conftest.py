"""Engine tests run on one torch thread: the machine is shared and tiny nets never gain
from a second thread (see DESIGN.md)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    torch.set_num_threads(1)
