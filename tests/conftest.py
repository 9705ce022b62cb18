import pytest
import torch


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private, empty cache folder for one test."""
    monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def one_thread():
    """Tiny matmuls: one thread is fastest and immune to other processes on the cores."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
