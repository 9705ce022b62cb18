"""What a user does by accident, replayed: no command destroys their files or the committed results, and bad
input gets one line naming the parameter, before any work."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alukit import folders, paths, profiles
from alukit.__main__ import main as cli
from alukit.book.banner import banner
from alukit.studies import reproduce
from alukit.studies.study import Study, StudyError

MINE = "profile: mine\nseed: 1\nn_train: 2\nn_val: 1\nn_test: 1\nn_steps: 300\ndt: 10.0\nmodels: 1\n"


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for w in words:
        assert w in lines[0]
    return lines[0]


def test_a_user_profile_saved_as_paper_yaml_writes_its_own_folders(tmp_path):
    path = tmp_path / "paper.yaml"
    path.write_text(MINE)
    prof = profiles.load(path)
    assert prof.name == "mine"
    assert reproduce.study(prof, "faithful").path == paths.RESULTS / "mine-faithful"


def test_a_user_profile_claiming_a_reserved_name_is_refused(tmp_path, capsys, tmp_cache):
    path = tmp_path / "paper.yaml"
    path.write_text(MINE.replace("profile: mine", "profile: paper"))
    assert cli(["reproduce", "--profile", str(path), "--configs", "dense"]) == 2
    _one_error_line(capsys, "reserved", "another name")
    assert cli(["book", "--profile", str(path), "--reproduce"]) == 2
    _one_error_line(capsys, "reserved")
    assert not list(tmp_cache.glob("**/*.npz"))


def test_reproduce_refuses_a_folder_holding_the_users_files(tmp_path, capsys, tmp_cache):
    out = tmp_path / "folder"
    out.mkdir()
    (out / "README.md").write_text("my notes")
    assert cli(["reproduce", "--profile", "quick", "--configs", "dense", "--out", str(out)]) == 2
    _one_error_line(capsys, str(out), "did not write", "--force")
    assert (out / "README.md").read_text() == "my notes" and not list(tmp_cache.glob("**/*.npz"))


@pytest.mark.parametrize("target, why", [("/", "root"), ("~", "home folder"), ("", "empty path")])
def test_no_command_writes_into_the_root_home_or_nowhere(target, why, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    for command in (["book", "--profile", "quick", "--output", target], ["handout", target],
                    ["reproduce", "--profile", "quick", "--out", target]):
        assert cli([str(c).replace("~", str(tmp_path)) for c in command]) == 2, command
        _one_error_line(capsys, why)


def test_the_repository_root_and_a_file_are_refused(tmp_path):
    assert "repository" in folders.refused_target(paths.REPO_ROOT)
    (tmp_path / "f").write_text("x")
    assert "a file" in folders.refused_target(tmp_path / "f")
    with pytest.raises(StudyError, match="a file"):
        Study("x", tmp_path / "f").check_target()


def test_book_output_refuses_a_folder_with_the_users_files(tmp_path, capsys):
    mine = tmp_path / "mydir"
    mine.mkdir()
    (mine / "01_process.py").write_text("my chapter")
    (mine / "_build").mkdir()
    (mine / "_build" / "keep").write_text("mine")
    assert cli(["book", "--profile", "quick", "--output", str(mine), "--record"]) == 2
    _one_error_line(capsys, "did not write")
    assert (mine / "01_process.py").read_text() == "my chapter" and (mine / "_build" / "keep").is_file()


def test_a_students_edited_handout_is_kept(tmp_path, capsys):
    out = tmp_path / "hdir"
    assert cli(["handout", str(out), "--only", "01_process"]) == 0
    capsys.readouterr()
    assert cli(["handout", str(out), "--only", "01_process"]) == 0  # unchanged: written again
    capsys.readouterr()
    notebook = out / "01_process.ipynb"
    notebook.write_text(notebook.read_text().replace("Student handout", "My answers"))
    assert cli(["handout", str(out), "--only", "01_process"]) == 2
    _one_error_line(capsys, "edited since they were handed out", "01_process.ipynb")
    assert "My answers" in notebook.read_text()


def test_a_profile_name_never_reaches_the_page_as_html(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(MINE.replace("profile: mine", "profile: <img src=x onerror=alert(1)>"))
    with pytest.raises(profiles.ProfileError, match="profile must be a name"):
        profiles.load(path)
    text = banner(profiles.load("quick"))
    assert "<img" not in text


def test_an_interrupted_folder_write_leaves_the_old_folder_whole(tmp_path):
    study = Study("demo", tmp_path / "demo")
    study.write({"a.txt": lambda p: p.write_text("old")}, {"git_commit": "x", "date": "now"})

    def boom(p):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.write({"a.txt": lambda p: p.write_text("new"), "b.txt": boom}, {"git_commit": "y", "date": "later"})
    assert (tmp_path / "demo" / "a.txt").read_text() == "old" and not (tmp_path / "demo" / "b.txt").exists()
    assert study.verify()["git_commit"] == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no partial folder left
    # a write killed between its two renames: the next write restores and finishes cleanly
    (tmp_path / "demo").rename(tmp_path / ".demo.old-999999")
    study.write({"a.txt": lambda p: p.write_text("new")}, {"git_commit": "z", "date": "later"})
    assert (tmp_path / "demo" / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


@pytest.mark.parametrize("name, value, words", [
    ("ALUKIT_THREADS", "0", ["ALUKIT_THREADS", "[1, 256]"]),
    ("ALUKIT_THREADS", "many", ["ALUKIT_THREADS"]),
    ("ALUKIT_COMPILE", "yes", ["ALUKIT_COMPILE", "0, 1 or auto"]),
])
def test_bad_environment_variables_are_one_line(name, value, words, monkeypatch, capsys, tmp_cache):
    monkeypatch.setenv(name, value)
    assert cli(["train", "dense", "--profile", "quick"]) == 2
    _one_error_line(capsys, *words)
    assert not list(tmp_cache.glob("**/*.npz"))


def test_a_cache_path_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / "file"))
    assert cli(["reproduce", "--profile", "quick"]) == 2
    _one_error_line(capsys, "ALUKIT_CACHE", "is a file")


def test_debug_shows_the_traceback(tmp_path):
    env = {**os.environ, "ALUKIT_DEBUG": "1", "ALUKIT_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "alukit", "reproduce", "--profile", "nope"], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 1 and "Traceback" in out.stderr and "ProfileError" in out.stderr


def test_proven_versions_are_accepted_link_by_link_only():
    from alukit.studies.study import accepted_versions

    prov = {"training_version": "a", "equivalent_versions": [
        {"old_training_version": "a", "training_version": "b"},
        {"old_training_version": "b", "training_version": "c"},
        {"old_training_version": "x", "training_version": "y"}]}  # proven against a version this folder lacks
    assert accepted_versions(prov, "training_version") == {"a", "b", "c"}
    assert accepted_versions({"training_version": "a"}, "training_version") == {"a"}
