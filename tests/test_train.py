"""alukit.training.train / alukit.training.config: API, validation, caching, CLI and interrupted runs."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from alukit.training import config as C
from alukit.training import engine, runs, sparsity
from alukit.training import train as T

REPO = Path(__file__).resolve().parent.parent
TINY = """profile: tiny
seed: 3
n_train: 2
n_val: 1
n_test: 1
n_steps: 126
dt: 10.0
models: 2
train_epoch_scale: 0.03
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    (root / "tiny.yaml").write_text(TINY)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALUKIT_CACHE", str(root / "cache"))
        mp.setenv("ALUKIT_COMPILE", "0")
        yield root



pytestmark = pytest.mark.usefixtures("one_thread")

# -- configurations ---------------------------------------------------------------------
def test_sixteen_names_in_table_order():
    assert C.CONFIG_NAMES == ("dense", "dense+swa", "l1", "l1+swa", "str", "str+l1", "str+swa", "str+l1+swa",
                              "mp", "mp+l1", "mp+swa", "mp+l1+swa", "dsr", "dsr+l1", "dsr+swa", "dsr+l1+swa")
    assert C.VARIANTS == ("faithful", "corrected")
    for name in C.CONFIG_NAMES:
        for variant in C.VARIANTS:
            cfg = C.make_config(name, variant)
            assert cfg.name == name and cfg.swa == name.endswith("swa") and (cfg.l1 > 0) == ("l1" in name)


def test_faithful_settings_from_the_spec():
    mp, dsr, st = (C.make_config(n) for n in ("mp", "dsr+swa", "str"))
    # their MP loop prunes at the end of 0-based epochs 10..40: after 1-based epochs 11..41
    assert mp.hidden == (64,) * 4 and mp.prune_epochs == (11, 21, 31, 41) and mp.freeze and mp.lr_from == 40
    assert dsr.hidden == (128,) * 4 and dsr.epochs == 200 and not dsr.bias and dsr.init_fan == "out"
    assert (dsr.dsr_np, dsr.dsr_delta, dsr.dsr_h0, dsr.dsr_every, dsr.lr_step, dsr.lr_from) == (150, 0.1, 1e-3, 25, 25, 101)
    assert st.s_init == -2 and not st.bias and C.make_config("l1").lr_step == 20
    corr = C.make_config("dsr", "corrected")
    assert corr.bias and corr.init_fan == "in" and not corr.freeze and corr.dsr_regrow == "zero"
    # faithful "+swa" rows have their own seeds; corrected twins are one run
    assert C.make_config("mp+swa").seed_group != C.make_config("mp").seed_group
    assert C.config_hash(C.make_config("mp", "corrected"), run=True) == C.config_hash(C.make_config("mp+swa", "corrected"), run=True)
    assert C.config_hash(C.make_config("mp")) != C.config_hash(C.make_config("mp+swa"))
    assert C.config_hash(C.make_config("mp")) == C.config_hash(C.make_config("mp"))


# (hidden, initial sparsity, Np, H0, weights frozen after the first reallocation, L1) per released DSR row
RELEASED_DSR = {
    "dsr": ((50,) * 4, 0.5, 250, 0.01, True, 0.0),  # frozen after 101 trained epochs (RELEASED_DSR_TRAINING)
    "dsr+l1": ((128,) * 4, 0.1, 150, 1e-3, True, 1e-4),
    "dsr+swa": ((128,) * 4, 0.1, 150, 1e-3, True, 0.0),
    "dsr+l1+swa": ((128,) * 4, 0.1, 150, 1e-3, True, 1e-4),
}
# final H of the released models (their saved attribute), for the rows that store it
RELEASED_FINAL_H = {"dsr": (0.02, 0.04), "dsr+l1": (0.002,)}


@pytest.mark.parametrize("name", list(RELEASED_DSR))
def test_faithful_dsr_rows_are_the_released_models(name):
    cfg = C.make_config(name)
    hidden, sparsity, n_p, h0, frozen, l1 = RELEASED_DSR[name]
    assert (cfg.hidden, cfg.dsr_sparsity, cfg.dsr_np, cfg.dsr_h0, cfg.freeze, cfg.l1) == (hidden, sparsity, n_p, h0, frozen, l1)
    assert cfg.dsr_delta == 0.1 and not cfg.bias
    if name == "dsr":  # trained 101 epochs, then three reallocations on frozen weights, N(0, H) regrowth
        assert cfg.dsr_epochs == (101, 126, 151) and cfg.dsr_regrow == "normal"
    else:  # their loop reallocates at the end of 0-based epochs 0, 25, 50, 75, 100
        assert cfg.dsr_epochs == (1, 26, 51, 76, 101) and cfg.dsr_regrow == "kaiming"
    # H doubles or halves at most once per reallocation: every released final H is H0 · 2^k, |k| <= 5
    for h in RELEASED_FINAL_H.get(name, ()):
        k = math.log2(h / cfg.dsr_h0)
        assert k == round(k) and abs(k) <= len(cfg.dsr_epochs)


@pytest.mark.parametrize("name", list(RELEASED_DSR))
def test_corrected_dsr_keeps_the_papers_design(name):
    cfg = C.make_config(name, "corrected")
    assert (cfg.hidden, cfg.dsr_sparsity, cfg.dsr_np, cfg.dsr_h0, cfg.lr_from) == ((128,) * 4, 0.5, 150, 1e-3, 100)
    assert cfg.dsr_epochs == tuple(range(25, 200, 25)) and cfg.swa_start == 150


def test_faithful_swa_averages_as_many_models_as_the_released_ones():
    # released swa_model_* n_averaged: 24 (their loops average after 0-based epoch > 75, DSR > 175), STR 25 (>= 75)
    counts = {"dense+swa": 24, "l1+swa": 24, "str+swa": 25, "str+l1+swa": 25, "mp+swa": 24, "mp+l1+swa": 24,
              "dsr+swa": 24, "dsr+l1+swa": 24}
    for name, n in counts.items():
        cfg = C.make_config(name)
        assert cfg.epochs - cfg.swa_start == n, name
    assert C.make_config("dense+swa").swa_start == 76 and C.make_config("dsr+swa").swa_start == 176
    assert all(C.make_config(name, "corrected").swa_fraction == 0.25 for name in counts)


def test_faithful_step_lr_matches_the_authors_scheduler_calls():
    from alukit.training import swa
    # DSR steps StepLR(25) only after 0-based epochs > 100: the first decay is felt in 0-based epoch 126
    d = C.make_config("dsr+swa")
    lrs = swa.step_lr(d.lr, d.epochs, d.lr_step, d.lr_gamma, d.lr_from)
    assert lrs[125] == pytest.approx(1e-3) and lrs[126] == pytest.approx(1e-4) and lrs[151] == pytest.approx(1e-5)
    # MP steps StepLR(10) after 0-based epochs >= 40; Dense every epoch; L1 with step 20
    m = C.make_config("mp")
    lrs = swa.step_lr(m.lr, m.epochs, m.lr_step, m.lr_gamma, m.lr_from)
    assert lrs[49] == pytest.approx(1e-3) and lrs[50] == pytest.approx(1e-4)
    for name, first_decay in (("dense", 10), ("l1", 20), ("str", 10)):
        c = C.make_config(name)
        lrs = swa.step_lr(c.lr, c.epochs, c.lr_step, c.lr_gamma, c.lr_from)
        assert lrs[first_decay - 1] == pytest.approx(1e-3) and lrs[first_decay] == pytest.approx(1e-4), name


def test_scaled_keeps_the_schedules_shape():
    for variant in C.VARIANTS:
        for name in ("dsr", "dsr+l1+swa", "mp", "dense+swa"):
            full = C.make_config(name, variant)
            quick = full.scaled(round(full.epochs * 0.2))
            assert len(quick.dsr_epochs) == len(full.dsr_epochs) and len(quick.prune_epochs) == len(full.prune_epochs)
            assert 0 <= quick.lr_from < quick.epochs and quick.swa_start < quick.epochs
    quick = C.make_config("dsr+swa").scaled(40)
    # reallocations scale with f = 0.2, the learning-rate schedule with √f (StepLR from min(39, round(101 · √0.2)))
    assert quick.dsr_epochs == (1, 6, 11, 16, 21) and quick.lr_from == 39 and quick.epochs - quick.swa_start == 5
    assert C.make_config("mp").scaled(20).prune_epochs == (5, 9, 14, 18)  # (11, 21, 31, 41) · √0.2
    assert C.make_config("mp").scaled(5).prune_epochs == (2, 3, 4, 5)  # four prunes kept, on distinct epochs
    assert C.make_config("dsr", "corrected").scaled(40).dsr_epochs == (5, 10, 15, 20, 25, 30, 35)


@pytest.mark.parametrize("kwargs,field", [
    (dict(name="densest"), "config name"),
    (dict(name="dsr", dsr_first=0), "dsr_first"),
    (dict(name="dsr", dsr_first=300), "dsr_first"),
    (dict(name="dsr", dsr_first=26, dsr_last=1), "dsr_last"),
    (dict(variant="improved"), "variant"),
    (dict(l1=-1e-4), "l1"),
    (dict(name="dsr", dsr_sparsity=1.0), "dsr_sparsity"),
    (dict(name="dsr", dsr_sparsity=-0.1), "dsr_sparsity"),
    (dict(name="mp", prune_epochs=(10, 120)), "prune_epochs"),
    (dict(name="mp", prune_amount=1.5), "prune_amount"),
    (dict(hidden=(25, 0)), "hidden"),
    (dict(lr=0), "lr"),
    (dict(batch_size=0), "batch_size"),
    (dict(swa_fraction=0), "swa_fraction"),
    (dict(learning_rate=1e-3), "unknown config field"),
])
def test_bad_configs_raise_naming_the_field(kwargs, field):
    kwargs = dict(kwargs)
    name, variant = kwargs.pop("name", "dense"), kwargs.pop("variant", "faithful")
    with pytest.raises(ValueError, match=field):
        C.make_config(name, variant, **kwargs)


def test_bad_arguments_raise_before_any_work(env, monkeypatch):
    import alukit.process.data

    def boom(*a, **k):
        raise AssertionError("data was made before validation")

    monkeypatch.setattr(alukit.process.data, "datasets", boom)
    monkeypatch.setattr(T, "fit", boom)
    profile = str(env / "tiny.yaml")
    for kwargs, field in [(dict(config="nope"), "config name"), (dict(config="mp", variant="x"), "variant"),
                          (dict(config="mp", models=0), "models"), (dict(config="mp", epochs=-3), "epochs"),
                          (dict(config="mp", profile="huge"), "profile")]:
        kwargs.setdefault("profile", profile)
        with pytest.raises(ValueError, match=field):
            T.train(progress=False, **kwargs)


# -- train(): results and cache ---------------------------------------------------------
def test_train_result_contract_and_cache(env):
    profile = str(env / "tiny.yaml")
    r = T.train("mp+l1+swa", "corrected", profile, epochs=8, progress=False)
    assert not r.cached and r.variant == "corrected" and r.config.name == "mp+l1+swa"
    e, epochs, n_layers = 2, r.config.epochs, 5
    assert isinstance(r.ensemble, torch.nn.Module) and not r.ensemble.training
    z = torch.randn(e, 7, 13)
    assert r.ensemble(z).shape == (e, 7, 8)
    assert r.log["loss"].shape == (e, epochs) and r.log["lr"].shape == (epochs,)
    assert r.log["layer_sparsity"].shape == (e, epochs, n_layers)
    assert r.log["str_threshold"].shape == (e, epochs, n_layers) and not r.log["str_threshold"].any()  # not STR
    assert r.extra == {"compiled": False, "workers": 1}
    assert r.sparsity.shape == (e,) and r.layer_sparsity.shape == (e, n_layers) and r.final_train_loss.shape == (e,)
    assert np.all(r.sparsity > 0.2)
    assert r.x_norm.mean.shape == (13,) and r.y_norm.std.shape == (8,)
    again = T.train("mp+l1+swa", "corrected", profile, epochs=8, progress=False)
    assert again.cached and again.seconds == r.seconds
    assert torch.equal(again.ensemble(z), r.ensemble(z))
    # the corrected twin comes from the same run: cached already, different model (final iterate)
    twin = T.train("mp+l1", "corrected", profile, epochs=8, progress=False)
    assert twin.cached and not torch.equal(twin.ensemble(z), r.ensemble(z))
    # a different epoch count is a different run
    other = T.train("mp+l1+swa", "corrected", profile, epochs=4, progress=False)
    assert not other.cached and other.config.epochs == 4


def test_final_train_loss_is_ensemble_mse(env):
    from alukit.process import data as D

    r = T.train("str", "faithful", str(env / "tiny.yaml"), progress=False)
    ds = D.datasets(2, 1, 1, 126, 3, 10.0)
    f, t = D.derivative_pairs(ds.train, 10.0)
    z = torch.as_tensor(r.x_norm.transform(f), dtype=torch.float32)
    y = torch.as_tensor(r.y_norm.transform(t), dtype=torch.float32)
    with torch.no_grad():
        mse = ((r.ensemble(z) - y) ** 2).mean((1, 2)).numpy()
    np.testing.assert_allclose(r.final_train_loss, mse, rtol=1e-4)


def test_cli_json(env):
    out = subprocess.run([sys.executable, "-m", "alukit", "train", "dense", "--profile", str(env / "tiny.yaml"),
                          "--models", "2", "--epochs", "2", "--json", "--no-progress"],
                         capture_output=True, text=True, cwd=REPO, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) == {"config", "variant", "models", "epochs", "sparsity", "layer_sparsity",
                        "final_train_loss", "seconds", "cached"}
    assert obj["config"] == "dense" and obj["models"] == 2 and obj["epochs"] == 2 and len(obj["sparsity"]) == 2
    bad = subprocess.run([sys.executable, "-m", "alukit", "train", "dense", "--variant", "nope"],
                         capture_output=True, text=True, cwd=REPO, env=os.environ.copy(), timeout=60)
    assert bad.returncode == 2 and "variant" in bad.stderr


def _finished(env):
    folder = env / "cache" / "train"
    return sorted(p.name for p in folder.glob("train-*") if not p.name.startswith(".")) if folder.exists() else []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_leaves_nothing_finished_and_reruns(env, sig):
    before = set(_finished(env))
    cmd = [sys.executable, "-m", "alukit", "train", "l1", "--profile", str(env / "tiny.yaml"),
           "--epochs", "1000" if sig == signal.SIGKILL else "1001", "--json"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    buf, t0 = "", time.time()
    while "/1000" not in buf and "/1001" not in buf:  # the progress bar is up: training has started
        buf += proc.stderr.read(1)
        assert time.time() - t0 < 60 and proc.poll() is None, buf
    time.sleep(0.3)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert set(_finished(env)) == before  # nothing that looks like a finished run
    done = subprocess.run(cmd, cwd=REPO, env=os.environ.copy(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["cached"] is False
    assert len(set(_finished(env)) - before) == 2  # .pt and .npz


def test_interrupted_save_leaves_no_entry(env, monkeypatch):
    calls = []

    def failing_save(*a, **k):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.cache, "save_npz", failing_save)
    before = set(_finished(env))
    with pytest.raises(KeyboardInterrupt):
        T.train("dense+swa", "faithful", str(env / "tiny.yaml"), progress=False)
    assert calls
    new = set(_finished(env)) - before
    assert all(n.endswith(".pt") for n in new)  # weights may be there; the .npz marking a finished run is not
    monkeypatch.undo()
    monkeypatch.setenv("ALUKIT_CACHE", str(env / "cache"))
    monkeypatch.setenv("ALUKIT_COMPILE", "0")
    r = T.train("dense+swa", "faithful", str(env / "tiny.yaml"), progress=False)
    assert not r.cached


def test_train_all_quick_shape(env):
    res = T.train_all(str(env / "tiny.yaml"), "faithful", workers=1, progress=False,
                      names=("dense", "dsr+swa"))
    assert list(res) == ["dense", "dsr+swa"]
    assert res["dsr+swa"].config.method == "dsr"
    assert res["dsr+swa"].config.dsr_sparsity == 0.1  # as released
    assert abs(float(res["dsr+swa"].sparsity.mean()) - 0.1) < 0.05


def test_train_many_trains_each_run_once_as_given(env, tmp_path, monkeypatch):
    """Jobs keep their config's epochs and the profile's first train_trajectories; one run key trains once."""
    import dataclasses

    from alukit import profiles
    from alukit.process import data

    monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / "cache"))
    prof = profiles.load(env / "tiny.yaml")  # train_epoch_scale 0.03: not applied to a job's config
    first = dataclasses.replace(prof, train_trajectories=1)
    cfg = C.make_config("l1", "corrected", epochs=3)
    jobs = [(cfg, first, 2), (cfg, prof, 2), (cfg, first, 2), (C.make_config("l1+swa", "corrected", epochs=3), first, 2)]
    got = T.train_many(jobs, workers=1, progress=False)
    assert [r.epochs for r in got] == [3] * 4 and got[0].log["loss"].shape == (2, 3)
    assert not any(r.cached for r in got)  # all trained by this call
    assert got[0].key == got[2].key == got[3].key != got[1].key  # the SWA twin shares the run
    assert len(list((tmp_path / "cache" / "train").glob("*.npz"))) == 2
    pool = data.datasets(2, 1, 1, 126, 3, 10.0).train
    np.testing.assert_array_equal(got[0].x_norm.mean, pool[:1].reshape(-1, 13).mean(0))
    np.testing.assert_array_equal(got[1].x_norm.mean, pool.reshape(-1, 13).mean(0))
    again = T.train_many(jobs[:2], progress=False)
    assert all(r.cached for r in again) and [r.key for r in again] == [r.key for r in got[:2]]
    assert torch.equal(again[0].ensemble.weights()[0], got[0].ensemble.weights()[0])
    with pytest.raises(ValueError, match="a job's config must be a Config"):
        T.train_many([("l1", prof, 2)])
    with pytest.raises(ValueError, match="a job must be a"):
        T.train_many([(cfg, prof)])
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        T.train_many(jobs, workers=0)


def test_compiled_and_eager_runs_are_cached_apart(monkeypatch):
    """torch.compile rounds differently from eager: the run key says which engine trained."""
    cfg, _, n = T.resolve("dense", "faithful", "paper")
    assert runs.run_key(cfg, n, 0, "d", True, "v") != runs.run_key(cfg, n, 0, "d", False, "v")
    monkeypatch.setenv("ALUKIT_COMPILE", "0")
    assert not engine.want_compile(None, 3999 * cfg.epochs, torch.device("cpu"))
    monkeypatch.setenv("ALUKIT_COMPILE", "1")
    assert engine.want_compile(None, 3999 * cfg.epochs, torch.device("cpu"))
    assert not engine.want_compile(False, 3999 * cfg.epochs, torch.device("cpu"))  # an explicit argument wins


def test_the_automatic_engine_is_the_committed_results_and_eager_for_the_quick_profile(monkeypatch):
    """Auto: ≥ 20 000 mini-batches and ≥ 200 000 member-steps compile (where a compiler is). Each committed
    paper-profile run gets the engine its results record (the study's runs and probes compiled; the sparse-DNN
    experiment's per run); no quick-profile run compiles."""
    from alukit import paths, profiles
    from alukit.studies import reproduce, sparse_dnn

    monkeypatch.delenv("ALUKIT_COMPILE", raising=False)
    monkeypatch.setattr(engine.shutil, "which", lambda name: "/usr/bin/" + name)
    cpu = torch.device("cpu")
    assert engine.want_compile(None, 20_000, cpu, 10) and not engine.want_compile(None, 19_999, cpu, 100)
    assert not engine.want_compile(None, 40_000, cpu, 4)  # 160 000 member-steps

    def pairs(prof):  # training pairs: n_steps − 1 per trajectory
        return (prof.train_trajectories or prof.n_train) * (prof.n_steps - 1)

    for name in ("paper", "quick"):
        prof = profiles.load(name)
        engines = {}
        for variant in reproduce.VARIANTS:
            for run, (cfg, p, members) in reproduce.training_jobs(prof, variant).items():
                engines[f"{variant}/{run}"] = T._compiled(cfg, pairs(p), members, None)
        for (kind, size), (cfg, p, members) in sparse_dnn.training_jobs(sparse_dnn.setup(prof)).items():
            engines[f"sparse-dnn/{kind}/{size}"] = T._compiled(cfg, pairs(p), members, None)
        if name == "quick":
            assert not any(engines.values()), [k for k, v in engines.items() if v]
            continue
        for variant in reproduce.VARIANTS:
            recorded = json.loads((paths.RESULTS / f"paper-{variant}" / "provenance.json").read_text())
            assert recorded["training_engine"] == ["compiled"]
            assert all(v for k, v in engines.items() if k.startswith(variant + "/")), variant
        recorded = json.loads((paths.RESULTS / "paper-sparse-dnn" / "provenance.json").read_text())["compiled"]
        assert {f"sparse-dnn/{k}": v for k, v in recorded.items()} == {k: v for k, v in engines.items()
                                                                     if k.startswith("sparse-dnn/")}
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    assert not engine.want_compile(None, 50_000, cpu, 10)  # no C++ compiler


def test_flush_denormals_flushes_inside_and_restores_after():
    tiny = torch.tensor([1e-40])  # subnormal in float32
    with engine.flush_denormals():
        inside = float(tiny * 1.0)
    assert float(tiny * 1.0) != 0.0  # the default (no flushing) is back
    if torch.set_flush_denormal(False):  # this CPU supports flushing (x86 with SSE3)
        assert inside == 0.0


def test_str_threshold_log_is_sigmoid_of_s(env):
    r = T.train("str", "faithful", str(env / "tiny.yaml"), epochs=3, progress=False)
    thr = r.log["str_threshold"]
    assert thr.shape == (2, 3, 5) and thr.dtype == np.float64
    last = np.stack([sparsity.str_threshold(lay).reshape(-1).double().numpy() for lay in r.ensemble.layers], 1)
    np.testing.assert_allclose(thr[:, -1], last, rtol=1e-6)
    assert np.all((thr > 0) & (thr < 1)) and not np.allclose(thr[:, 0], thr[:, -1])


@pytest.mark.slow
def test_two_worker_pool_gives_the_runs_of_one_process(tmp_path, monkeypatch):
    profile = tmp_path / "tiny.yaml"
    profile.write_text(TINY)
    monkeypatch.setenv("ALUKIT_COMPILE", "0")
    runs_by = {}
    for workers in (1, 2):
        monkeypatch.setenv("ALUKIT_CACHE", str(tmp_path / f"cache{workers}"))
        res = T.train_all(profile, "corrected", workers=workers, progress=False, names=("l1", "dsr", "str+swa"))
        runs_by[workers] = res
        assert all(r.extra["workers"] == workers for r in res.values())
    z = torch.randn(2, 9, 13)
    for name, one in runs_by[1].items():
        two = runs_by[2][name]
        assert two.key == one.key and torch.equal(two.ensemble(z), one.ensemble(z))
        for k in one.log:
            np.testing.assert_array_equal(two.log[k], one.log[k])


@pytest.mark.slow
def test_compiled_kernel_trains_like_the_eager_one(env):
    """torch.compile fuses and reorders float operations: the same run to rounding, cached apart."""
    profile = str(env / "tiny.yaml")
    eager = T.train("str+l1", "corrected", profile, epochs=2, progress=False, compile=False)
    compiled = T.train("str+l1", "corrected", profile, epochs=2, progress=False, compile=True)
    assert compiled.extra["compiled"] and not eager.extra["compiled"] and compiled.key != eager.key
    z = torch.randn(2, 50, 13)
    torch.testing.assert_close(compiled.ensemble(z), eager.ensemble(z), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(compiled.log["loss"], eager.log["loss"], rtol=1e-4)
    np.testing.assert_array_equal(compiled.x_norm.mean, eager.x_norm.mean)


def test_a_damaged_cached_run_is_trained_again_with_a_warning_naming_it(tmp_cache, tmp_path):
    from alukit import cache

    path = tmp_path / "tiny.yaml"
    path.write_text("profile: tiny\nseed: 0\nn_train: 1\nn_val: 1\nn_test: 1\nn_steps: 200\ndt: 10.0\nmodels: 2\n"
                    "train_epoch_scale: 0.02\n")
    first = T.train("dense", "faithful", path, progress=False, compile=False)
    pt, npz = runs.paths(first.key)
    for damaged, content in ((npz, b"not a zip"), (pt, pt.read_bytes()[:40])):
        damaged.write_bytes(content)
        with pytest.warns(cache.CacheWarning, match=f"damaged cache entry {damaged}"):
            again = T.train("dense", "faithful", path, progress=False, compile=False)
        assert not again.cached
        for a, b in zip(first.ensemble.parameters(), again.ensemble.parameters()):
            assert torch.equal(a, b)
    np.savez(tmp_path / "obj.npz", x=np.array([object()], dtype=object))  # a pickled object array
    with pytest.raises(cache.DamagedFile, match="obj.npz: damaged or not an array file .it holds objects") as err:
        cache.load_npz(tmp_path / "obj.npz")
    assert "allow_pickle" not in str(err.value)
