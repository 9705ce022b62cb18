"""The sparse-DNN sweep (``study: sparse-dnn``, :mod:`alukit.studies.sweep_sparse_dnn`): specs refused by name
before any training, the post-training prune against an independent computation, "from which λ on" on a
hand-made table, the committed specs and their estimate, and the quick sweep's folder (slow)."""
import math
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
import torch

from alukit import __main__ as cli
from alukit import paths
from alukit.evaluation import zeros
from alukit.studies import sparse_dnn, sweep
from alukit.studies import sweep_sparse_dnn as sds
from alukit.training import nets
from alukit.training.config import make_config
from alukit.training.runs import TrainResult

SPEC = """\
sweep: sdn
study: sparse-dnn
profile: quick
sizes: [5, 10]
n_boot: 200
grid:
  l1: [1e-4, 1e-2]
  prune: [0, 1e-3]
"""
BAD = [  # (change to the spec, words the one-line error must hold)
    ("study: other\n", ["study must be one of comparative, sparse-dnn", "'other'"]),
    ("config: l1\n", ["unknown key(s) ['config'] for study: sparse-dnn", "allowed: sweep, study, profile"]),
    ("grid:\n  hidden: [[20]]\n", ["grid has an unknown field 'hidden' for study: sparse-dnn",
                                   "allowed: l1, l1_input, prune"]),
    ("grid:\n  l1: [0]\n", ["grid.l1 value 0.0", "l1 must be a number in (0, 1)"]),
    ("grid:\n  l1: [1e-4]\n  l1_input: [2]\n", ["grid.l1_input value 2.0", "l1_input must be a number in (0, 1)"]),
    ("grid:\n  l1: [1e-4]\n  prune: [-1e-3]\n", ["grid.prune value -0.001", "prune must be a number in [0, 1)"]),
    ("grid:\n  l1: [1e-4]\n  prune: [yes]\n", ["grid.prune value True", "prune must be a number in [0, 1)"]),
    ("grid:\n  l1: [1e-4, 1.0e-4]\n", ["grid.l1 must list distinct values"]),
    ("grid:\n  prune: [0]\n", ["grid must have an l1 axis"]),
    ("grid:\n  l1: []\n", ["grid.l1 must be a non-empty list"]),
    ("sizes: [3]\n", ["sizes:", "sizes must be distinct training-set sizes from 5, 10, 20, 40"]),
    ("models: 1\n", ["models must be an integer in [2, 1000]"]),
    ("n_boot: 5\n", ["n_boot must be an integer in [100, 100000]"]),
]


def _spec(tmp_path, text=SPEC):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("change, words", BAD, ids=[c.split(":")[0] + str(i) for i, (c, _) in enumerate(BAD)])
def test_a_bad_sparse_dnn_spec_is_one_line_naming_the_field_before_any_training(change, words, tmp_path,
                                                                                tmp_cache, capsys, spec_with,
                                                                                refused_in_one_line):
    path = _spec(tmp_path, spec_with(SPEC, change))
    refused_in_one_line(sweep.load_spec, sweep.SweepError, cli.main, path, tmp_path / "out", words, capsys)
    assert not (tmp_cache / "train").exists()


def test_the_grid_is_the_product_of_l1_and_prune_over_the_setups_sizes(tmp_path):
    spec = sweep.load_spec(_spec(tmp_path))
    assert isinstance(spec, sds.SparseSpec)
    pts = sds.points(spec)
    assert [p.values for p in pts] == [{"l1": 1e-4, "prune": 0.0}, {"l1": 1e-4, "prune": 1e-3},
                                       {"l1": 1e-2, "prune": 0.0}, {"l1": 1e-2, "prune": 1e-3}]
    assert all(p.setup.sizes == (5, 10) and p.setup.models == 4 and p.setup.l1_input == p.setup.l1 for p in pts)
    assert pts[0].setup == sparse_dnn.setup("quick", (5, 10), 1e-4)  # the study's own set-up
    jobs = sds._jobs(spec)  # dense once per size, a λ's runs shared by its prune values
    assert len(jobs) == 2 + 2 * 2
    assert jobs[("sparse", 1e-4, 1e-4, 5)][0] == sparse_dnn.config("sparse", pts[0].setup)


# ---------------------------------------------------------------- the prune

def test_the_prune_zeroes_exactly_the_weights_below_the_threshold():
    gen = torch.Generator().manual_seed(0)
    t = 1e-3
    layers = [torch.randn(3, a, b, generator=gen) * 2e-3 for a, b in ((13, 20), (20, 20), (20, 8))]
    below = float(np.nextafter(np.float32(t), np.float32(0)))  # the largest float32 below 1e-3
    layers[0][0, 0, :4] = torch.tensor([t, -t, below, -below])  # the edges
    out = sds.prune_weights(layers, t)
    for w, p in zip(layers, out):  # an independent computation: element by element, in Python floats
        for x, y in zip(w.flatten().tolist(), p.flatten().tolist()):
            assert y == (0.0 if abs(x) < t else x)
    assert out[0][0, 0, :4].tolist() == [float(np.float32(t)), float(np.float32(-t)), 0.0, 0.0]
    np.testing.assert_array_equal(zeros.zero_fraction(out), [sum(int((abs(w[e]) < t).sum()) for w in layers) / 820
                                                          for e in range(3)])
    assert all(torch.equal(a, b) for a, b in zip(sds.prune_weights(layers, 0.0), layers))
    with pytest.raises(ValueError, match="prune must be a number in"):
        sds.prune_weights(layers, -1.0)


def test_pruning_a_run_keeps_its_biases_and_leaves_the_run_unchanged():
    cfg = make_config("l1", "faithful", hidden=(20, 20, 20, 20))
    ens = nets.Ensemble(cfg.dims, 3)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for layer in ens.layers:
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * 3e-3)
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=gen) * 1e-4)
    before = [w.clone() for w in ens.weights()]
    run = TrainResult(config=cfg, variant="faithful", ensemble=ens, x_norm=None, y_norm=None, log={},
                      sparsity=np.zeros(3), layer_sparsity=np.zeros((3, 5)), final_train_loss=np.zeros(3),
                      seconds=0.0, cached=True)
    out = sds.pruned(run, 1e-3)
    assert sds.pruned(run, 0.0) is run
    for w, w0, p, layer in zip(out.ensemble.weights(), before, out.ensemble.layers, ens.layers):
        np.testing.assert_array_equal(w.numpy(), np.where(np.abs(w0.numpy()) < 1e-3, 0, w0.numpy()))
        assert torch.equal(p.bias, layer.bias)
    assert all(torch.equal(a, b) for a, b in zip(ens.weights(), before))  # the run is not modified
    np.testing.assert_allclose(out.sparsity, zeros.small_fraction(before, 1e-3))
    assert out.layer_sparsity.shape == (3, 5) and (out.sparsity > 0.2).all()


# ---------------------------------------------------------------- from which λ on

def test_from_which_lambda_on_a_finding_holds_on_a_hand_made_table():
    lams = [1e-5, 1e-4, 1e-3, 1e-2]
    pattern = {  # (finding, prune): verdicts in λ order (shuffled below)
        ("interpretability", 0.0): ["inconclusive", "holds", "inconclusive", "holds"],  # from 1e-2 only
        ("interpretability", 1e-3): ["does not hold", "holds", "holds", "holds"],  # from 1e-4
        ("small-data", 0.0): ["holds", "holds", "holds", "inconclusive"],  # not at the largest: never
        ("small-data", 1e-3): ["holds"] * 4,  # from the smallest
        ("consistency", 0.0): ["does not hold"] * 4,
        ("consistency", 1e-3): ["inconclusive", "inconclusive", "holds", "holds"],
    }
    rows = [{"l1": lam, "l1_input": lam, "prune": prune, "finding": f, "verdict": v, "zeros": 10.0 * i}
            for (f, prune), vs in pattern.items() for i, (lam, v) in enumerate(zip(lams, vs))]
    table = pd.DataFrame(rows).sample(frac=1.0, random_state=0)
    out = sds.onsets(table).set_index(["finding", "prune"])
    want = {("interpretability", 0.0): (1e-2, 30.0), ("interpretability", 1e-3): (1e-4, 10.0),
            ("small-data", 0.0): (math.nan, math.nan), ("small-data", 1e-3): (1e-5, 0.0),
            ("consistency", 0.0): (math.nan, math.nan), ("consistency", 1e-3): (1e-3, 20.0)}
    for key, (lam, zeros) in want.items():
        np.testing.assert_equal((out.loc[key, "from_l1"], out.loc[key, "zeros_at"]), (lam, zeros))
    assert out.loc[("interpretability", 0.0), "holds_at"] == "0.0001; 0.01"
    assert out.loc[("consistency", 0.0), "holds_at"] == "" and (out.points == 4).all()
    with pytest.raises(ValueError, match="no verdicts for finding 'x'"):
        sds.onset(table, "x")


# ---------------------------------------------------------------- the committed specs

def test_the_committed_sparse_dnn_specs_and_the_estimate():
    quick = sweep.load_spec(paths.REPO_ROOT / "sweeps" / "sparse-dnn-quick.yaml")
    paper = sweep.load_spec(paths.REPO_ROOT / "sweeps" / "sparse-dnn-lambda.yaml")
    assert quick.profile.name == "quick" and paper.profile.name == "paper"
    axes = dict(paper.axes)
    assert len(axes["l1"]) >= 6 and min(axes["l1"]) <= 1e-5 and max(axes["l1"]) >= 1e-2
    assert axes["prune"] == (0.0, sds.PRUNE) and paper.setup.sizes == sparse_dnn.SIZES
    table = sweep.estimate(paper)
    assert len(table) == 4 + 4 * len(axes["l1"])  # dense once per size; each λ's runs serve both prune values
    prov = sparse_dnn.study(sparse_dnn.profiles.load("paper")).provenance()
    recorded = sum(prov["training_seconds_per_run"].values())  # the paper study's 8 runs: dense + λ = 1e-4
    assert table.seconds.sum() == pytest.approx(recorded + (len(axes["l1"]) - 1) * recorded / 2, rel=0.02)
    assert sweep.estimate(quick).seconds.sum() < 60
    one = prov["seconds"]["rollouts"] + prov["seconds"]["metrics"]  # one point of the paper setup, measured
    assert sds.evaluation_seconds(paper) == pytest.approx(len(axes["l1"]) * len(axes["prune"]) * one)


# ---------------------------------------------------------------- the quick sweep (slow)

@pytest.mark.slow
def test_the_quick_sparse_dnn_sweep_writes_a_valid_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / "cache"))
    spec_path = paths.REPO_ROOT / "sweeps" / "sparse-dnn-quick.yaml"
    t = time.monotonic()
    assert cli.main(["sweep", str(spec_path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert time.monotonic() - t <= 180
    assert "interpretability" in capsys.readouterr().out
    spec = sweep.load_spec(spec_path)
    res = sweep.read(out_dir=tmp_path / "out")
    assert set(res.provenance["manifest"]) == set(sds.FILES) - {"provenance.json"} | {"README.md"}
    assert res.provenance["distinct_runs"] == 6 and sds.stale_reason(spec, tmp_path / "out") is None
    s = res.summary
    points = sorted(s.point.unique())
    assert points == ["p000", "p001", "p002", "p003"]
    metrics = {"f1", "auprc", "correlation", "divergence", "capped_mean", "zeros", "small"}
    for (p, size, kind), g in s.groupby(["point", "size", "kind"]):
        assert metrics <= set(g.metric)
    f = s.dropna(subset=["estimate", "low", "high"])  # survivor means of fully diverged sets are undefined
    assert ((f.low <= f.estimate + 1e-9) & (f.estimate <= f.high + 1e-9)).all()
    def at(p, kind, m, cols=("estimate",)):
        return s[(s.point == p) & (s.kind == kind) & (s.metric == m)].set_index("size")[list(cols)].to_numpy()

    for raw, cut in (("p000", "p001"), ("p002", "p003")):  # the prune: exact zeros = the unpruned twin's |w| < 1e-3
        triple = ("estimate", "low", "high")
        np.testing.assert_allclose(at(cut, "sparse", "zeros", triple), at(raw, "sparse", "small", triple), atol=1e-9)
        np.testing.assert_allclose(at(cut, "dense", "zeros"), at(raw, "dense", "zeros"))  # dense never pruned
    assert (at("p003", "sparse", "zeros") > at("p001", "sparse", "zeros")).all()  # larger λ, sparser
    assert set(res.verdicts.finding) == {f.key for f in sparse_dnn.FINDINGS} and len(res.verdicts) == 12
    assert set(res.verdicts.verdict) <= set(sparse_dnn.VERDICTS) and len(res.onset) == 6
    assert res.errors["dense/5"].shape == (3, 4, 20, 8) and "p003/sparse/10" in res.errors
    assert not (res.errors["p000/sparse/5"] == res.errors["p001/sparse/5"]).all()  # the prune changes rollouts
    # an unpruned point measures exactly what the study measures at its λ (the study's runs, from the cache)
    s0 = sds.points(spec)[0].setup
    runs = sparse_dnn.train_runs(s0, workers=1, progress=False)
    assert not any(r.cached is False for r in runs.values())
    test = sparse_dnn.datasets(s0).test
    evals = {n: sparse_dnn.evaluate_size(runs, n, s0, test) for n in s0.sizes}
    _, summary, _ = sparse_dnn.summarise(evals, s0, spec.n_boot)
    mine = s[(s.point == "p000") & ~s.metric.isin(["zeros", "small"])].reset_index(drop=True)
    np.testing.assert_allclose(mine[["estimate", "low", "high"]].to_numpy(float),
                               summary[["estimate", "low", "high"]].to_numpy(float), rtol=1e-12)
    np.testing.assert_array_equal(res.errors["p000/sparse/5"], evals[5]["sparse"]["errors"].astype(np.float32))
