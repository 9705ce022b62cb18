"""Installed, not only cloned: a wheel of the package runs its commands from another folder, profiles included."""
import subprocess
import sys
import zipfile

import pytest

from alukit import paths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package built as a wheel and installed (without dependencies: this interpreter has them) into a folder
    outside the repository."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(root / "dist"), str(paths.REPO_ROOT)], check=True, capture_output=True)
    wheel = next((root / "dist").glob("alukit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "alukit/params/quick.yaml" in names and "alukit/training/engine.py" in names
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(root / "site"),
                    str(wheel)], check=True, capture_output=True)
    return root


def _run(installed, *args, cwd):
    env = {"PYTHONPATH": str(installed / "site"), "ALUKIT_CACHE": str(installed / "cache"), "PATH": "/usr/bin:/bin",
           "HOME": str(installed)}
    return subprocess.run([sys.executable, "-m", "alukit", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_wheel_runs_outside_the_repository(installed, tmp_path):
    out = _run(installed, "--help", cwd=tmp_path)
    assert out.returncode == 0 and "reproduce" in out.stdout
    probe = subprocess.run([sys.executable, "-c", "import alukit.paths as p; print(p.__file__, p.REPO_ROOT)"],
                           cwd=tmp_path, env={"PYTHONPATH": str(installed / "site")}, capture_output=True, text=True)
    assert str(installed / "site") in probe.stdout and probe.stdout.strip().endswith("None")


def test_a_quick_study_from_the_wheel_writes_where_the_user_says(installed, tmp_path):
    out = _run(installed, "reproduce", "--profile", "quick", "--configs", "dense", "--out", "mine", "--quiet",
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "mine" / "table2.csv").is_file() and (tmp_path / "mine" / "provenance.json").is_file()
    assert "dense" in out.stdout
