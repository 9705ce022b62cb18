"""Command line: ``python -m alukit <command> ...``.

Commands: ``book`` (execute the notebooks and build the HTML book), ``bench NAME``
(speed benchmarks in ``bench/``), ``train`` and ``reproduce`` (the study), ``published PATH``
(the authors' released models scored by our pipeline), ``sparse-dnn`` (the first paper's findings),
``verify-equivalence OLD_COMMIT`` (carry the committed results across a behaviour-preserving change),
``readme`` (the README's results section), ``handout DIR`` (student notebooks).
"""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "book": ("alukit.book.build", "build the book: execute notebooks with papermill, then jupyter-book"),
    "bench": ("alukit.book.bench", "run a speed benchmark from bench/ (simulate, train, rollout)"),
    "train": ("alukit.training.train", "train one configuration as a batched ensemble"),
    "reproduce": ("alukit.studies.reproduce", "the full study: data, training, rollouts, tables"),
    "published": ("alukit.studies.published", "score the authors' released models (checkout at PATH) on our test set"),
    "sparse-dnn": ("alukit.studies.sparse_dnn", "the first paper's findings: dense vs l1-sparse networks, scored"),
    "verify-equivalence": ("alukit.studies.equivalence",
                           "prove HEAD trains and evaluates as OLD_COMMIT did; record it in the results' provenance"),
    "readme": ("alukit.book.readme", "write the README's results section from results/paper-faithful"),
    "handout": ("alukit.book.handout", "write the chapters as student notebooks, solutions removed"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        lines = [f"  {name:<18} {help_}" for name, (_, help_) in COMMANDS.items()]
        print("usage: python -m alukit <command> [options]\n\ncommands:\n" + "\n".join(lines))
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"\nerror: unknown command {argv[0]!r}; allowed: {', '.join(COMMANDS)}", file=sys.stderr)
            return 2
        return 0
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
