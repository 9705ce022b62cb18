"""Ctrl-C and kills on a real training command: it stops promptly, keeps finished runs, resumes, and leaves
no process behind."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROFILE = ("profile: signals\nseed: 3\nn_train: 2\nn_val: 1\nn_test: 1\nn_steps: 3000\ndt: 10.0\nmodels: 2\n"
           "train_epoch_scale: 0.1\n")


def _sigint_as_in_a_terminal():
    """The command gets SIGINT's default action, as a terminal's foreground job has it (a job a script starts
    with ``&`` inherits SIGINT ignored, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += list(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def command(tmp_path):
    (tmp_path / "signals.yaml").write_text(PROFILE)
    env = {**os.environ, "ALUKIT_CACHE": str(tmp_path / "cache"), "ALUKIT_COMPILE": "0"}
    args = [sys.executable, "-m", "alukit", "train", "all", "--profile", str(tmp_path / "signals.yaml"),
            "--no-progress", "--json"]
    # make the data first, so that the runs start at once
    subprocess.run([sys.executable, "-c", "import sys; from alukit.training import train; "
                    f"train.training_data(train.profiles.load({str(tmp_path / 'signals.yaml')!r}))"],
                   env=env, check=True, timeout=300)
    return args, env, tmp_path / "cache" / "train"


def _start_and_wait_for_workers(args, env, runs: Path, finished: int):
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=_sigint_as_in_a_terminal)
    deadline = time.time() + 240
    while time.time() < deadline:
        kids = _children(proc.pid)
        if len(list(runs.glob("*.npz"))) >= finished and len(kids) >= 2:
            return proc, kids
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the training command did not start its workers in time")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_training_keeps_finished_runs_and_leaves_no_process(command, sig):
    args, env, runs = command
    proc, kids = _start_and_wait_for_workers(args, env, runs, finished=1)
    t = time.time()
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # a terminal's Ctrl-C reaches the whole process group
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    assert time.time() - t < 10
    assert proc.returncode == 130 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "runs finished; they are kept in the cache" in lines[0] and "resumes" in lines[0]
    kept = len(list(runs.glob("*.npz")))
    assert kept >= 1
    time.sleep(0.5)
    assert [k for k in kids if _alive(k)] == []
    if sig != signal.SIGINT:
        return
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)  # resume
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert sum(s["cached"] for s in summary.values()) >= kept  # the finished runs were not trained again


def test_a_killed_parent_takes_its_workers_with_it(command):
    args, env, runs = command
    proc, kids = _start_and_wait_for_workers(args, env, runs, finished=0)
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.time() + 5
    while time.time() < deadline and any(_alive(k) for k in kids):
        time.sleep(0.1)
    assert [k for k in kids if _alive(k)] == []


def test_a_stopped_cluster_run_counts_what_its_workers_left_in_the_cache(tmp_path, monkeypatch):
    """A local cluster's workers write the shared cache themselves: a run one of them finished is kept even
    where its result had not reached the client when Ctrl-C came, and the stop message counts it."""
    from alukit.training import cluster, pool, runs, train

    monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path))
    keys = ["run-a", "run-b", "run-c"]

    def stopped_after_a_worker_finished(task, items, **kwargs):
        for path in runs.paths("run-b"):  # finished on a worker; the client has seen no result yet
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"entry")
        runs.paths("run-c")[0].write_bytes(b"half")  # .pt without .npz: not finished
        raise pool.Stopped(0, len(items))

    monkeypatch.setattr(cluster, "run_tasks", stopped_after_a_worker_finished)
    with pytest.raises(pool.Stopped) as stop:
        train._on_cluster([None] * 3, keys, [False] * 3, "local", 2, progress=False)
    assert (stop.value.finished, stop.value.total) == (1, 3)
