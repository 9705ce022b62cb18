"""alukit.studies.equivalence: recording a proven equivalence, and which versions a results folder accepts."""
import json
import subprocess

import numpy as np
import pytest

from alukit import cache
from alukit.studies import equivalence as eq

FACTS = {"proven_against": "a" * 40, "compared": 12, "profile": "quick", "engines": ["compiled", "eager"],
         "date": "2026-12-06T00:00:00+00:00", "machine": {"cpus": 2}}


def _folder(tmp_path, name="paper-faithful", **provenance):
    folder = tmp_path / name
    folder.mkdir()
    text = json.dumps({"profile": "paper", "training_version": "T0", "evaluation_version": "E0", **provenance},
                      indent=2) + "\n"
    (folder / "provenance.json").write_text(text)
    return folder


def test_a_proven_equivalence_is_recorded_after_every_other_key_and_accepted(tmp_path):
    folder = _folder(tmp_path, zz_last="kept")
    line = eq.record_folder(folder, {"training_version": "T1", "evaluation_version": "E1"},
                            {"training_version": "T0", "evaluation_version": "E0"}, FACTS)
    assert "recorded T1/E1" in line
    text = (folder / "provenance.json").read_text()
    p = json.loads(text)
    assert list(p) == ["profile", "training_version", "evaluation_version", "zz_last", "equivalent_versions"]
    assert text.splitlines()[1].startswith('  "profile"')  # the file's own indentation
    assert p["equivalent_versions"] == [{"training_version": "T1", "evaluation_version": "E1",
                                         "proven_against": "a" * 40, "old_training_version": "T0",
                                         "old_evaluation_version": "E0", **{k: v for k, v in FACTS.items()
                                                                            if k != "proven_against"}}]
    assert eq.accepted_versions(p, "training_version") == {"T0", "T1"}
    assert eq.accepted_versions(p, "evaluation_version") == {"E0", "E1"}


def test_a_chain_of_proofs_is_accepted_link_by_link(tmp_path):
    folder = _folder(tmp_path)
    for old, new in (("0", "1"), ("1", "2")):
        eq.record_folder(folder, {"training_version": f"T{new}", "evaluation_version": f"E{new}"},
                         {"training_version": f"T{old}", "evaluation_version": f"E{old}"}, FACTS)
    p = json.loads((folder / "provenance.json").read_text())
    assert eq.accepted_versions(p, "training_version") == {"T0", "T1", "T2"}


def test_an_equivalence_proven_against_other_versions_is_not_accepted(tmp_path):
    p = {"training_version": "T0", "evaluation_version": "E0", "equivalent_versions": [
        {"training_version": "T9", "evaluation_version": "E9", "old_training_version": "T5",
         "old_evaluation_version": "E0"}]}
    assert eq.accepted_versions(p, "training_version") == {"T0"}
    assert eq.accepted_versions(p, "evaluation_version") == {"E0"}
    with pytest.raises(ValueError, match="proven against"):
        eq.record(p, {"training_version": "T8", "evaluation_version": "E8", "old_training_version": "T9",
                      "old_evaluation_version": "E9"})
    folder = _folder(tmp_path)
    before = (folder / "provenance.json").read_text()
    line = eq.record_folder(folder, {"training_version": "T1", "evaluation_version": "E1"},
                            {"training_version": "T5", "evaluation_version": "E0"}, FACTS)
    assert "unchanged" in line and (folder / "provenance.json").read_text() == before
    with pytest.raises(ValueError, match="kind must be one of"):
        eq.accepted_versions(p, "version")


def test_bitwise_comparison_names_the_first_differing_array(tmp_path):
    a = {"x": np.array([1.0, np.nan]), "c/final/seconds": np.array(3.0), "m": np.ones((2, 2), np.float32)}
    cache.save_npz(tmp_path / "a.npz", **a)
    cache.save_npz(tmp_path / "b.npz", **{**a, "c/final/seconds": np.array(4.0)})  # a training time: not compared
    assert eq.compare_files(tmp_path / "a.npz", tmp_path / "b.npz") == (2, None)
    cache.save_npz(tmp_path / "c.npz", **{**a, "x": np.array([np.nextafter(1.0, 2.0), np.nan])})
    assert eq.compare_files(tmp_path / "a.npz", tmp_path / "c.npz")[1] == "array 'x' differs at 1 of 2 entries"
    cache.save_npz(tmp_path / "d.npz", **{**a, "m": np.ones((2, 2), np.float64)})
    assert "'m': float32(2, 2) vs float64(2, 2)" in eq.compare_files(tmp_path / "a.npz", tmp_path / "d.npz")[1]


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_uncommitted_changes_under_alukit_are_refused(tmp_path):
    repo = tmp_path / "repo"
    (repo / "alukit").mkdir(parents=True)
    (repo / "alukit" / "kernel.py").write_text("X = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    (repo / "alukit" / "kernel.py").write_text("X = 2\n")
    with pytest.raises(ValueError, match="uncommitted changes under alukit/"):
        eq.verify("HEAD", tmp_path / "out", repo=repo, results=None)
    assert not (tmp_path / "out").exists()
    _git(repo, "commit", "-qam", "two")
    with pytest.raises(ValueError, match="OLD_COMMIT must be a commit"):
        eq.verify("no-such-commit", tmp_path / "out", repo=repo, results=None)


def test_a_missing_output_is_a_difference(tmp_path):
    cache.save_npz(tmp_path / "a.npz", x=np.zeros(2))
    assert eq.compare_files(tmp_path / "a.npz", tmp_path / "b.npz") == (0, "a.npz not written by new")


def test_every_folder_that_trained_gets_the_training_equivalence(tmp_path, capsys):
    """Folders of the compared studies get both versions (a sparse-DNN sweep: the quick sparse-DNN sweep's,
    whose evaluation reaches the training code); another sweep gets the training version beside its own
    evaluation version; a folder that records no training version, or another training version, is left as it is."""
    old = {s: {"training_version": "T0", "evaluation_version": e} for s, e in
           (("faithful", "E0"), ("corrected", "E0"), ("sparse-dnn", "S0"), ("sweep-sparse-dnn", "W0"))}
    head = {s: {**v, "training_version": "T1"} for s, v in old.items()}
    head["sweep-sparse-dnn"]["evaluation_version"] = "W1"
    folders = {}
    for name, versions in (("paper-faithful", {"training_version": "T0", "evaluation_version": "E0"}),
                           ("sweep-x", {"training_version": "T0", "evaluation_version": "X0"}),
                           ("sweep-other", {"training_version": "T7", "evaluation_version": "X0"}),
                           ("paper-published", {"evaluation_version": "P0"}),
                           ("sweep-sd", {"sweep": "sd", "study": "sparse-dnn", "training_version": "T0",
                                         "evaluation_version": "W0"})):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        (folders[name] / "provenance.json").write_text(json.dumps(versions, indent=1))
    eq._record_all(tmp_path, old, head, FACTS)
    read = {name: json.loads((f / "provenance.json").read_text()) for name, f in folders.items()}
    assert eq.accepted_versions(read["paper-faithful"], "training_version") == {"T0", "T1"}
    assert eq.accepted_versions(read["sweep-x"], "training_version") == {"T0", "T1"}
    assert eq.accepted_versions(read["sweep-x"], "evaluation_version") == {"X0"}
    assert eq.accepted_versions(read["sweep-sd"], "evaluation_version") == {"W0", "W1"}
    assert eq.accepted_versions(read["sweep-sd"], "training_version") == {"T0", "T1"}
    assert "equivalent_versions" not in read["sweep-other"]  # trained by another version: not linked
    assert read["paper-published"] == {"evaluation_version": "P0"}
    assert "records no training version" in capsys.readouterr().out
