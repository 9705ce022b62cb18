"""alukit.profiles: a profile is a validated, frozen object; a typo is refused by name."""
import dataclasses

import pytest

from alukit import profiles

GOOD = "profile: mine\nseed: 1\nn_train: 2\nn_val: 1\nn_test: 1\nn_steps: 100\ndt: 10.0\nmodels: 2\n"


def _write(tmp_path, text):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return path


def test_shipped_profiles_load_as_frozen_objects():
    for name in profiles.PROFILES:
        p = profiles.load(name)
        assert isinstance(p, profiles.Profile) and p.profile == name
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.models = 99
        assert profiles.load(p) is p
    paper = profiles.load("paper")
    assert (paper.models, paper.n_train, paper.train_epoch_scale) == (10, 40, 1.0)
    assert paper["n_steps"] == paper.n_steps == 5000 and "horizons" not in paper


def test_a_path_is_a_profile_too_with_defaults_for_optional_keys(tmp_path):
    p = profiles.load(_write(tmp_path, GOOD))
    assert p.profile == "mine" and p.train_epoch_scale == 1.0 and p.train_trajectories is None
    assert p.process_trajectories == 5 and p.horizons is None and p.get("horizons", (7,)) == (7,)
    assert profiles.load(str(_write(tmp_path, GOOD + "horizons: [10, 50]\n"))).horizons == (10, 50)


@pytest.mark.parametrize("text,words", [
    (GOOD + "modles: 3\n", ["unknown key", "modles"]),
    (GOOD.replace("n_val: 1\n", ""), ["missing key", "n_val"]),
    (GOOD.replace("models: 2", "models: two"), ["models", "positive integer"]),
    (GOOD.replace("models: 2", "models: true"), ["models", "positive integer"]),
    (GOOD.replace("dt: 10.0", "dt: -1"), ["dt", "positive number"]),
    (GOOD + "train_epoch_scale: 2\n", ["train_epoch_scale", "(0, 1]"]),
    (GOOD + "train_trajectories: 3\n", ["train_trajectories", "n_train"]),
    (GOOD + "horizons: 100\n", ["horizons", "list"]),
    ("- a\n- b\n", ["mapping"]),
])
def test_bad_profiles_are_refused_naming_the_key_and_the_file(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError) as err:
        profiles.load(path)
    for w in words + [str(path)]:
        assert w in str(err.value)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="quick, paper"):
        profiles.load("huge")
