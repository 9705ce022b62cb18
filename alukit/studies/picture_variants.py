"""The picture over four variants of a reduced study: two base seeds × the compiled and the eager kernel.

A reduced profile's divergence rates move by tens of points between float paths (two machines
running the same code), so the qualitative picture (:mod:`alukit.studies.picture`) is only
claimed where it holds in every variant. :func:`run` runs the faithful study
(:func:`alukit.studies.reproduce.run`) once per variant, the profile's ``seed`` replaced by each
of :data:`SEEDS` and ``ALUKIT_COMPILE`` set to each of :data:`KERNELS`, and writes the four
Tables 2 (% diverged, ``config`` × horizon ΔT) to the :class:`Study` folder
``results/picture-<profile>/``, one ``table2-<variant>.csv`` each. Its provenance records the
code versions and each variant's configuration hash, so :func:`stale_reason` tells whether the
folder is current. ``python -m alukit picture [--profile quick]`` writes it.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from alukit import cache, profiles, provenance
from alukit.commandline import Parser
from alukit.profiles import Profile
from alukit.studies import paper, picture, reproduce
from alukit.studies.study import Expected, Study
from alukit.training import train

__all__ = ["SEEDS", "KERNELS", "FORMAT", "variants", "variant_profile", "study", "expected", "stale_reason",
           "run", "read", "spread", "holds_everywhere", "main"]

SEEDS = (0, 1)  # base seeds (the profile's ``seed``: data and members)
KERNELS = {"compiled": "1", "eager": "0"}  # kernel → ALUKIT_COMPILE
FORMAT = 1  # version of the folder layout; read() refuses folders of another format


def variants() -> list[str]:
    """The variants' names, ``seed<S>-<kernel>``, seeds outer."""
    return [f"seed{s}-{k}" for s in SEEDS for k in KERNELS]


def _parse(variant: str) -> tuple[int, str]:
    seed, kernel = variant.split("-")
    return int(seed.removeprefix("seed")), kernel


def variant_profile(prof: Profile, variant: str) -> Profile:
    """The profile with its ``seed`` replaced by the variant's (same name: results go to a temporary folder)."""
    return dataclasses.replace(prof, seed=_parse(variant)[0])


def _table_file(variant: str) -> str:
    return f"table2-{variant}.csv"


def study(prof: Profile | str, out_dir: Path | None = None) -> Study:
    """The profile's folder, ``results/picture-<name>/`` (or ``out_dir``)."""
    prof = profiles.load(prof)
    named = prof.name if prof.name in profiles.PROFILES else prof.path
    refresh = f"python -m alukit picture --profile {named}"
    return Study(f"picture-{prof.name}", out_dir, refresh=refresh)


def _hashes(prof: Profile) -> dict[str, str]:
    return {v: reproduce.configuration_hash(variant_profile(prof, v), "faithful") for v in variants()}


def expected(prof: Profile) -> list[Expected]:
    """What a current folder records (:meth:`Study.stale_reason`)."""
    return [
        Expected("format", FORMAT, f"written in another format (this code reads format {FORMAT})"),
        Expected("variants", variants(), "written for other seeds or kernels"),
        Expected("evaluation_version", reproduce.evaluation_version(), "the rollout or metric code changed since "
                 "they were written", version=True),
        Expected("training_version", train.CODE_VERSION, "the training code changed since they were written",
                 version=True),
        Expected("configuration_hashes", _hashes(prof), "the profile or a configuration changed since they were "
                 "written"),
    ]


def stale_reason(prof: Profile | str, out_dir: Path | None = None) -> str | None:
    """Why the profile's picture folder does not match the current code and profile; None if it does."""
    prof = profiles.load(prof)
    return study(prof, out_dir).stale_reason(expected(prof))


def _run_variant(prof: Profile, variant: str, progress: bool) -> tuple[pd.DataFrame, dict]:
    """One faithful study in a temporary folder with ``ALUKIT_COMPILE`` set (restored after); Table 2, provenance."""
    kernel = _parse(variant)[1]
    before = os.environ.get("ALUKIT_COMPILE")
    os.environ["ALUKIT_COMPILE"] = KERNELS[kernel]
    try:
        with tempfile.TemporaryDirectory(prefix="alukit-picture-") as tmp:
            out = reproduce.run(variant_profile(prof, variant), "faithful", out_dir=Path(tmp) / variant,
                                progress=progress)
            folder = reproduce.study(prof, "faithful", out)
            return reproduce.read_table2(out), folder.verify()
    finally:
        if before is None:
            os.environ.pop("ALUKIT_COMPILE", None)
        else:
            os.environ["ALUKIT_COMPILE"] = before


def run(prof: Profile | str, out_dir: Path | None = None, progress: bool = True) -> Path:
    """Run the four variants and write the folder (``results/picture-<name>/`` or ``out_dir``); returns it."""
    prof = profiles.load(prof)
    folder = study(prof, out_dir)
    folder.check_target()
    tables, records = {}, {}
    for v in variants():
        t = time.perf_counter()
        tables[v], prov = _run_variant(prof, v, progress)
        records[v] = {"seed": _parse(v)[0], "training_engine": prov["training_engine"],
                      "seconds": prov["seconds"], "training_run_seconds": prov["training_run_seconds"],
                      "wall_seconds": round(time.perf_counter() - t, 1)}
        if prov["training_engine"] != [_parse(v)[1]]:
            raise RuntimeError(f"variant {v} trained with the {prov['training_engine']} kernel")
    files = {_table_file(v): (lambda p, t=t: cache.write_text(p, t.to_csv(float_format="%.6g")))
             for v, t in tables.items()}
    prov = {"profile": prof.name, "study_values": prof.study_values(), "variants": variants(),
            "configuration_hashes": _hashes(prof), "evaluation_version": reproduce.evaluation_version(),
            "training_version": train.CODE_VERSION, "git_commit": provenance.git_commit(), "date": provenance.now(),
            "machine": provenance.machine(), "runs": records, "format": FORMAT}
    return folder.write(files, prov)


def read(prof: Profile | str, out_dir: Path | None = None) -> dict[str, pd.DataFrame]:
    """The folder's Tables 2 by variant (manifest checked; integer horizon columns)."""
    folder = study(prof, out_dir)
    prov = folder.verify()
    if prov.get("format") != FORMAT:
        raise ValueError(f"{folder.shown()} has format {prov.get('format')!r}; this code reads {FORMAT}")
    return {v: picture.by_horizon(pd.read_csv(folder.file(_table_file(v)), index_col="config"))
            for v in prov["variants"]}


def spread(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per Table 2 entry (``config``, ``horizon``): ``min``, ``max`` and ``range`` (points) over the variants."""
    long = pd.concat({v: t.stack() for v, t in tables.items()}, axis=1)
    long.index.names = ["config", "horizon"]
    out = pd.DataFrame({"min": long.min(axis=1), "max": long.max(axis=1)})
    out["range"] = out["max"] - out["min"]
    return out.loc[[c for c in paper.CONFIG_NAMES if c in out.index.get_level_values(0)]]


def holds_everywhere(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per statement: ``holds`` in every variant, and ``failing``: {variant: configurations} where not."""
    checks = {v: picture.check(t).set_index("statement") for v, t in tables.items()}
    rows = []
    for s in picture.check(next(iter(tables.values())))["statement"]:
        failing = {v: c.loc[s, "failing"] for v, c in checks.items() if c.loc[s, "failing"]}
        rows.append({"statement": s, "holds": not failing, "failing": failing})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m alukit picture", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", help="quick | path to a reduced profile YAML (default quick)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/picture-<name>)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    prof = profiles.load(args.profile)
    if not prof.is_reduced:
        raise ValueError("--profile must be a reduced profile (quick or a YAML file), not paper")
    out = run(prof, args.out, progress=not args.quiet)
    tables = read(prof, out)
    print(f"written: {study(prof, out).shown()}", file=sys.stderr)
    print(holds_everywhere(tables).to_string())
    print(spread(tables)[["min", "max", "range"]].unstack("horizon").round(1).to_string())
    return 0
