"""``python -m alukit bench NAME [options]``: run the benchmark script ``bench/NAME.py``.

Each script times our code and the plain reference approach in one run and prints
both times and their ratio (``--json``: one JSON object with ``ours_seconds``,
``reference_seconds``, ``ratio`` and ``measured``).
"""
from __future__ import annotations

import json
import platform
import runpy
import sys

import torch

from .cache import REPO_ROOT

BENCH_DIR = REPO_ROOT / "bench"


def available() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))


def machine() -> dict:
    """What the timings were measured on."""
    import os

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
    }


def report(result: dict, as_json: bool) -> None:
    """Print a benchmark result: one JSON object, or a few readable lines."""
    result = {**result, "machine": machine()}
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
    names = available()
    if not argv or argv[0] in {"-h", "--help"}:
        print(f"usage: python -m alukit bench {{{','.join(names)}}} [--json] [options]")
        return 0
    if argv[0] not in names:
        print(f"error: unknown benchmark {argv[0]!r}; allowed: {', '.join(names)}", file=sys.stderr)
        return 2
    module = runpy.run_path(str(BENCH_DIR / f"{argv[0]}.py"), run_name="alukit_bench")
    return int(module["main"](argv[1:]) or 0)
