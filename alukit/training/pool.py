"""Worker processes for training runs: a spawn pool that Ctrl-C stops and whose workers die with their parent.

:func:`run_all` calls a picklable ``task`` on every item, on ``workers`` spawned processes (or in this
process for one worker or one item), and returns the results in order. Each finished task has saved its
own work (a training run writes its cache entry atomically), so stopping loses only the runs in flight:

* Ctrl-C (SIGINT) or SIGTERM in the parent terminates the workers at once and raises :class:`Stopped`,
  which says how many tasks had finished. The workers ignore SIGINT themselves (a terminal's Ctrl-C
  reaches every process of its group; the parent decides).
* A parent that dies without cleaning up (SIGKILL, a crash) takes its workers with it: each worker asks
  the kernel for SIGKILL on its parent's death (Linux ``prctl(PR_SET_PDEATHSIG)``) and, on any system,
  checks every second that its parent is still the one that started it.
"""
from __future__ import annotations

import ctypes
import gc
import ctypes.util
import multiprocessing as mp
import os
import signal
import threading
import time
from typing import Callable, Sequence

from tqdm import tqdm

__all__ = ["Stopped", "run_all"]

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.2


class Stopped(KeyboardInterrupt):
    """Training was stopped by a signal; ``finished`` of ``total`` tasks had completed (their work is kept)."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"{finished} of {total} runs finished")
        self.finished, self.total = finished, total


def _die_with(parent: int) -> None:
    """Make this process end when ``parent`` does."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watch below still ends us within a second
        pass
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="alukit-parent-watch", daemon=True).start()


def _start_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    # tqdm's default lock is a multiprocessing semaphore, which a terminated worker would leave registered
    tqdm.set_lock(threading.RLock())


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def run_all(task: Callable, items: Sequence, workers: int, on_done: Callable[[int], None] | None = None) -> list:
    """``[task(item) for item in items]``, on ``workers`` spawned processes when there are several items.

    ``on_done(finished)``: called in this process whenever the number of finished tasks grows. Raises
    :class:`Stopped` on Ctrl-C or SIGTERM (workers terminated, nothing left running); a task's own exception
    terminates the workers and propagates.
    """
    items = list(items)
    done = 0
    report = on_done or (lambda finished: None)
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt) \
        if threading.current_thread() is threading.main_thread() else None
    try:
        if workers <= 1 or len(items) <= 1:
            results = []
            for item in items:
                results.append(task(item))
                done += 1
                report(done)
            return results
        pool = mp.get_context("spawn").Pool(workers, initializer=_start_worker, initargs=(os.getpid(),))
        pending = []
        try:
            pending += [pool.apply_async(task, (item,)) for item in items]
            while not all(p.ready() for p in pending):
                time.sleep(_POLL_SECONDS)
                now = sum(p.ready() and p.successful() for p in pending)
                if now > done:
                    done = now
                    report(done)
                failed = next((p for p in pending if p.ready() and not p.successful()), None)
                if failed is not None:
                    failed.get()  # raises the task's exception
            results = [p.get() for p in pending]
            report(len(items))
            pool.close()
            return results
        finally:
            pool.terminate()
            pool.join()
            del pool, pending  # the queues' semaphores are released now, not reported as leaked at exit
            gc.collect()
    except KeyboardInterrupt:
        raise Stopped(done, len(items)) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
