"""The README's generated results section matches the committed results it quotes."""
import pytest

from alukit.book import readme

def test_readme_results_section_is_current():
    assert readme.update(check=True), "README.md's results section is out of date; run: python -m alukit readme"


def test_update_rewrites_only_the_section(tmp_path):
    text = readme.README.read_text(encoding="utf-8")
    head, _, tail = readme._split(text)
    stale = tmp_path / "README.md"
    stale.write_text(head + readme.START + "\n| stale | 1 |\n" + readme.END + tail, encoding="utf-8")
    assert not readme.update(stale, check=True)
    assert "stale" in stale.read_text(encoding="utf-8")  # --check writes nothing
    assert not readme.update(stale)
    assert stale.read_text(encoding="utf-8") == text
    assert readme.update(stale, check=True)


def test_markers_are_required(tmp_path):
    bad = tmp_path / "README.md"
    bad.write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must contain the markers"):
        readme.update(bad)


def test_saved_benchmark_reaches_the_readme_table(tmp_path, monkeypatch, capsys):
    from alukit.book import bench

    monkeypatch.setattr(bench, "SAVED_DIR", tmp_path)
    args = ["simulate", "--save", "--trajectories", "2", "--steps", "20", "--ref-trajectories", "1", "--repeat", "1"]
    assert bench.main(args) == 0
    saved = bench.saved()
    assert list(saved) == ["simulate"] and saved["simulate"]["ratio"] > 0
    assert bench._save_to is None  # --save applies to that run only
    lines = readme._benchmarks(saved)
    assert lines[-1].startswith("| `bench simulate` | simulate 2 x 20 samples")
    assert readme._benchmarks({}) == []


def test_recorded_book_build_reaches_the_readme_table(tmp_path, monkeypatch):
    from alukit.book import build as book

    monkeypatch.setattr(book, "TIMES_DIR", tmp_path)
    for record in (book._record("quick", {"01_process": 3.2, "html": 61.0}, 125.4, True, 0),
                   book._record(tmp_path / "paper.yaml", {"01_process": 5.0, "html": 70.0}, 4000.0, False, 32)):
        book.write_json(tmp_path / f"{record['profile']}.json", record)
    records = book.recorded()
    assert list(records) == ["paper", "quick"] and records["quick"]["total_seconds"] == 125.4
    lines = readme._book_builds(records)
    rows = [line for line in lines if line.startswith("| `make book")]  # a quick Table 2 may follow the rows
    assert len(rows) == 2
    assert rows[0].startswith("| `make book` | **66 min 40 s** | warm build folder, 32 training runs cached |")
    assert rows[1].startswith("| `make book PROFILE=quick` | **2 min 5 s** | empty build folder, empty training cache | "
                              "01_process 3.2 s, html 1 min 1 s |")
    assert readme._book_builds({}) == []
