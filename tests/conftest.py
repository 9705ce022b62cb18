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


def _with_key(spec: str, change: str) -> str:
    """The YAML text ``spec`` with the top-level key of ``change`` (a ``key: …`` block) replaced by it, or added."""
    key = change.split(":")[0]
    out, skip = [], False
    for line in spec.splitlines(keepends=True):
        if line.startswith(f"{key}:"):
            skip = True
            continue
        if skip and line.startswith(" "):
            continue
        skip = False
        out.append(line)
    return "".join(out) + change


@pytest.fixture
def spec_with():
    """``spec_with(spec, change)``: a YAML spec with one top-level key replaced (for bad-spec tests)."""
    return _with_key


def _refused_in_one_line(load_spec, error, main, path, out, words, capsys):
    """A bad sweep spec: ``load_spec(path)`` raises ``error`` naming every one of ``words``, and ``main`` (the command line)
    exits with the usage status after one ``error:`` line, no traceback, nothing written to ``out``."""
    with pytest.raises(error) as exc:
        load_spec(path)
    for w in words:
        assert w in str(exc.value), (w, str(exc.value))
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.fixture
def refused_in_one_line():
    """``refused_in_one_line(load_spec, error, main, path, out, words, capsys)``: a bad spec is refused by name."""
    return _refused_in_one_line
