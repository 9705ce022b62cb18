"""The generated parts of README.md and results/README.md match the committed results they quote."""
import shutil

import pandas as pd
import pytest

from alukit import profiles
from alukit.book import readme
from alukit.studies import paper, reproduce


def test_all_generated_parts_are_current():
    stale = readme.update(check=True)
    assert not stale, f"out of date: {', '.join(map(str, stale))}; run: python -m alukit readme"


def _copies(tmp_path):
    """Copies of README.md, results/README.md, book/index.md and sweeps/README.md whose generated parts say only
    'stale'."""
    out = []
    for path, copy in ((readme.README, tmp_path / "README.md"), (readme.RESULTS_README, tmp_path / "results" / "README.md"),
                       (readme.BOOK_INDEX, tmp_path / "book" / "index.md"),
                       (readme.SWEEPS_README, tmp_path / "sweeps" / "README.md")):
        head, _, tail = readme._split(path.read_text(encoding="utf-8"))
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(head + readme.START + "\n| stale | 1 |\n" + readme.END + tail, encoding="utf-8")
        out.append(copy)
    return out


def test_update_rewrites_only_the_generated_parts_of_every_file(tmp_path):
    ours, results, index, sweeps = _copies(tmp_path)
    kw = dict(readme=ours, results_readme=results, book_index=index, sweeps_readme=sweeps)
    assert readme.update(check=True, **kw) == [ours, results, index, sweeps]
    assert all("stale" in f.read_text(encoding="utf-8") for f in (ours, results, index, sweeps))  # --check wrote nothing
    assert readme.update(**kw) == [ours, results, index, sweeps]
    assert ours.read_text(encoding="utf-8") == readme.README.read_text(encoding="utf-8")
    assert results.read_text(encoding="utf-8") == readme.RESULTS_README.read_text(encoding="utf-8")
    assert index.read_text(encoding="utf-8") == readme.BOOK_INDEX.read_text(encoding="utf-8")
    assert sweeps.read_text(encoding="utf-8") == readme.SWEEPS_README.read_text(encoding="utf-8")
    assert readme.update(check=True, **kw) == []


def test_a_verdict_resting_on_an_entry_beyond_sampling_carries_a_caveat():
    """An entry the comparisons use, with the paper outside our interval and > 5 points away, is named."""
    res = reproduce.load("paper", "faithful", tables_only=True)
    row = res.comparisons.iloc[0]
    stats = res.stats.copy()
    at = (stats.statistic == "divergence") & (stats.config == row.better) & (stats.horizon == row.horizon)
    reference = paper.table2("computed").at[row.better, int(row.horizon)]
    far = reference + 40 if reference < 50 else reference - 40
    stats.loc[at, ["estimate", "low", "high"]] = [far, far - 1, far + 1]
    caveats = readme.caveats_of(res._replace(stats=stats))
    named = f"{paper.LABELS[row.better]} at {int(row.horizon)} ΔT"
    assert named in caveats[row.conclusion]
    stats.loc[at, ["estimate", "low", "high"]] = [reference, reference - 1, reference + 1]
    assert named not in readme.caveats_of(res._replace(stats=stats)).get(row.conclusion, "")


def test_markers_are_required_in_both_files(tmp_path):
    bad = tmp_path / "README.md"
    bad.write_text("# no markers\n", encoding="utf-8")
    good = tmp_path / "results" / "README.md"
    good.parent.mkdir()
    shutil.copy(readme.RESULTS_README, good)
    with pytest.raises(ValueError, match="README.md must contain the markers"):
        readme.update(readme=bad, results_readme=good, book_index=None)
    with pytest.raises(ValueError, match="must contain the markers"):
        readme.update(readme=good, results_readme=bad, book_index=None)
    with pytest.raises(ValueError, match="must contain the markers"):
        readme.update(readme=good, results_readme=good, book_index=bad)
    with pytest.raises(ValueError, match="must contain the markers"):
        readme.update(readme=good, results_readme=good, book_index=None, sweeps_readme=bad)
    assert good.read_text(encoding="utf-8") == readme.RESULTS_README.read_text(encoding="utf-8")  # nothing written


def _generated(path) -> str:
    return readme._split(path.read_text(encoding="utf-8"))[1]


def test_headline_quotes_the_committed_verdicts_and_the_tables_go_to_results_readme():
    headline, tables = _generated(readme.README), _generated(readme.RESULTS_README)
    for variant in reproduce.VARIANTS:
        conclusions = pd.read_csv(reproduce.study(profiles.load("paper"), variant).file("conclusions.csv"))
        assert len(conclusions) == 5
        for row in conclusions.itertuples():
            cell = f"**{row.verdict}** ({row.holding} of {row.comparisons} comparisons hold"
            line = next(line for line in headline.splitlines() if line.startswith(f"| {row.claim} "))  # then a caveat
            assert cell in line.split(" | ")[1 + reproduce.VARIANTS.index(variant)], (variant, row.conclusion)
    assert "| Model type |" not in headline and "Benchmarks" not in headline
    for label in paper.LABELS.values():
        assert f"| {label} |" in tables
    assert "Benchmarks" in tables and "Book builds" in tables
    assert len(readme.README.read_text(encoding="utf-8").splitlines()) <= 120


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
                   book._record("paper", {"01_process": 5.0, "html": 70.0}, 4000.0, False, 32)):
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


def test_a_build_record_names_its_machine_and_the_speed_it_ran_at():
    """Build times are comparable only at one speed: a record made with ``sgemm_gflops`` shows it, an older one not."""
    import torch
    from alukit.book import bench

    threads = torch.get_num_threads()
    speed = bench.sgemm_gflops(n=256, repeats=2)
    assert 0 < speed < 1e5 and torch.get_num_threads() == threads
    assert readme._machine({"machine": {"cpus": 2, "sgemm_gflops": 54.4}}) == "2 CPUs at 54 GFLOP/s a core"
    assert readme._machine({"machine": {"cpus": 2}}) == "2 CPUs"
