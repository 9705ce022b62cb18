"""``python -m alukit bench NAME [options]``: run the benchmark script ``bench/NAME.py``.

Each script times our code and the plain reference approach in one run and prints
both times and their ratio (``--json``: one JSON object with ``ours_seconds``,
``reference_seconds``, ``ratio`` and ``measured``). ``--save`` (anywhere among the
options) also writes that object to ``results/bench/NAME.json``, where
``python -m alukit readme`` reads it for results/README.md.
"""
from __future__ import annotations

import json
import math
import runpy
import sys
import time
from pathlib import Path


from alukit import paths, provenance
from alukit.cache import read_jsons, write_json

__all__ = ["best_of", "report", "saved", "sgemm_gflops", "main"]

BENCH_DIR = paths.BENCH
SAVED_DIR = paths.RESULTS / "bench"
_save_to: Path | None = None  # set by main() for --save


def sgemm_gflops(n: int = 2048, repeats: int = 3) -> float:
    """This machine's speed, now: GFLOP/s of an ``n`` × ``n`` float32 matrix product on one torch thread, best of
    ``repeats`` (wall time). Recorded beside build times: the quick book's training took 23 % longer on a day this
    machine read 54 rather than 76, the same code, so a time is comparable only with the speed it was measured at."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)
        best = math.inf
        for _ in range(repeats):
            t = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t)
        return 2 * n**3 / best / 1e9
    finally:
        torch.set_num_threads(threads)


def available() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))


def machine() -> dict:
    """What the timings were measured on (:func:`alukit.provenance.machine`)."""
    return provenance.machine()


def best_of(repeat: int, fn):
    """Call ``fn()`` ``repeat`` times → ``(last result, seconds of each call)``; report the minimum."""
    import time

    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, times


def report(result: dict, as_json: bool) -> None:
    """Print a benchmark result: one JSON object, or a few readable lines."""
    result = {**result, "machine": machine()}
    if _save_to is not None:
        write_json(_save_to, result)
    if as_json:
        print(json.dumps(result))
        return
    print(result["measured"])
    print(f"  ours:      {result['ours_seconds']:10.3f} s")
    print(f"  reference: {result['reference_seconds']:10.3f} s")
    print(f"  ratio:     {result['ratio']:10.1f} x")
    for k, v in result.items():
        if k not in {"measured", "ours_seconds", "reference_seconds", "ratio", "machine"}:
            print(f"  {k}: {v}")


def main(argv: list[str]) -> int:
    global _save_to
    names = available()
    if not argv or argv[0] in {"-h", "--help"}:
        print(f"usage: python -m alukit bench {{{','.join(names)}}} [--save] [--json] [options]")
        return 0
    if argv[0] not in names:
        print(f"error: unknown benchmark {argv[0]!r}; allowed: {', '.join(names)}", file=sys.stderr)
        return 2
    rest = argv[1:]
    _save_to = SAVED_DIR / f"{argv[0]}.json" if "--save" in rest else None
    module = runpy.run_path(str(BENCH_DIR / f"{argv[0]}.py"), run_name="alukit_bench")
    try:
        return int(module["main"]([a for a in rest if a != "--save"]) or 0)
    finally:
        _save_to = None


def saved() -> dict[str, dict]:
    """The results written by ``--save``, by benchmark name (empty if none)."""
    return read_jsons(SAVED_DIR)
