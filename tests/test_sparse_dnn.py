"""alukit.studies.sparse_dnn: set-up and CLI refusals, window errors, bootstrap and verdicts, a tiny run end to end."""
import json

import numpy as np
import pytest

from alukit.studies.study import StudyError
import torch

from alukit.process import cell, data
from alukit.training import engine
from alukit.training.config import make_config
from alukit.evaluation import interpret, metrics
from alukit.studies import sparse_dnn as S
from alukit.__main__ import main as cli

TINY = """profile: tiny
seed: 1
n_train: 1
n_val: 1
n_test: 1
n_steps: 5000
dt: 10.0
models: 1
sparse_dnn:
  sizes: [5, 10]
  models: 2
  epochs: 1
  test_trajectories: 2
"""


@pytest.fixture
def tiny(tmp_path, tmp_cache, monkeypatch):
    monkeypatch.setenv("ALUKIT_COMPILE", "0")
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.mark.parametrize("args, message", [
    (["--sizes", "7"], "sizes must be distinct training-set sizes from 5, 10, 20, 40"),
    (["--sizes", "5,5"], "sizes must be distinct"),
    (["--sizes", "five"], "sizes must be distinct training-set sizes"),
    (["--l1=-1e-4"], "l1 must be a number in (0, 1)"),
    (["--l1", "big"], "l1 must be a number in (0, 1)"),
    (["--l1", "0"], "l1 must be a number in (0, 1)"),
    (["--l1", "nan"], "l1 must be a number in (0, 1)"),
    (["--l1-input", "2"], "l1_input must be a number in (0, 1)"),
    (["--profile", "nosuch"], "profile must be one of quick, paper"),
    (["--workers", "0"], "workers must be an integer in [1, 64]"),
])
def test_cli_refuses_bad_arguments_by_name(args, message, capsys, tmp_cache):
    assert cli(["sparse-dnn", *args]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_cache.glob("**/*.npz"))  # refused before any data is made or run trained


def test_setup_reads_the_profile_keys():
    for profile in ("quick", "paper"):
        s = S.setup(profile)
        assert s.sizes == S.SIZES and s.models >= 2 and s.l1 == s.l1_input == S.L1
    paper = S.setup("paper")
    assert (paper.models, paper.epochs) == (10, 100) and paper.n_test >= 40
    assert S.setup("paper", sizes=[40, 5], l1_input=3e-4).sizes == (5, 40)
    cfg = S.config("sparse", paper)
    assert cfg.dims == (13, 20, 20, 20, 20, 8) and (cfg.l1, cfg.l1_input) == (1e-4, 1e-4)
    assert (cfg.batch_size, cfg.lr, cfg.lr_gamma, cfg.epochs) == (128, 1e-3, 1.0, 100)
    dense = S.config("dense", paper)
    assert dense.l1 == 0 and dense.l1_input is None and dense.dims == cfg.dims
    with pytest.raises(ValueError, match="kind must be one of dense, sparse"):
        S.config("l2", paper)


def test_setup_takes_the_defaults_of_a_profile_without_the_section(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(TINY.split("sparse_dnn:")[0])
    s = S.setup(path)
    assert (s.sizes, s.models, s.epochs, s.n_test) == ((5, 10, 20, 40), 10, 100, 100)
    path.write_text(TINY.replace("  models: 2", "  models: 1"))
    with pytest.raises(ValueError, match=r"sparse_dnn.models must be an integer in \[2, 10000\]"):
        S.setup(path)


def test_window_errors_by_hand():
    T = 10
    true = np.zeros((1, T, 13))
    pred = np.zeros((2, 1, T, 8))
    pred[0, 0, :4, 0] = 2.0  # state 1 off by 2σ in samples 0..3
    pred[1, 0, 6:, 3] = np.nan  # model 2 dead from sample 6 on
    sigma = np.ones(8)
    e = S.window_errors(pred, true, sigma, windows=((0, 4), (4, 10)))
    assert e.shape == (2, 2, 1, 8)
    assert e[0, 0, 0, 0] == 2.0 and e[1, 0, 0, 0] == 0.0
    assert e[1, 1, 0, 3] == metrics.NAN_VALUE and e[0, 1, 0, 3] == 0.0
    np.testing.assert_array_equal(metrics.diverged(e)[:, :, 0], [[False, False], [False, True]])
    with pytest.raises(ValueError, match="windows must be"):
        S.window_errors(pred, true, sigma, windows=((0, 11),))


def test_bootstrap_helpers_and_verdicts():
    v = np.array([0.2, 0.4, 0.6, 0.8])
    est, lo, hi = S.boot(S.mean_stat, v, n_boot=500)
    assert est == pytest.approx(0.5) and 0.2 <= lo < est < hi <= 0.8
    m = np.full((4, 4), 0.5)
    np.fill_diagonal(m, 1.0)  # a model with itself never counts
    est, lo, hi = S.boot(S.pair_stat, m, n_boot=500)
    assert est == lo == hi == 0.5
    d, lo, hi = S.boot_difference(S.mean_stat, v + 1, v, n_boot=500)
    assert d == pytest.approx(1.0) and lo > 0
    assert S.verdict(0.1, 0.3, True) == "holds" and S.verdict(0.1, 0.3, False) == "does not hold"
    assert S.verdict(-0.3, -0.1, False) == "holds" and S.verdict(-0.1, 0.1, True) == "inconclusive"
    assert S.verdict(float("nan"), 1.0, True) == "inconclusive"


def test_model_scores_on_planted_influences():
    truth = cell.DEPENDENCIES.astype(float)
    dense = np.ones((2, 8, 13))
    path = np.stack([truth, dense[0]])
    sc = S.model_scores(path, path)
    assert sc["f1"][0] == 1.0 and sc["recall"][1] == 1.0
    assert sc["precision"][1] == pytest.approx(cell.DEPENDENCIES.mean())
    assert sc["x5_edges"].tolist() == [0.0, 8.0]
    assert sc["u1_u3_fn"].tolist() == [0.0, 0.0]
    assert sc["u1_u3_fp"][1] == (~cell.DEPENDENCIES[:, [8, 10]]).sum()


def test_training_is_engine_fit_on_the_first_trajectories_of_the_pool(tmp_path, tmp_cache, monkeypatch, one_thread):
    """Each kind × size trains engine.fit on the first `size` pool trajectories, z-scored with their own
    statistics, members seeded from the "sparse-dnn" group, the profile's epochs not rescaled."""
    monkeypatch.setenv("ALUKIT_COMPILE", "0")
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.replace("  epochs: 1", "  epochs: 2") + "train_epoch_scale: 0.5\n")
    s = S.setup(path)
    run = S.train_runs(s, workers=1, progress=False)[("sparse", 5)]
    traj = data.datasets(10, 1, 2, 5000, 1, 10.0).train[:5]  # the first 5 of a pool of 10
    feats = traj[:, :-1].reshape(-1, 13)
    targs = ((traj[:, 1:, :8] - traj[:, :-1, :8]) / 10.0).reshape(-1, 8)
    samples = traj.reshape(-1, 13)  # the feature statistics count every sample, the last ones too
    x_mean, x_std = samples.mean(0), samples.std(0, ddof=1)
    y_mean, y_std = targs.mean(0), targs.std(0, ddof=1)
    for got, want in ((run.x_norm.mean, x_mean), (run.x_norm.std, x_std), (run.y_norm.mean, y_mean),
                      (run.y_norm.std, y_std)):
        np.testing.assert_array_equal(got, want)
    cfg = make_config("l1", hidden=(20,) * 4, l1=1e-4, l1_input=1e-4, batch_size=128, epochs=2, lr=1e-3,
                      lr_gamma=1.0, seed_group="sparse-dnn")
    out = engine.fit(cfg, (feats - x_mean) / x_std, (targs - y_mean) / y_std,
                     engine.member_seeds(1, "sparse-dnn", 2), progress=False, compile=False)
    assert run.log["loss"].shape == (2, 2)
    np.testing.assert_array_equal(run.log["loss"], out["loss"])
    for i, layer in enumerate(run.ensemble.layers):
        assert torch.equal(layer.weight, out["final"][f"W{i}"]) and torch.equal(layer.bias, out["final"][f"b{i}"])


def test_tiny_run_end_to_end_cached_and_deterministic(tiny, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert cli(["sparse-dnn", "--profile", str(tiny), "--json", "--workers", "1", "--quiet", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed["results"]) == {"5", "10"}
    entry = printed["results"]["5"]["sparse"]
    assert {"f1", "auprc", "consistency", "diverged_percent", "error"} <= set(entry)
    assert set(entry["consistency"]) == {"correlation", "jaccard"}
    assert set(entry["diverged_percent"]) == {"0-100", "100-2500", "2500-5000"}
    assert set(entry["f1"]) == {"estimate", "low", "high"}
    assert set(printed["verdicts"]) == {f.key for f in S.FINDINGS}
    assert set(printed["verdicts"].values()) <= set(S.VERDICTS)
    res = S.load(tiny, out)
    assert res.influence["path_sparse_10"].shape == (2, 8, 13)
    assert res.errors["dense_5"].shape == (3, 2, 2, 8)
    assert res.provenance["training_runs_cached_at_start"] == 0 and res.provenance["seconds"]["training"] > 0
    trained = S.train_runs(S.setup(tiny), workers=1, progress=False)
    assert all(r.cached for r in trained.values())  # the run above trained them
    np.testing.assert_allclose(res.influence["path_dense_5"], interpret.influence(
        S.stepper.StackedMLP.from_ensemble(trained[("dense", 5)].ensemble)))
    assert S.is_current(tiny, out) and not S.is_current(tiny, tmp_path / "none")
    run = S.run
    monkeypatch.setattr(S, "run", lambda *a, **k: pytest.fail("the chapter's results are only read"))
    with pytest.raises(StudyError, match="python -m alukit sparse-dnn --profile .*tiny.yaml"):
        S.load(tiny, tmp_path / "again")
    run(tiny, out_dir=tmp_path / "again", progress=False)  # every run cached: only rolled out and scored
    again = S.load(tiny, tmp_path / "again")
    assert again.provenance["training_runs_cached_at_start"] == 4
    np.testing.assert_array_equal(again.scores.to_numpy(), res.scores.to_numpy())
    assert res.verdicts.finding.tolist() == [f.key for f in S.FINDINGS]
    assert res.provenance["training_cpu_seconds"] > 0
    structure = S.table(res.summary, "structure")
    assert structure.shape == (4, len(S.TABLE_METRICS["structure"]))
    assert structure.index.names[0] == "training trajectories"
    assert list(S.table(res.summary, "divergence").columns) == ["[0, 100)", "[100, 2500)", "[2500, 5000)"]
    with pytest.raises(ValueError, match="which must be one of"):
        S.table(res.summary, "nonsense")
    est, lo, hi = S.lookup(res.summary, 5, "dense", "f1")
    assert lo <= est <= hi and S.interval_text(est, lo, hi).startswith(f"{est:.2f} [")
    assert S.interval_text(0.03, -0.004, 0.06) == "0.03 [0.00, 0.06]"  # never "-0.00"
    assert S.interval_text(-0.2, -0.31, -0.1) == "-0.20 [-0.31, -0.10]"
    assert "Tiny profile" in S.banner(res.provenance["setup"])
    assert "&lt;b&gt;" in S.banner({**res.provenance["setup"], "profile": "<b>"}, current=False)
    assert S.banner({**res.provenance["setup"], "profile": "paper"}) == ""
    readme = S.readme_lines(tiny, out)
    assert "from an empty cache" in readme[1] and "interpretability **" in readme[1]
    assert S.readme_lines(tiny, tmp_path / "none") == []
    _draw_figures(res)


def _draw_figures(res):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alukit.book import figures

    found = interpret.edges(res.influence["path_sparse_10"][0])
    fig = figures.influence_graphs([("true", None), ("sparse", found)])
    lines = fig.axes[1].lines
    assert len(fig.axes[0].lines) == cell.DEPENDENCIES.sum()  # one black line per true edge
    assert len(lines) == (found | cell.DEPENDENCIES).sum()  # TP + FP + FN
    assert len(figures.structure_vs_size(res.summary).axes) == 4
    assert len(figures.rollouts_vs_size(res.summary, "divergence").axes) == len(S.WINDOWS)
    assert len(figures.consistency_vs_size(res.summary, S.RELEASED_MODEL_CORRELATION).axes) == 2
    plt.close("all")


def test_load_without_results_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(S, "run", lambda *a, **k: pytest.fail("the paper profile is never trained by the chapter"))
    with pytest.raises(StudyError, match="python -m alukit sparse-dnn --profile paper"):
        S.load("paper", tmp_path / "none")
