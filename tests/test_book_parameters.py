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
