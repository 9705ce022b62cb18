"""The committed results folders: intact (manifest), and every table, interval and verdict recomputable from
the committed per-rollout errors and influences with today's code."""
import shutil

import numpy as np
import pandas as pd
import pytest

from alukit import cache, paths, profiles
from alukit.evaluation import metrics
from alukit.studies import conclusions, reproduce, sparse_dnn, sweep, sweep_sparse_dnn
from alukit.training import train
from alukit.training.config import CONFIG_NAMES, config_hash, make_config
from alukit.studies.study import Study, StudyError

RESULTS = paths.REPO_ROOT / "results"
FOLDERS = sorted(p.name for p in RESULTS.iterdir() if (p / "provenance.json").is_file())
PAPER = ("paper-faithful", "paper-corrected", "paper-published")
EXACT = dict(rtol=1e-12, atol=0)  # a CSV round trip of a float64 may move its last bit


def test_the_committed_folders_are_found():
    assert set(PAPER) | {"paper-sparse-dnn"} <= set(FOLDERS)


def test_the_committed_sparse_dnn_results_are_current_for_the_code():
    """The paper profile's sparse-DNN folder records today's training and evaluation versions, or versions proven
    equivalent to them (else chapter 7 of the paper book shows a "Stale results" warning)."""
    assert sparse_dnn.stale_reason("paper") is None


@pytest.mark.parametrize("name", FOLDERS)
def test_committed_folder_matches_its_manifest(name):
    prov = Study(name).verify()
    assert set(prov["manifest"]) == {p.name for p in (RESULTS / name).iterdir() if p.name != "provenance.json"}


def _edit_csv(path):
    """Change the first number of the file's second line by one unit in its last printed digit."""
    lines = path.read_text().splitlines(keepends=True)
    cells = lines[1].split(",")
    i = next(k for k, c in enumerate(cells) if c.strip().replace(".", "", 1).replace("-", "", 1).isdigit())
    cells[i] = cells[i].replace(cells[i].strip()[-1], str((int(cells[i].strip()[-1]) + 1) % 10), 1)
    path.write_text("".join(lines[:1] + [",".join(cells)] + lines[2:]))


def _edit_npz(path):
    """Rewrite the npz with one value of its first per-configuration array changed."""
    arrays = cache.load_npz(path)
    key = next(k for k, v in arrays.items() if v.ndim == 4)
    arrays[key] = arrays[key].copy()
    arrays[key].flat[0] += 0.25
    cache.save_npz(path, **arrays)


@pytest.mark.parametrize("file, edit", [("table2.csv", _edit_csv), ("stats.csv", _edit_csv),
                                        ("errors.npz", _edit_npz)])
def test_one_edited_number_fails_verify(tmp_path, file, edit):
    copy = tmp_path / "paper-published"
    shutil.copytree(RESULTS / "paper-published", copy)
    Study("paper-published", copy).verify()
    before = (copy / file).read_bytes()
    edit(copy / file)
    assert (copy / file).read_bytes() != before
    with pytest.raises(StudyError, match=f"{file} differs from the file that was written"):
        Study("paper-published", copy).verify()


@pytest.fixture(scope="module", params=PAPER)
def paper_folder(request):
    name = request.param
    return name, reproduce.read(Study(name), tables_only=name == "paper-published")


def test_tables_2_to_4_recompute_from_the_committed_errors(paper_folder):
    name, res = paper_folder
    # paper-published: the authors' released models are not committed, so its Table 4 is not recomputable here
    sparsity = {c: 100 * np.asarray(res.training[c]["final"]["sparsity"]) if res.training else np.zeros(1)
                for c in res.errors}
    t2, t3, t4 = reproduce.tables(res.errors, sparsity, res.horizons)
    assert len(t2) == 16
    pd.testing.assert_frame_equal(t2, res.table2, **EXACT)
    pd.testing.assert_frame_equal(t3, res.table3, **EXACT)
    if res.training:
        pd.testing.assert_frame_equal(t4, res.table4, **EXACT)
        assert (t4.sparsity > 0).any()


def test_intervals_and_verdicts_recompute_from_the_committed_errors(paper_folder):
    name, res = paper_folder
    n_boot = res.provenance["n_boot"]
    stats = reproduce.bootstrap_stats(res.errors, res.horizons, n_boot=n_boot)
    pd.testing.assert_frame_equal(stats, res.stats, check_dtype=False, **EXACT)
    comparisons, summary = conclusions.check(res.errors, res.horizons, n_boot=n_boot)
    pd.testing.assert_frame_equal(comparisons, res.comparisons, check_dtype=False, **EXACT)
    pd.testing.assert_frame_equal(summary, res.conclusions, check_dtype=False, **EXACT)


def test_sparse_dnn_summary_and_verdicts_recompute_from_the_committed_errors_and_influences():
    res = sparse_dnn.load("paper")
    s = sparse_dnn.Setup(**{**res.provenance["setup"], "sizes": tuple(res.provenance["setup"]["sizes"])})
    evals = {n: {k: {"errors": res.errors[f"{k}_{n}"].astype(np.float64), "path": res.influence[f"path_{k}_{n}"],
                     "jacobian": res.influence[f"jacobian_{k}_{n}"]} for k in sparse_dnn.KINDS} for n in s.sizes}
    n_boot = res.provenance["n_boot"]
    scores, summary, pairs = sparse_dnn.summarise(evals, s, n_boot)
    pd.testing.assert_frame_equal(scores, res.scores, check_dtype=False, **EXACT)
    # errors.npz keeps float32 copies of the float64 errors the rollout statistics were computed from
    rollout = summary.metric.isin(sparse_dnn.ROLLOUT)
    pd.testing.assert_frame_equal(summary[~rollout], res.summary[~rollout], check_dtype=False, **EXACT)
    pd.testing.assert_frame_equal(summary[rollout], res.summary[rollout], check_dtype=False, rtol=1e-5, atol=1e-6)
    comparisons, verdicts = sparse_dnn.compare(evals, scores, pairs, s, n_boot)
    pd.testing.assert_frame_equal(comparisons, res.comparisons, check_dtype=False, rtol=1e-5, atol=1e-6)
    pd.testing.assert_frame_equal(verdicts, res.verdicts, check_dtype=False)


# ---------------------------------------------------------------- committed sweeps

SWEEP_FOLDERS = sorted(n for n in FOLDERS if n.startswith("sweep-"))


@pytest.mark.parametrize("name", SWEEP_FOLDERS)
def test_a_committed_sweep_is_current_for_its_spec_and_the_code(name):
    spec = paths.SWEEPS / f"{name.removeprefix('sweep-')}.yaml"
    assert spec.is_file(), f"results/{name}/ has no spec {spec.name} in sweeps/"
    assert sweep.stale_reason(spec) is None, f"results/{name}/: {sweep.stale_reason(spec)}"


@pytest.mark.parametrize("name", [n for n in SWEEP_FOLDERS if sweep.read(out_dir=RESULTS / n).provenance.get("study")
                                  != "sparse-dnn"])
def test_a_committed_sweeps_summary_recomputes_from_its_errors(name):
    res = sweep.read(out_dir=RESULTS / name)
    wide, stats = sweep.summarise(res.errors, res.horizons, res.provenance["n_boot"])
    pd.testing.assert_frame_equal(stats, res.stats, check_dtype=False, **EXACT)
    summary = res.summary
    pd.testing.assert_frame_equal(wide, summary[wide.columns].rename_axis("point"), check_dtype=False, **EXACT)
    for col, arrays in (("zeros", res.zeros), ("small", res.small)):
        recomputed = pd.Series({p: 100 * float(np.mean(v)) for p, v in arrays.items()}, name=col)
        pd.testing.assert_series_equal(recomputed, summary[col].rename(col), check_index_type=False,
                                       check_names=False, **EXACT)


def _paper_row_hashes(variant):
    paper = profiles.load("paper")
    return {config_hash(train.resolve(make_config(c, variant), variant, paper)[0]): c for c in CONFIG_NAMES}


@pytest.mark.parametrize("name", [n for n in SWEEP_FOLDERS if sweep.read(out_dir=RESULTS / n).provenance.get("study")
                                  != "sparse-dnn"])
def test_a_sweep_point_at_the_papers_setting_has_the_papers_numbers(name):
    """The same configuration trains to the same cache key, so a grid point at a row's own setting has that row's
    per-rollout errors in the study's folder, bit for bit (both were made on this machine's float path)."""
    res = sweep.read(out_dir=RESULTS / name)
    matched = 0
    for p in res.provenance["points"]:
        row = _paper_row_hashes(p["config"]["variant"]).get(p["config_hash"])
        if row is None or p["models"] != profiles.load("paper").models:
            continue
        study_errors = cache.load_npz(RESULTS / f"paper-{p['config']['variant']}" / "errors.npz")[row]
        np.testing.assert_array_equal(res.errors[p["point"]], study_errors, err_msg=f"{name} {p['point']} vs {row}")
        matched += 1
    if not matched and "hidden" in res.provenance["spec"]["grid"]:
        pytest.skip(f"{name}: swept at another width than the study's rows, so no point is one of them")
    assert matched, f"{name}: no grid point at a setting of the paper study"


def _sparse_sweep_folders():
    return [n for n in SWEEP_FOLDERS if sweep.read(out_dir=RESULTS / n).provenance.get("study") == "sparse-dnn"]


@pytest.mark.parametrize("name", _sparse_sweep_folders())
def test_a_sparse_dnn_sweeps_verdicts_and_onsets_recompute_from_its_errors_and_comparisons(name):
    """The small-data comparisons from the per-rollout errors (float32 copies, so to 1e-5), each point's verdicts
    from its comparisons by the study's rule, and the onsets from the verdicts."""
    res = sweep.read(out_dir=RESULTS / name)
    sizes = res.provenance["setup"]["sizes"]
    windows = [sparse_dnn.window_label(w) for w in sparse_dnn.WINDOWS]
    n_boot = res.provenance["n_boot"]
    small = res.comparisons[res.comparisons.finding == "small-data"]
    assert len(small) == 2 * len(res.verdicts.point.unique())
    for r in small.itertuples():
        j = 2 * len(sizes) + ["divergence", "capped_mean"].index(r.metric)  # its place in the study's plan (its seed)
        w = windows.index(r.window)
        err = {k: res.errors[f"{r.point}/sparse/{r.size}" if k == "sparse" else f"dense/{r.size}"][w:w + 1]
               .astype(np.float64) for k in sparse_dnn.KINDS}
        d, lo, hi = (float(v[0]) for v in metrics.bootstrap_difference(err["sparse"], err["dense"], r.metric,
                                                                      n_boot=n_boot, seed=7000 + j))
        np.testing.assert_allclose([d, lo, hi], [r.difference, r.low, r.high], rtol=1e-5, atol=1e-6)
        assert sparse_dnn.verdict(lo, hi, higher_is_better=False) == r.verdict
    for (point, finding), got in res.comparisons.groupby(["point", "finding"]):
        row = res.verdicts[(res.verdicts.point == point) & (res.verdicts.finding == finding)].iloc[0]
        v = got.verdict
        assert row.verdict == ("holds" if (v == "holds").all() else "does not hold" if (v == "does not hold").any()
                               else "inconclusive")
        assert (row.holding, row.contradicted) == ((v == "holds").sum(), (v == "does not hold").sum())
    onset = res.onset.assign(holds_at=res.onset.holds_at.fillna("").astype(str))  # a CSV reads "" as missing
    pd.testing.assert_frame_equal(sweep_sparse_dnn.onsets(res.verdicts), onset, check_dtype=False, **EXACT)
