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
        assert isinstance(p, profiles.Profile) and p.name == name
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.models = 99
        assert profiles.load(p) is p
    paper = profiles.load("paper")
    assert (paper.models, paper.n_train, paper.train_epoch_scale) == (10, 40, 1.0)
    assert paper.n_steps == 5000 and paper.horizons is None and not paper.is_reduced
    assert paper.sparse_dnn == profiles.SparseDNN(sizes=(5, 10, 20, 40), models=10, epochs=100, test_trajectories=100)
    assert profiles.load("quick").sparse_dnn.models == 4 and profiles.load("quick").is_reduced


def test_a_path_is_a_profile_too_with_defaults_for_optional_keys(tmp_path):
    p = profiles.load(_write(tmp_path, GOOD))
    assert p.name == "mine" and p.train_epoch_scale == 1.0 and p.train_trajectories is None
    assert p.process_trajectories == 5 and p.horizons is None and p.sparse_dnn == profiles.SparseDNN()
    assert profiles.load(str(_write(tmp_path, GOOD + "horizons: [10, 50]\n"))).horizons == (10, 50)


@pytest.mark.parametrize("text,words", [
    (GOOD + "modles: 3\n", ["unknown key", "modles"]),
    (GOOD.replace("n_val: 1\n", ""), ["missing key", "n_val"]),
    (GOOD.replace("models: 2", "models: two"), ["models", "an integer in [1, 1000]", "'two'"]),
    (GOOD.replace("models: 2", "models: true"), ["models", "an integer in [1, 1000]"]),
    (GOOD.replace("models: 2", "models: 1000000000"), ["models", "an integer in [1, 1000]"]),
    (GOOD.replace("n_steps: 100", "n_steps: 1"), ["n_steps", "an integer in [2,"]),
    (GOOD.replace("dt: 10.0", "dt: -1"), ["dt", "finite number of seconds"]),
    (GOOD.replace("dt: 10.0", "dt: .inf"), ["dt", "finite number of seconds", "inf"]),
    (GOOD.replace("dt: 10.0", "dt: .nan"), ["dt", "finite number of seconds"]),
    (GOOD + "sparse_dnn_sizes: [5]\n", ["unknown key", "sparse_dnn_sizes", "now a section"]),
    (GOOD + "sparse_dnn:\n  sizes: [1, 5]\n", ["sparse_dnn.sizes", "5, 10, 20, 40", "[1, 5]"]),
    (GOOD + "sparse_dnn:\n  models: 1\n", ["sparse_dnn.models", "[2, 10000]"]),
    (GOOD + "sparse_dnn: 3\n", ["sparse_dnn must be a mapping"]),
    (GOOD.replace("profile: mine", "profile: paper"), ["reserved", "params/paper.yaml", "another name"]),
    (GOOD.replace("profile: mine", "profile: quick"), ["reserved", "params/quick.yaml"]),
    (GOOD.replace("profile: mine", "profile: <img src=x>"), ["profile must be a name"]),
    (GOOD + "x: &a [1, 2]\ny: *a\n", ["malformed YAML", "not allowed"]),
    (GOOD + "models: [\n", ["malformed YAML", "line"]),
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


def test_a_binary_or_huge_file_is_refused_by_name(tmp_path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(profiles.ProfileError, match="not a YAML text file") as err:
        profiles.load(path)
    assert str(path) in str(err.value)
    path.write_text(GOOD + "# " + "x" * 70_000 + "\n")
    with pytest.raises(profiles.ProfileError, match="a profile is a small YAML file"):
        profiles.load(path)


def test_nested_aliases_are_refused_before_they_expand(tmp_path):
    bomb = GOOD + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else 'x'}]\n" for i in range(9))
    path = _write(tmp_path, bomb)
    with pytest.raises(profiles.ProfileError, match="not allowed") as err:
        profiles.load(path)
    assert len(str(err.value)) < 400


def test_long_values_are_cut_in_messages(tmp_path):
    path = _write(tmp_path, GOOD.replace("models: 2", "models: " + "9" * 500))
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load(path)
    assert len(str(err.value)) < 300 and "..." in str(err.value)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="quick, paper"):
        profiles.load("huge")
