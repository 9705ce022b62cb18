"""Sweeps (``python -m alukit sweep``): specs refused by name before any training, the results folder, resuming
from the cache, the output folder's safety, a Dask LocalCluster giving the pool's runs bit for bit, Ctrl-C."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from alukit import __main__ as cli
from alukit import cache, paths
from alukit.studies import sweep
from alukit.studies.study import StudyError
from alukit.training import runs, train

TINY = """\
profile: tiny
seed: 0
n_train: 2
n_val: 1
n_test: 3
n_steps: 500
dt: 10.0
models: 2
horizons: [100, 250, 500]
train_epoch_scale: 0.05
"""
SPEC = """\
sweep: tiny
profile: tiny.yaml
config: l1
variant: corrected
n_boot: 200
grid:
  l1: [0, 1e-3]
  swa: [false, true]
"""


def _sigint_as_in_a_terminal():
    """The command gets SIGINT's default action, as a terminal's foreground job has it (a job a script starts
    with ``&`` inherits SIGINT ignored, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _spec(tmp_path, text=SPEC, name="spec.yaml", profile=TINY) -> Path:
    (tmp_path / "tiny.yaml").write_text(profile)
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _trained(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "train").glob("*.npz")) if (cache_dir / "train").is_dir() else []


BAD = [  # (change to the spec, words the one-line error must hold)
    ("bogus: 1\n", ["unknown key", "bogus", "allowed: sweep, profile"]),
    ("grid:\n  l1: &a [1, 2]\n  l1_input: *a\n", ["malformed YAML at line", "anchors are not allowed in a sweep spec"]),
    ("grid:\n  l2: [1]\n", ["unknown field 'l2'", "allowed: variant, swa", "prune_amount"]),
    ("grid:\n  l1: [-1]\n", ["grid.l1 value -1", "l1 must be a number >= 0"]),
    ("grid:\n  l1: []\n", ["grid.l1 must be a non-empty list"]),
    ("grid: {}\n", ["grid must be a non-empty mapping"]),
    ("grid:\n  swa: [1]\n", ["grid.swa values must be true or false"]),
    ("grid:\n  variant: [fair]\n", ["grid.variant values must be faithful or corrected"]),
    ("grid:\n  hidden: [[25, 0]]\n", ["grid.hidden value", "hidden must be a non-empty tuple of positive integers"]),
    ("grid:\n  l1: [1e-4, 1.0e-4]\n", ["grid.l1 must list distinct values"]),
    ("models: 0\n", ["models must be an integer in [1, 1000]"]),
    ("models: 2.5\n", ["models must be an integer in [1, 1000]"]),
    ("config: l3\n", ["config must be one of dense, dense+swa, l1"]),
    ("variant: fair\n", ["variant must be one of faithful, corrected"]),
    ("profile: nowhere.yaml\n", ["profile:", "must be one of quick, paper or a path"]),
    ("sweep: a/b\n", ["sweep must be a name of 1-40 letters"]),
    ("description: 2024-01-01\n", ["not text, a number, a list or a mapping"]),
]


@pytest.mark.parametrize("change, words", BAD, ids=[c.split(":")[0] + str(i) for i, (c, _) in enumerate(BAD)])
def test_a_bad_spec_is_one_line_naming_the_field_before_any_training(change, words, tmp_path, tmp_cache, capsys,
                                                                     spec_with, refused_in_one_line):
    path = _spec(tmp_path, spec_with(SPEC, change))
    refused_in_one_line(sweep.load_spec, sweep.SweepError, cli.main, path, tmp_path / "out", words, capsys)
    assert _trained(tmp_cache) == []


def test_a_bad_scheduler_or_workers_is_refused_in_one_line(tmp_path, tmp_cache, capsys):
    path = _spec(tmp_path)
    assert cli.main(["sweep", str(path), "--scheduler", "http://x"]) == cli.USAGE_EXIT
    assert "--scheduler must be a Dask scheduler address tcp://HOST:PORT or 'local'" in capsys.readouterr().err
    assert cli.main(["sweep", str(path), "--workers", "0"]) == cli.USAGE_EXIT
    assert "--workers must be a positive integer" in capsys.readouterr().err
    assert _trained(tmp_cache) == []


def test_the_grid_is_the_product_of_its_axes_with_numbers_read_as_numbers(tmp_path):
    spec = sweep.load_spec(_spec(tmp_path))
    pts = sweep.points(spec)
    assert [p.values for p in pts] == [{"l1": 0.0, "swa": False}, {"l1": 0.0, "swa": True},
                                       {"l1": 1e-3, "swa": False}, {"l1": 1e-3, "swa": True}]
    assert [p.config.name for p in pts] == ["l1", "l1+swa"] * 2
    assert all(p.config.variant == "corrected" and p.models == 2 and p.config.epochs == 5 for p in pts)
    assert isinstance(pts[0].config.l1, float)  # 0 and 0.0 name one run
    assert train.resolve(pts[2].config, "corrected", spec.profile, epochs=5)[0] == pts[2].config


def test_the_committed_specs_are_valid_and_the_paper_sweeps_fit_three_hours_of_two_cores():
    specs = sorted((paths.REPO_ROOT / "sweeps").glob("*.yaml"))
    assert {p.stem for p in specs} >= {"quick", "l1-strength", "sparsity-mp", "sparsity-dsr"}
    paper_sweeps = ("l1-strength", "sparsity-mp", "sparsity-dsr", "sparse-dnn-lambda")
    total = sum(sweep.estimate(p).seconds.sum() for p in specs if p.stem in paper_sweeps)
    assert 0 < total <= 3 * 3600 * 2, total  # worker-seconds: 3 h of 2 workers


def test_importing_the_package_does_not_import_dask():
    code = "import sys, alukit.studies.sweep, alukit.training.train; print(any(m.split('.')[0] in ('dask', " \
           "'distributed') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.REPO_ROOT,
                         env={**os.environ, "PYTHONPATH": str(paths.REPO_ROOT)})
    assert out.stdout.strip() == "False", out.stderr


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """A tiny sweep run once in its own cache (one process), then again: ``(spec, folder, cache, first, second)``."""
    tmp = tmp_path_factory.mktemp("sweep")
    cache_dir = tmp / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALUKIT_CACHE", str(cache_dir))
        spec = sweep.load_spec(_spec(tmp))
        out = sweep.run(spec, tmp / "out", workers=1, progress=False)
        first = sweep.read(spec, out)
        out = sweep.run(spec, tmp / "out", workers=1, progress=False)
        second = sweep.read(spec, out)
    return spec, out, cache_dir, first, second


def test_a_tiny_sweep_writes_the_studys_protocol(tiny_sweep):
    spec, out, cache_dir, res, _ = tiny_sweep
    assert {p.name for p in out.iterdir()} == set(sweep.FILES) | {"README.md"}
    assert set(res.provenance["manifest"]) == set(sweep.FILES) - {"provenance.json"} | {"README.md"}
    assert list(res.summary.index) == ["p000", "p001", "p002", "p003"]
    for h in (250, 500):
        for col in (f"diverged_{h}", f"capped_{h}"):
            s = res.summary
            assert ((s[f"{col}_low"] <= s[col] + 1e-12) & (s[col] <= s[f"{col}_high"] + 1e-12)).all()
    assert res.errors["p000"].shape == (3, 2, 3, 8) and res.horizons == (100, 250, 500)
    assert res.summary.loc["p002", "small"] > res.summary.loc["p000", "small"]  # λ = 1e-3 pushes weights to 0
    assert len(_trained(cache_dir)) == 2  # the corrected SWA twins share their runs
    wide, stats = sweep.summarise(res.errors, res.horizons, spec.n_boot)
    np.testing.assert_allclose(wide.to_numpy(), res.summary[wide.columns].to_numpy(), rtol=1e-12)
    assert sweep.stale_reason(spec, out) is None


def test_a_second_run_trains_nothing_and_gives_the_same_numbers(tiny_sweep):
    _, _, _, first, second = tiny_sweep
    assert not any(p["cached"] for p in first.provenance["points"])
    assert all(p["cached"] for p in second.provenance["points"])
    for p, e in first.errors.items():
        np.testing.assert_array_equal(e, second.errors[p])


def test_a_sweep_refuses_a_folder_holding_the_users_files(tmp_path, tmp_cache, capsys):
    path = _spec(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(StudyError, match="holds files alukit did not write"):
        sweep.run(path, mine, workers=1, progress=False)
    assert cli.main(["sweep", str(path), "--out", str(mine)]) == cli.USAGE_EXIT
    assert "holds files alukit did not write" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "mine" and _trained(tmp_cache) == []
    assert cli.main(["sweep", str(path), "--out", str(tmp_path)]) == cli.USAGE_EXIT  # the spec's own folder


# ---------------------------------------------------------------- LocalCluster and Ctrl-C (slow)

def _run_arrays(cache_dir: Path, key: str) -> dict:
    """A cached run's tensors and logs (not its metadata: seconds and pool size differ)."""
    pt, npz = runs.paths(key)
    pt, npz = cache_dir / "train" / pt.name, cache_dir / "train" / npz.name
    arrays = {k: v for k, v in cache.load_npz(npz).items() if k != "meta"}
    return {**{k: v.numpy() for k, v in torch.load(pt, weights_only=True).items()}, **arrays}


@pytest.mark.slow
def test_a_local_cluster_trains_the_pools_runs_bit_for_bit(tmp_path, monkeypatch):
    path = _spec(tmp_path, SPEC.replace("variant: corrected", "variant: faithful"))
    results = {}
    for where, scheduler in (("pool", None), ("cluster", "local")):
        monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / f"cache-{where}"))
        out = sweep.run(path, tmp_path / f"out-{where}", scheduler=scheduler, workers=2, progress=False)
        results[where] = sweep.read(out_dir=out)
    pool, local = results["pool"], results["cluster"]
    assert local.provenance["scheduler"] == "local" and pool.provenance["scheduler"] == "pool"
    keys = [p["run_key"] for p in pool.provenance["points"]]
    assert keys == [p["run_key"] for p in local.provenance["points"]] and len(set(keys)) == 4
    for key in keys:
        a, b = _run_arrays(tmp_path / "cache-pool", key), _run_arrays(tmp_path / "cache-cluster", key)
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{key} {k}")
    for p in pool.errors:
        np.testing.assert_array_equal(pool.errors[p], local.errors[p])


LONG = """\
sweep: long
profile: tiny.yaml
config: l1
variant: corrected
n_boot: 200
grid:
  epochs: [1, 2, 20000]
"""


def _children(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow
@pytest.mark.parametrize("scheduler", [None, "local"], ids=["pool", "local-cluster"])
def test_ctrl_c_stops_promptly_keeps_finished_runs_and_leaves_no_process(scheduler, tmp_path):
    import psutil

    path = _spec(tmp_path, LONG, profile=TINY.replace("train_epoch_scale: 0.05", "train_epoch_scale: 1.0"))
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "ALUKIT_CACHE": str(cache_dir), "ALUKIT_COMPILE": "0", "PYTHONPATH": str(paths.REPO_ROOT)}
    cmd = [sys.executable, "-m", "alukit", "sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2",
           *(["--scheduler", scheduler] if scheduler else [])]
    # a session of its own: SIGINT to its group, as a terminal's Ctrl-C reaches every process of the command
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=paths.REPO_ROOT, start_new_session=True,
                            preexec_fn=_sigint_as_in_a_terminal)
    shown: list[str] = []  # stderr as it comes: the progress bar says when the command has seen a run end
    reader = threading.Thread(target=lambda: shown.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        # both short runs in the cache and reported back (a cluster worker writes the cache before its result
        # reaches the client)
        while ((len(_trained(cache_dir)) < 2 or "2/3" not in "".join(shown)) and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.5)
        assert len(_trained(cache_dir)) == 2 and proc.poll() is None, "the two short runs did not finish first"
        children = _children(proc.pid)
        assert children
        t = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)
        err = "".join(shown)
    finally:
        if proc.poll() is None:  # a failed check above: leave nothing running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == cli.INTERRUPT_EXIT, err[-2000:]
    assert time.monotonic() - t < 30
    assert "stopped: 2 of 3 runs finished" in err and "Traceback" not in err and "leaked" not in err, err[-2000:]
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], [p.cmdline() for p in alive]
    assert len(_trained(cache_dir)) == 2 and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_scheduler_address_needs_no_shared_cache(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    path = _spec(tmp_path)
    workers = tmp_path / "worker-cache"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"ALUKIT_CACHE": str(workers)}) as remote:
        monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / "client-cache"))
        out = sweep.run(path, tmp_path / "out", scheduler=remote.scheduler_address, progress=False)
    res = sweep.read(out_dir=out)
    assert res.provenance["scheduler"] == remote.scheduler_address
    keys = sorted({p["run_key"] for p in res.provenance["points"]})
    assert len(keys) == 2 and [p.name for p in _trained(workers)] == [f"{k}.npz" for k in keys]
    for key in keys:  # the client wrote the bytes the workers returned into its own cache
        for suffix in (".pt", ".npz"):
            assert (tmp_path / "client-cache" / "train" / f"{key}{suffix}").read_bytes() == \
                (workers / "train" / f"{key}{suffix}").read_bytes()


@pytest.mark.slow
def test_the_quick_sweep_runs_from_an_empty_cache(tmp_path, monkeypatch, capsys):
    """The CI sweep (its wall time is in its provenance; no timed assertion here)."""
    monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / "cache"))
    assert cli.main(["sweep", str(paths.REPO_ROOT / "sweeps" / "quick.yaml"), "--out", str(tmp_path / "out"),
                     "--quiet"]) == 0
    res = sweep.read(out_dir=tmp_path / "out")
    assert len(res.summary) == 8 and res.provenance["distinct_runs"] == 6
    assert set(res.summary.variant) == {"faithful", "corrected"} and (res.summary.small >= 0).all()
