"""Training runs as tasks of a Dask ``distributed`` cluster: a running scheduler, or a ``LocalCluster`` started here.

:func:`run_tasks` submits one task per item to the scheduler at ``tcp://HOST:PORT`` (or to a
``LocalCluster`` of worker processes, one thread each, for :data:`LOCAL`), shows a tqdm bar over
the tasks and hands each result to ``on_result`` in this process as it arrives. A training task
returns the bytes of its cache entry, which the caller writes into its own cache: the workers need
alukit installed, not a file system shared with this process.

Ctrl-C (or SIGTERM) cancels the tasks that have not finished, closes the client (and the
``LocalCluster``, whose worker processes end with it) and raises
:class:`alukit.training.pool.Stopped`: the results handed over before are kept. A task already
running on a running scheduler's worker finishes there (Dask does not stop a running task; its run
stays in that worker's cache). A task's own exception cancels the others and propagates.

``distributed`` is imported only here, inside :func:`run_tasks`; ``pip install "alukit[cluster]"``
installs it. Nothing else in alukit needs it.
"""
from __future__ import annotations

import logging
import re
import signal
import threading
from typing import Callable, Sequence

from tqdm import tqdm

from alukit.training import pool

__all__ = ["LOCAL", "ClusterError", "check_scheduler", "run_tasks"]

LOCAL = "local"  # a LocalCluster of worker processes on this machine
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx)://[^\s/]+:\d{1,5}$")
_CONNECT_SECONDS = 15


class ClusterError(RuntimeError):
    """The cluster cannot be used (not installed, not reachable, another alukit on the workers)."""


def check_scheduler(scheduler: str) -> str:
    """``scheduler`` if it is :data:`LOCAL` or a scheduler address ``tcp://HOST:PORT``; else ``ValueError``."""
    if not isinstance(scheduler, str) or not (scheduler == LOCAL or _ADDRESS.match(scheduler)):
        raise ValueError(f"--scheduler must be a Dask scheduler address tcp://HOST:PORT or {LOCAL!r}; "
                         f"got {str(scheduler)[:80]!r}")
    return scheduler


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError("a Dask scheduler needs the 'distributed' package: pip install 'alukit[cluster]'") from None
    return distributed


def _connect(scheduler: str, workers: int):
    """``(client, cluster or None, number of workers)`` for :func:`run_tasks`."""
    distributed = _distributed()
    if scheduler == LOCAL:
        # the worker processes inherit SIGINT ignored: a terminal's Ctrl-C reaches every process of its group,
        # and this process alone decides (it closes the cluster)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=logging.CRITICAL)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        return distributed.Client(cluster), cluster, workers
    try:
        client = distributed.Client(scheduler, timeout=f"{_CONNECT_SECONDS}s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}); start one "
                           f"with 'dask scheduler' and its workers with 'dask worker {scheduler}'") from None
    n = len(client.scheduler_info().get("workers", {}))
    return client, None, max(n, 1)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _close(client, cluster) -> None:
    client.close(timeout=10)
    if cluster is not None:
        cluster.close(timeout=10)


def run_tasks(task: Callable, items: Sequence, *, scheduler: str, workers: int, keys: Sequence[str],
              on_result: Callable[[int, object], None], progress: bool = True, desc: str = "runs") -> int:
    """Run ``task(item, n_workers)`` for every item on the cluster; ``on_result(i, result)`` here as each ends.

    ``scheduler``: :data:`LOCAL` (a ``LocalCluster`` of ``workers`` processes, started and closed here) or
    ``tcp://HOST:PORT`` of a running scheduler (``workers`` unused). ``keys``: one distinct task name per item.
    Returns the number of workers the tasks ran on. Raises :class:`alukit.training.pool.Stopped` on Ctrl-C,
    :class:`ClusterError` if the cluster cannot be used, and a task's own exception.
    """
    check_scheduler(scheduler)
    client, cluster, n_workers = _connect(scheduler, workers)
    done, futures = 0, []
    try:
        distributed = _distributed()
        futures = [client.submit(task, item, n_workers, key=key, pure=False) for item, key in zip(items, keys)]
        index = {f.key: i for i, f in enumerate(futures)}
        with tqdm(total=len(futures), desc=desc, unit="run", disable=not progress) as bar:
            for future in distributed.as_completed(futures):
                on_result(index[future.key], future.result())
                done += 1
                bar.update()
        return n_workers
    except KeyboardInterrupt:
        client.cancel(futures, force=True)
        raise pool.Stopped(done, len(items)) from None
    except BaseException:
        client.cancel(futures, force=True)
        raise
    finally:
        _close(client, cluster)
