"""``python -m alukit book --only NAME -p KEY VALUE``: overrides checked against the parameters cell."""
import pytest

from alukit.__main__ import main as cli
from alukit.book import build as book


def test_overrides_are_parsed_as_yaml_scalars():
    got = book.parameter_overrides(["01_process"], [("mode", "operational"), ("dt", "2e1"), ("process_trajectories", "3"),
                                                    ("acd_change", "0.02")])
    assert got == {"mode": "operational", "dt": 20.0, "process_trajectories": 3, "acd_change": 0.02}
    assert isinstance(got["process_trajectories"], int) and isinstance(got["dt"], float)
    assert book.parameter_overrides(["01_process"], []) == {}


def test_unknown_names_are_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match=r"'lam'.*allowed: profile, seed, process_trajectories, n_steps, mode, dt, acd_change"):
        book.parameter_overrides(["01_process"], [("lam", "1")])
    with pytest.raises(ValueError, match="needs --only"):
        book.parameter_overrides([], [("mode", "random")])
    with pytest.raises(ValueError, match="single YAML scalar"):
        book.parameter_overrides(["01_process"], [("mode", "[1, 2]")])


def test_the_command_line_refuses_before_executing(capsys):
    assert cli(["book", "--only", "05_results", "-p", "l1_lambda", "1", "--no-build"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "l1_lambda" in err and "l1_factor" in err and "profile" in err


def test_notebooks_run_side_by_side_and_an_error_stops_the_wait_at_once():
    """``_as_completed``: every item once, as it finishes; a failing task's error is raised without waiting for a
    task still running (as Ctrl-C is: the wait ends at once, the running notebook ends with the process)."""
    import time

    def task(item):
        if item == "slow":
            time.sleep(5)
        if item == "bad":
            raise ValueError("bad notebook")
        return item.upper()

    assert sorted(book._as_completed(task, ["a", "b", "c"], 2)) == [("a", "A"), ("b", "B"), ("c", "C")]
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="bad notebook"):
        list(book._as_completed(task, ["slow", "bad", "never"], 2))
    assert time.perf_counter() - t0 < 2


def test_kernels_side_by_side_share_the_cores_and_a_users_setting_wins(monkeypatch):
    """A process started under ``_shared_cores`` (as papermill starts a kernel) runs torch on cores // workers
    threads; the variables are gone afterwards, and a value the user set is kept."""
    import os
    import subprocess
    import sys

    probe = [sys.executable, "-c", "import torch; print(torch.get_num_threads())"]
    for v in book.THREAD_VARIABLES:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    with book._shared_cores(2):
        assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip() == "2"
    with book._shared_cores(8):
        assert all(os.environ[v] == "1" for v in book.THREAD_VARIABLES)
    assert not any(v in os.environ for v in book.THREAD_VARIABLES)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    with book._shared_cores(2):
        assert os.environ["OMP_NUM_THREADS"] == "3" and os.environ["MKL_NUM_THREADS"] == "2"
    assert os.environ["OMP_NUM_THREADS"] == "3" and "MKL_NUM_THREADS" not in os.environ


def test_notebooks_start_longest_first_by_the_recorded_build(monkeypatch):
    monkeypatch.setattr(book, "recorded", lambda: {"quick": {"seconds": {"a": 3.0, "b": 30.0, "c": 12.0,
                                                                         "html": 9.0}}})
    assert book.longest_first(["a", "b", "c", "new"], "quick") == ["new", "b", "c", "a"]
    assert book.longest_first(["a", "b", "c"], "mine") == ["a", "b", "c"]  # no record: the given order
    monkeypatch.setattr(book, "recorded", lambda: {"quick": {"seconds": {"a": "3 s"}}})
    assert book.longest_first(["a", "b"], "quick") == ["a", "b"]  # an unreadable record: the given order


def test_reproduce_trains_every_study_in_one_pool_then_writes_them_side_by_side(monkeypatch, capsys):
    """`book --reproduce`: one training pool for every stale study's runs, then one write per stale study through the
    worker pool (longest first); a study that is current is neither trained nor written."""
    from alukit.training import pool

    calls = {}
    monkeypatch.setattr(book.reproduce, "stale_reason", lambda prof, v: None if v == "corrected" else "missing")
    monkeypatch.setattr(book.sparse_dnn, "is_current", lambda prof: False)
    monkeypatch.setattr(book, "_study_jobs", lambda prof, name: [f"{name}-run"])
    monkeypatch.setattr(book.train, "train_many", lambda jobs, **kw: calls.setdefault("trained", (list(jobs), kw)))
    for variable in book.THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(book.train, "default_workers", lambda: 2)
    monkeypatch.setattr(book.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(pool, "run_all", lambda task, items, workers: calls.setdefault(
        "written", (task, items, workers, {v: book.os.environ.get(v) for v in book.THREAD_VARIABLES})))
    book._reproduce("quick")
    assert calls["trained"] == (["faithful-run", "sparse-dnn-run"], {"progress": False})
    task, items, workers, threads = calls["written"]
    assert task is book._write_study and [name for _, name in items] == ["faithful", book.SPARSE_DNN]
    assert workers == 2 and set(threads.values()) == {"2"}  # the workers share the cores, a thread pool each
    assert not any(v in book.os.environ for v in book.THREAD_VARIABLES)
    out = capsys.readouterr().out
    assert "results of quick-faithful: missing; running python -m alukit reproduce" in out and "corrected" not in out


def test_a_study_written_by_a_pool_worker_trains_a_missing_run_in_its_own_process(monkeypatch):
    """A pool worker may start no processes: a run gone from the cache since the pool trained it trains in the
    worker itself (one worker), and then the study is written."""
    seen = []
    monkeypatch.setattr(book, "_study_jobs", lambda prof, name: [f"{name}-run"])
    monkeypatch.setattr(book.train, "train_many", lambda jobs, **kw: seen.append(("train", jobs, kw)))
    monkeypatch.setattr(book.reproduce, "run", lambda prof, variant, **kw: seen.append(("study", variant)))
    monkeypatch.setattr(book.sparse_dnn, "run", lambda prof, **kw: seen.append(("sparse-dnn",)))
    assert book._write_study(("P", "corrected")) == "corrected"
    assert book._write_study(("P", book.SPARSE_DNN)) == book.SPARSE_DNN
    assert seen == [("train", ["corrected-run"], {"workers": 1, "progress": False}), ("study", "corrected"),
                    ("train", ["sparse-dnn-run"], {"workers": 1, "progress": False}), ("sparse-dnn",)]


def test_a_stop_while_studies_are_written_says_what_is_kept(monkeypatch):
    from alukit.training import pool

    monkeypatch.setattr(book.reproduce, "stale_reason", lambda prof, v: "missing")
    monkeypatch.setattr(book.sparse_dnn, "is_current", lambda prof: False)
    monkeypatch.setattr(book, "_study_jobs", lambda prof, name: [])

    def stopped(task, items, workers):
        raise pool.Stopped(1, len(items))

    monkeypatch.setattr(pool, "run_all", stopped)
    with pytest.raises(KeyboardInterrupt, match="every training run and 1 of 3 results folders finished"):
        book._reproduce("quick")
