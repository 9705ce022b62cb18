"""Command line: ``python -m alukit <command> ...``.

Commands: ``book`` (execute the notebooks and build the HTML book), ``bench NAME``
(speed benchmarks in ``bench/``), ``train`` and ``reproduce`` (the study), ``picture`` (a reduced study's
picture over seeds and kernels), ``sweep SPEC`` (a grid of settings, locally or on a Dask cluster), ``published PATH``
(the authors' released models scored by our pipeline), ``sparse-dnn`` (the first paper's findings),
``readme`` (the README's generated sections), ``handout DIR`` (student notebooks),
``verify-equivalence OLD_COMMIT`` (carry committed results across a behaviour-preserving change).

A mistake of the user's (a bad argument, profile, environment variable or output folder) is reported in
one line and exits 2; a failure of the work exits 1; Ctrl-C exits 130. ``ALUKIT_DEBUG=1`` shows the
traceback instead.
"""
from __future__ import annotations

import importlib
import signal
import sys

from alukit import paths, settings
from alukit.studies.study import StudyError

COMMANDS = {
    "book": ("alukit.book.build", "build the book: execute notebooks with papermill, then jupyter-book"),
    "bench": ("alukit.book.bench", "run a speed benchmark from bench/ (simulate, train, rollout, ...)"),
    "train": ("alukit.training.train", "train one configuration as a batched ensemble"),
    "reproduce": ("alukit.studies.reproduce", "the full study: data, training, rollouts, tables"),
    "sweep": ("alukit.studies.sweep", "a grid of settings, trained and measured as the study (pool or Dask cluster)"),
    "picture": ("alukit.studies.picture_variants", "the quick picture over 2 seeds x 2 kernels (results/picture-quick)"),
    "published": ("alukit.studies.published", "score the authors' released models (checkout at PATH) on our test set"),
    "sparse-dnn": ("alukit.studies.sparse_dnn", "the first paper's findings: dense vs l1-sparse networks, scored"),
    "readme": ("alukit.book.readme", "write the generated parts of README.md and results/README.md"),
    "verify-equivalence": ("alukit.studies.equivalence",
                           "prove HEAD trains and evaluates as OLD_COMMIT did; record it in the results' provenance"),
    "handout": ("alukit.book.handout", "write the chapters as student notebooks, solutions removed"),
}
USAGE_EXIT, FAILURE_EXIT, INTERRUPT_EXIT = 2, 1, 130


def _usage() -> str:
    lines = [f"  {name:<19} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "usage: python -m alukit <command> [options]\n\ncommands:\n" + "\n".join(lines)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 600 else text[:597] + "..."


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def _run(module: str, argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)  # a polite kill stops as Ctrl-C does
    try:
        settings.check()
        return int(importlib.import_module(module).main(argv) or 0)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM during training (alukit.training.pool)
        kept = f": {exc}; they are kept in the cache ({paths.cache_dir()}) and the same command resumes" \
            if str(exc) else ""
        print(f"stopped{kept}", file=sys.stderr)
        return INTERRUPT_EXIT
    except (ValueError, StudyError) as exc:  # the user's input: a bad argument, profile, setting or folder
        if settings.debug():
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return USAGE_EXIT
    except (RuntimeError, OSError) as exc:
        if settings.debug():
            raise
        print(f"failed: {_one_line(exc)}", file=sys.stderr)
        return FAILURE_EXIT


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    if argv[0] not in COMMANDS:
        print(f"{_usage()}\n\nerror: unknown command {argv[0][:60]!r}; allowed: {', '.join(COMMANDS)}", file=sys.stderr)
        return USAGE_EXIT
    return _run(COMMANDS[argv[0]][0], argv[1:])


if __name__ == "__main__":
    sys.exit(main())
