import pytest

from alukit.book import exercises


def test_check_within_and_outside_tolerance(tmp_cache):
    exercises.record("ch3-mp-arithmetic", 33.2, tol=0.5)
    assert exercises.check("ch3-mp-arithmetic", 33.0)
    assert exercises.check("ch3-mp-arithmetic", "33.7")  # a number typed as text counts
    assert not exercises.check("ch3-mp-arithmetic", 68.4)
    assert not exercises.check("ch3-mp-arithmetic", 32.6)
    assert (tmp_cache / "exercises" / "ch3-mp-arithmetic.json").is_file()


def test_check_uses_the_latest_recorded_value(tmp_cache):
    exercises.record("ch5-l1-lambda", 10.0, tol=1)
    exercises.record("ch5-l1-lambda", 50.0, tol=1)
    assert exercises.check("ch5-l1-lambda", 50.5)
    assert not exercises.check("ch5-l1-lambda", 10.0)


def test_verdict_never_gives_the_value_away(tmp_cache):
    exercises.record("ch4-euler", 12.345678, tol=0.01)
    for answer in (0.0, 12.34, 99.0):
        text = str(exercises.check("ch4-euler", answer)) + repr(exercises.check("ch4-euler", answer))
        assert "12.3" not in text and "higher" not in text and "lower" not in text
        assert "ch4-euler" in text and "0.01" in text


def test_record_displays_nothing(tmp_cache):
    assert exercises.record("ch1-x", 1.0, tol=0.1) is None


def test_bad_input_is_refused_by_name(tmp_cache):
    with pytest.raises(LookupError, match="ch9-none"):
        exercises.check("ch9-none", 1.0)
    exercises.record("ch1-x", 1.0, tol=0.1)
    with pytest.raises(ValueError, match="answer"):
        exercises.check("ch1-x", "about one")
    with pytest.raises(ValueError, match="answer"):
        exercises.check("ch1-x", float("nan"))
    with pytest.raises(ValueError, match="exercise_id"):
        exercises.check("../../etc/passwd", 1.0)
    with pytest.raises(ValueError, match="tol"):
        exercises.record("ch1-x", 1.0, tol=-1)
    with pytest.raises(ValueError, match="value"):
        exercises.record("ch1-x", float("inf"), tol=1)
