"""The study pipeline end to end on a tiny profile, its cache, and (with the training engine) determinism."""
import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from alukit import paths, profiles
from alukit.book.banner import banner
from alukit.studies.study import StudyError
from alukit.process import data
from alukit.evaluation import metrics, stepper
from alukit.training import nets, sparsity
from alukit.studies import paper, reproduce

CONFIGS = ("dense", "l1", "l1+swa", "str", "mp+l1")  # paper order


@pytest.fixture
def tiny_profile(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("profile: tiny\nseed: 0\nn_train: 2\nn_val: 1\nn_test: 3\nn_steps: 1000\ndt: 10.0\nmodels: 2\n"
                    "horizons: [100, 500, 1000]\n")
    return profiles.load(path)


class FakeTrain:
    """Stands in for alukit.training.train: E=2 damped linear models, a different damping per configuration."""

    CODE_VERSION = "fake-engine"

    def __init__(self):
        self.calls = 0

    def resolve(self, config, variant="faithful", profile="quick", models=None, epochs=None):
        return SimpleNamespace(name=getattr(config, "name", config), variant=variant), profile, models or 2

    def config_hash(self, cfg):
        return f"{cfg.name}-{cfg.variant}"

    def train_many(self, jobs, progress=True):
        return [self.train(cfg.name, cfg.variant, prof, models=n, progress=progress) for cfg, prof, n in jobs]

    def train(self, config, variant="faithful", profile="quick", models=None, progress=True):
        self.calls += 1
        config = getattr(config, "name", config)  # a name, or a Config (the exercise runs)
        sets = data.profile_datasets(profile)
        x_norm, y_norm = stepper.normalizers("corrected", sets.train, sets.test)
        k = paper.CONFIG_NAMES.index(config)
        w = torch.zeros(2, 13, 8, dtype=torch.float64)
        w[:, :8, :] = -0.002 * (k + 1) * torch.eye(8, dtype=torch.float64)
        if config == "mp+l1":  # one unstable member: exponential growth, then overflow
            w[1, :8, :] = 1e3 * torch.eye(8, dtype=torch.float64)
        ensemble = nets.Ensemble((13, 8), 2, bias=False).double()
        with torch.no_grad():
            ensemble.layers[0].weight.copy_(w)
        if config == "str":
            sparsity.apply_str(ensemble, -3.0)
        epochs = 4
        log = {"loss": np.linspace(1, 0.1, 2 * epochs).reshape(2, epochs), "lr": np.full(epochs, 1e-3),
               "layer_sparsity": np.zeros((2, epochs, 1)), "str_threshold": np.full((2, epochs, 1), 0.05),
               "note": np.array(["not numeric"] * epochs)}
        return SimpleNamespace(config=SimpleNamespace(name=config, epochs=epochs), variant=variant, ensemble=ensemble,
                               x_norm=x_norm, y_norm=y_norm, sparsity=np.array([0.25, 0.5]),
                               layer_sparsity=np.array([[0.25], [0.5]]), final_train_loss=np.array([0.1, 0.2]),
                               log=log, cached=False, seconds=0.0,  # fractions
                               extra={"compiled": False, "workers": 1})


@pytest.fixture
def fake_train(monkeypatch):
    fake = FakeTrain()
    monkeypatch.setattr(reproduce, "train", fake)
    return fake


def test_tiny_study_end_to_end(tmp_cache, tiny_profile, tmp_path, fake_train, monkeypatch):
    out = reproduce.run(tiny_profile, "faithful", CONFIGS, tmp_path / "out", progress=False, n_boot=50)
    for name in [*reproduce.FILES, "README.md"]:
        assert (out / name).is_file(), name
    readme = (out / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in reproduce.FILES) and "python -m alukit reproduce" in readme
    res = reproduce.load(tiny_profile, "faithful", out)
    assert list(res.table2.index) == list(CONFIGS) and list(res.table2.columns) == [100, 500, 1000]
    assert res.horizons == (100, 500, 1000) and res.table3.shape == (len(CONFIGS), 9)
    assert set(res.errors) == set(CONFIGS)
    e = res.errors["mp+l1"]
    np.testing.assert_allclose(res.table2.loc["mp+l1"].to_numpy(), metrics.divergence_percent(e))
    assert res.table2.loc["mp+l1", 1000] == 50.0 and res.table2.loc["dense", 1000] == 0.0
    assert res.table3.loc["mp+l1", (1000, "survivors")] == 3
    assert res.table4.loc["dense", "sparsity"] == pytest.approx(37.5)
    prov = res.provenance
    assert set(reproduce.STAGES) == set(prov["seconds"]) and prov["variant"] == "faithful"
    assert prov["configuration_hash"] == reproduce.configuration_hash(tiny_profile, "faithful", CONFIGS)
    assert prov["training_engine"] == ["eager"] and prov["training_workers"] == [1]
    assert {"git_commit", "date", "machine", "torch"} <= set(prov)
    assert set(res.conclusions.verdict) <= {"holds", "does not hold", "inconclusive", "not run"}
    ran = res.comparisons[res.comparisons.verdict != "not run"]
    assert set(ran.horizon) == {1000} and len(ran) == 2  # l1+swa vs l1, in divergence and capped error
    assert len(res.stats) == len(CONFIGS) * 3 * 3

    # training logs: every numeric key of result.log, whatever the trainer logs
    log = res.training["str"]["log"]
    assert set(log) == {"loss", "lr", "layer_sparsity", "str_threshold"} and log["str_threshold"].shape == (2, 4, 1)
    assert "str/log/note" in prov["log_keys_not_saved"]
    final = res.training["mp+l1"]["final"]
    np.testing.assert_array_equal(final["train_loss"], [0.1, 0.2])
    assert int(final["epochs"]) == 4 and final["layer_sparsity"].shape == (2, 1)
    # example rollouts of Figs. 4 and 5 and the true trajectory they are compared to
    sets = data.profile_datasets(tiny_profile)
    np.testing.assert_array_equal(res.rollouts["true"], sets.test[reproduce.EXAMPLE_TRAJECTORY])
    assert set(res.rollouts["pred"]) == {"l1", "str"} and res.rollouts["pred"]["l1"].shape == (2, 1000, 8)
    true, pred, sigma = reproduce.example_rollouts("l1", tiny_profile, "faithful", res)
    e = metrics.state_errors(pred[:, None], true[None], sigma, res.horizons)
    np.testing.assert_allclose(e[:, :, 0], res.errors["l1"][:, :, reproduce.EXAMPLE_TRAJECTORY], rtol=1e-4)  # float32
    with pytest.raises(ValueError, match="config must be one of l1, str"):
        reproduce.example_rollouts("dense", tiny_profile, "faithful", res)
    # the inspected STR model: raw weights, thresholds, effective weights
    m = res.models["str"]
    extra = set(reproduce.exercise_configs("faithful")) | set(reproduce.probe_configs("faithful"))
    assert extra >= {"l1x10", "dsr-frozen"} and reproduce.probe_configs("corrected") == {}
    expected = (set(reproduce.INSPECTED_CONFIGS) & set(CONFIGS)) | extra
    assert set(res.models) == expected and m["threshold"].shape == (2, 1)
    # the exercise and probe runs are rolled out too, their errors kept beside the tables' configurations
    assert set(res.extra_errors) == extra and set(res.errors) == set(CONFIGS)
    assert res.extra_errors["dsr-frozen"].shape[0] == len(res.horizons)
    assert reproduce.probe_configs("faithful")["dsr-frozen"][0].freeze
    np.testing.assert_allclose(m["threshold"], 1 / (1 + np.exp(3.0)), rtol=1e-6)
    raw, eff = m["raw_weight0"], m["weight0"]
    np.testing.assert_allclose(eff, np.sign(raw) * np.maximum(np.abs(raw) - m["threshold"][0, 0], 0), atol=1e-7)

    # a second run reuses the cached rollouts: the stepper must not run again
    monkeypatch.setattr(stepper, "rollout", lambda *a, **k: pytest.fail("cached stage recomputed"))
    reproduce.run(tiny_profile, "faithful", CONFIGS, tmp_path / "again", progress=False, n_boot=50)
    again = reproduce.load(tiny_profile, "faithful", tmp_path / "again")
    for c in CONFIGS:
        np.testing.assert_array_equal(again.errors[c], res.errors[c])


def test_variants_use_their_normalisation(tmp_cache, tiny_profile, fake_train):
    sets = data.profile_datasets(tiny_profile)
    result = fake_train.train("dense", profile=tiny_profile)
    faithful = reproduce.evaluate(result, "faithful", sets, horizons=(100, 1000))
    corrected = reproduce.evaluate(result, "corrected", sets, horizons=(100, 1000))
    np.testing.assert_allclose(corrected["sigma"], result.x_norm.std[:8])
    np.testing.assert_allclose(faithful["sigma"], data.Normalizer.fit(sets.test).std[:8])
    assert faithful["errors"].shape == (2, 2, 3, 8) and faithful["example"].shape == (2, 1000, 8)
    assert not np.allclose(faithful["errors"], corrected["errors"])


def test_bad_arguments(tmp_cache, tiny_profile, fake_train):
    with pytest.raises(ValueError, match="variant must be one of 'faithful', 'corrected'"):
        reproduce.run(tiny_profile, "fair")
    with pytest.raises(ValueError, match="profile must be one of quick, paper"):
        reproduce.run("huge", "faithful")
    with pytest.raises(ValueError, match="configs must be a non-empty subset"):
        reproduce.run(tiny_profile, "faithful", ["lasso"])
    with pytest.raises(StudyError, match="python -m alukit reproduce"):
        reproduce.load(tiny_profile, "faithful", Path("/nonexistent"))


def test_old_or_incomplete_results_fail_with_the_command(tmp_cache, tiny_profile, tmp_path, fake_train):
    out = reproduce.run(tiny_profile, "corrected", CONFIGS[:2], tmp_path / "out", progress=False, n_boot=20)
    (out / "models.npz").unlink()
    with pytest.raises(StudyError, match=r"models.npz is missing.*--variant corrected"):
        reproduce.load(tiny_profile, "corrected", out)
    prov = json.loads((out / "provenance.json").read_text())
    prov.pop("format")
    prov["manifest"].pop("models.npz")
    (out / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(StudyError, match="format 1"):
        reproduce.load(tiny_profile, "corrected", out)
    for name in ("training.npz", "rollouts.npz"):  # a folder of tables only (reproduce.write_results)
        (out / name).unlink()
        prov["manifest"].pop(name)
    (out / "provenance.json").write_text(json.dumps(prov))
    tables = reproduce.load(tiny_profile, "corrected", out, tables_only=True)
    assert list(tables.table2.index) == list(CONFIGS[:2]) and tables.training == {} and tables.models == {}


def test_banner_states_the_profile_and_stale_results(tmp_cache, tiny_profile, tmp_path, fake_train, monkeypatch):
    text = banner("paper")
    assert "Paper profile" in text and "warning" not in text
    text = banner("quick")
    assert "Quick profile" in text and "(paper: 40)" in text
    monkeypatch.setattr(paths, "RESULTS", tmp_path / "results")
    reproduce.run(tiny_profile, "faithful", paper.CONFIG_NAMES, progress=False, n_boot=20)
    assert reproduce.stale_reason(tiny_profile, "faithful") is None
    assert "Stale" not in banner(tiny_profile, ["faithful"])
    monkeypatch.setattr(reproduce, "_EVALUATION_VERSION", "other-code")
    text = banner(tiny_profile, ["faithful"])
    assert "Stale results" in text and "rollout or metric code changed" in text
    assert f"python -m alukit reproduce --profile {tiny_profile.path} --variant faithful" in text


@pytest.mark.parametrize("variant", reproduce.VARIANTS)
def test_committed_paper_results_are_current(variant):
    """The committed paper-profile results match the code: the book never shows stale results from main."""
    paper_profile = profiles.load("paper")
    reason = reproduce.stale_reason(paper_profile, variant)
    assert reason is None, (f"results/paper-{variant}/: {reason}; run: "
                            f"{reproduce.refresh_command(paper_profile, variant)} and commit the folder")
    reproduce.load("paper", variant)  # every file present, current format


@pytest.mark.slow
def test_rerunning_a_configuration_reproduces_per_seed_numbers(tmp_path, tiny_profile, monkeypatch):
    """Two seeds of one configuration for the quick profile's epoch count, trained twice from scratch."""
    from alukit.training import train

    epochs = train.resolve("l1", "faithful", "quick")[0].epochs
    tiny_profile = dataclasses.replace(tiny_profile, n_steps=300, horizons=(100, 300))
    runs = []
    for k in range(2):
        monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / f"cache{k}"))  # nothing shared: retrain, re-roll
        sets = data.profile_datasets(tiny_profile)
        result = train.train("l1", "faithful", tiny_profile, models=2, epochs=epochs, progress=False)
        assert not result.cached
        runs.append(reproduce.evaluate(result, "faithful", sets, horizons=(100, 300)))
    np.testing.assert_array_equal(runs[0]["errors"], runs[1]["errors"])
    np.testing.assert_array_equal(runs[0]["example"], runs[1]["example"])
    assert runs[0]["errors"].shape == (2, 2, 3, 8)


def test_figures_draw_from_results(tmp_cache, tiny_profile, tmp_path, fake_train):
    import matplotlib

    matplotlib.use("Agg")
    from alukit.book import figures

    out = reproduce.run(tiny_profile, "faithful", CONFIGS, tmp_path / "out", progress=False, n_boot=20)
    res = reproduce.load(tiny_profile, "faithful", out)
    for draw in (figures.divergence_bars, figures.error_violins):
        fig = draw(res, figures.GROUPS["l1-vs-l1+swa"], "test")
        assert len(fig.axes) == 1 and fig.axes[0].get_xticklabels()[0].get_text() == "100 ΔT"
    true, pred, sigma = reproduce.example_rollouts("l1", tiny_profile, "faithful", res)
    assert pred.shape == (2, 1000, 8) and true.shape == (1000, 13) and sigma.shape == (8,)
    assert len(figures.rollout_panels(true, pred).axes) == 8
    scores = figures.survivor_scores(res.errors["mp+l1"])
    assert [len(s) for s in scores] == list(res.table3.loc["mp+l1"].xs("survivors", level="stat").astype(int))


def test_loading_never_computes(tmp_cache, tiny_profile, tmp_path, fake_train, monkeypatch):
    monkeypatch.setattr(paths, "RESULTS", tmp_path / "results")
    assert reproduce.stale_reason(tiny_profile, "corrected") == "no results"
    with pytest.raises(StudyError, match="run: python -m alukit reproduce"):
        reproduce.load(tiny_profile, "corrected")
    assert fake_train.calls == 0
    reproduce.run(tiny_profile, "corrected", paper.CONFIG_NAMES, progress=False, n_boot=20)
    calls = fake_train.calls
    assert reproduce.stale_reason(tiny_profile, "corrected") is None
    assert list(reproduce.load(tiny_profile, "corrected").table2.index) == list(paper.CONFIG_NAMES)
    assert fake_train.calls == calls
    monkeypatch.setattr(reproduce, "_EVALUATION_VERSION", "other-code")
    assert reproduce.stale_reason(tiny_profile, "corrected") is not None
    reproduce.load(tiny_profile, "corrected")  # stale results still load
