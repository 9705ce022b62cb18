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
