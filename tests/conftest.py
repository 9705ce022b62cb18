import pytest


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private, empty cache folder for one test."""
    monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
