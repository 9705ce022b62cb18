"""The released-model loader: restricted unpickling (with malicious pickles), rebuilt networks, CLI, end to end.

Every pickle here is built by the test itself: small networks of classes registered
under the authors' module names (written from the facts in :mod:`alukit.studies.published`'s
docstring), their ``AveragedModel`` state dicts, and pickles that try to run code.
"""
import builtins
import collections
import os
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from alukit import __main__ as cli
from alukit.evaluation import fingerprints
from alukit.studies import paper, published, reproduce
from alukit.studies.study import StudyError

WIDTH = 6  # hidden units of the test networks (two hidden layers)


# ---------------------------------------------------------------- the authors' classes, as test doubles

class DenseNet(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


class SoftThresholdLayer(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out))
        self.s = nn.Parameter(torch.full((1, 1), -1.0))

    def forward(self, x):
        w = self.weight
        return x @ (torch.sign(w) * torch.relu(w.abs() - torch.sigmoid(self.s)))


class DSRLayer(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * (torch.rand(n_in, n_out) < 0.5))

    def forward(self, x):
        return x @ self.weight


class _Stacked(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList(self.LAYER(a, b) for a, b in zip(dims[:-1], dims[1:]))

    forward = DenseNet.forward


class SoftThresholdNet(_Stacked):
    LAYER = SoftThresholdLayer


class DSRNet(_Stacked):
    LAYER = DSRLayer

    def __init__(self, dims):
        super().__init__(dims)
        self.H, self.Np, self.sparsity = 0.002, 150, 0.5


_AUTHORS = {  # class → (authors' module, class name)
    DenseNet: ("dense_net.DenseNet", "DenseNet"),
    SoftThresholdNet: ("soft_thresholding.SoftThresholdNet", "SoftThresholdNet"),
    SoftThresholdLayer: ("soft_thresholding.SoftThresholdNet", "SoftThresholdLayer"),
    DSRNet: ("dynamic_sparse_reparameterization.DynamicSparseReparameterizationNet",
             "DynamicSparseReparameterizationNet"),
    DSRLayer: ("dynamic_sparse_reparameterization.DynamicSparseReparameterizationNet",
               "DynamicSparseReparameterizationLayer"),
}
NET = {"linear": DenseNet, "str": SoftThresholdNet, "dsr": DSRNet}


@pytest.fixture(scope="module", autouse=True)
def authors_modules():
    """Register the doubles under the authors' module paths, so that pickles name them as the released files do."""
    saved, added = {}, set()
    for cls, (module, name) in _AUTHORS.items():
        saved[cls] = (cls.__module__, cls.__qualname__)
        package = module.split(".")[0]
        for m in (package, module):
            if m not in sys.modules:
                sys.modules[m] = types.ModuleType(m)
                added.add(m)
        setattr(sys.modules[package], module.split(".")[1], sys.modules[module])
        setattr(sys.modules[module], name, cls)
        cls.__module__, cls.__qualname__ = module, name
    yield
    for cls, (module, qualname) in saved.items():
        cls.__module__, cls.__qualname__ = module, qualname
    for m in added:
        del sys.modules[m]


def _net(kind, seed):
    torch.manual_seed(seed)
    return NET[kind]((13, WIDTH, WIDTH, 8)).eval()


def _save(obj, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)


def _checkout(root: Path, configs=tuple(published.FILES)) -> dict:
    """A fake checkout with N_MODELS files for each configuration; returns the networks saved."""
    nets = {}
    for c in configs:
        folder, stem, kind = published.FILES[c]
        nets[c] = []
        for n in range(1, published.N_MODELS + 1):
            net = _net(kind, 100 * paper.CONFIG_NAMES.index(c) + n)
            if stem == "swa_model":
                avg = torch.optim.swa_utils.AveragedModel(net)
                avg.update_parameters(net)  # the average of one model: the model
                _save(avg.state_dict(), root / published.MODELS_DIR / folder / f"{stem}_{n}.pickle")
            else:
                _save(net, root / published.MODELS_DIR / folder / f"{stem}_{n}.pickle")
            nets[c].append(net)
    return nets


# ---------------------------------------------------------------- restricted unpickling

def test_benign_module_becomes_a_stand_in(tmp_path):
    net = _net("linear", 0)
    _save(net, tmp_path / "model.pickle")
    obj = published.load_pickle(tmp_path / "model.pickle")
    assert isinstance(obj, published.StandIn) and obj.source == "dense_net.DenseNet.DenseNet"
    assert not isinstance(obj, nn.Module)
    layers = obj._modules["layers"]
    assert layers.source == "torch.nn.modules.container.ModuleList"
    first = layers._modules["0"]
    assert first.source == "torch.nn.modules.linear.Linear"
    torch.testing.assert_close(first._parameters["weight"], net.layers[0].weight)


def test_state_dict_loads_as_tensors(tmp_path):
    state = collections.OrderedDict(n_averaged=torch.tensor(24), w=torch.arange(6.0).reshape(2, 3))
    _save(state, tmp_path / "swa.pickle")
    got = published.load_pickle(tmp_path / "swa.pickle")
    assert isinstance(got, collections.OrderedDict) and list(got) == ["n_averaged", "w"]
    torch.testing.assert_close(got["w"], state["w"])
    (tmp_path / "raw.pickle").write_bytes(pickle.dumps(collections.OrderedDict(a=1, b={2, 3}), protocol=2))
    assert published.load_pickle(tmp_path / "raw.pickle") == collections.OrderedDict(a=1, b={2, 3})


class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Eval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return builtins.eval, (f"open({str(self.marker)!r}, 'w').write('ran')",)


def test_malicious_raw_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pickle").write_bytes(pickle.dumps(_System(marker)))
    with pytest.raises(published.RefusedGlobal, match=r"refused to unpickle global (posix|os|nt)\.system"):
        published.load_pickle(tmp_path / "evil.pickle")
    assert not marker.exists()


def test_malicious_torch_archive_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    _save({"weight": torch.zeros(2), "payload": _Eval(marker)}, tmp_path / "model_1.pickle")
    refused = r"model_1\.pickle: refused to unpickle global (__builtin__|builtins)\.eval"
    with pytest.raises(published.RefusedGlobal, match=refused):
        published.load_pickle(tmp_path / "model_1.pickle")
    assert not marker.exists()
    # a module of an allowed class that carries a payload is refused as well
    net = _net("linear", 1)
    net.payload = _System(marker)
    _save(net, tmp_path / "model_2.pickle")
    with pytest.raises(published.RefusedGlobal, match=r"\.system"):
        published.load_pickle(tmp_path / "model_2.pickle")
    assert not marker.exists()


def test_only_the_allowed_globals_resolve():
    unpickler = published.RestrictedUnpickler(__import__("io").BytesIO(b""))
    assert unpickler.find_class("collections", "OrderedDict") is collections.OrderedDict
    for module, name in (("torch.serialization", "load"), ("builtins", "getattr"), ("torch._utils", "_rebuild_tensor"),
                         ("dense_net.DenseNet", "os"), ("collections", "OrderedDict.fromkeys")):
        with pytest.raises(published.RefusedGlobal, match=f"{module}.{name}"):
            unpickler.find_class(module, name)


# ---------------------------------------------------------------- networks and the study

@pytest.mark.parametrize("config", ["dense", "str+l1", "dsr", "mp+swa", "str+swa", "dsr+l1+swa"])
def test_rebuilt_ensemble_computes_what_the_released_network_computes(tmp_path, config):
    saved = _checkout(tmp_path, (config,))[config]
    models = published.released(tmp_path, config)
    z = torch.randn(published.N_MODELS, 7, 13)
    with torch.no_grad():
        expected = torch.stack([net(z[e]) for e, net in enumerate(saved)])
        torch.testing.assert_close(models.ensemble(z), expected)
    kind = published.FILES[config][2]
    assert models.facts["kind"] == kind and models.facts["dims"] == [13, WIDTH, WIDTH, 8]
    assert models.facts["bias"] == (kind == "linear")
    if config.endswith("swa"):
        assert models.facts["n_averaged"] == [1]
    if config == "dsr":
        assert models.facts["H"] == [0.002] and models.facts["Np"] == [150]
    weights = [lay.weight.detach() for lay in models.ensemble.layers]  # (E, a, b) each
    zeros = [sum(int((w[e] == 0).sum()) for w in weights) / sum(w[e].numel() for w in weights)
             for e in range(published.N_MODELS)]
    np.testing.assert_allclose(models.sparsity, zeros)
    assert len(models.files) == published.N_MODELS and all(len(d) == 64 for d in models.files.values())


def test_layers_that_do_not_chain_are_refused(tmp_path):
    _save(DenseNet((13, 5, 8)), tmp_path / published.MODELS_DIR / "dense_net" / "model_1.pickle")
    # a linear network read as a DSR one: (out, in) weights do not chain 13 → 8
    path = tmp_path / published.MODELS_DIR / "DSR/0.5" / "model_1.pickle"
    _save(DenseNet((13, 5, 8)), path)
    with pytest.raises(ValueError, match="do not chain 13 features to 8 derivatives"):
        published.released(tmp_path, "dsr")


def test_study_on_a_fake_checkout(tmp_cache, tmp_path):
    profile = tmp_path / "tiny.yaml"
    profile.write_text("profile: tiny\nseed: 0\nn_train: 1\nn_val: 1\nn_test: 2\nn_steps: 300\ndt: 10.0\nmodels: 2\n"
                       "horizons: [100, 300]\n")
    _checkout(tmp_path / "authors")
    out = published.run(tmp_path / "authors", profile, tmp_path / "out", progress=False, n_boot=20)
    res = published.load(profile, out)
    assert list(res.table2.index) == list(paper.CONFIG_NAMES) and res.horizons == (100, 300)
    assert res.errors["dense"].shape == (2, published.N_MODELS, 2, 8)
    prov = res.provenance
    assert prov["variant"] == "published" and prov["authors_repository"] == "emilhaugstvedt/sparsity"
    assert prov["authors_commit"].startswith("unknown") and set(prov["seconds"]) == set(published.STAGES)
    assert prov["models"]["dsr"]["Np"] == [150] and len(prov["files"]["l1"]) == published.N_MODELS
    assert res.table4.loc["dense", "sparsity"] == 0 and res.table4.loc["dsr", "sparsity"] > 20
    counts = paper.agreement_counts(res.stats, res.table2, tol=0)
    assert counts["entries"] == counts["within"] == 32
    with pytest.raises(StudyError, match="python -m alukit published PATH"):
        published.load(profile, tmp_path / "nowhere")


def test_cli_refuses_a_bad_path(tmp_path, capsys):
    assert cli.main(["published", str(tmp_path / "missing")]) == 2
    assert "PATH must be a local checkout of emilhaugstvedt/sparsity" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main(["published", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "lacks 16 of them, e.g. models/alu/dense_net/model_1.pickle" in err
    with pytest.raises(ValueError, match="config must be one of dense"):
        published.released(tmp_path, "lasso")


def test_committed_published_results_cover_every_configuration():
    assert published.stale_reason("paper") is None
    res = published.load("paper")
    assert list(res.table2.index) == list(paper.CONFIG_NAMES) and res.horizons == paper.HORIZONS
    prov = res.provenance
    assert len(prov["authors_commit"]) == 40 and prov["conventions"] == "faithful"
    assert prov["models"]["dsr"]["dims"] == [13, 50, 50, 50, 50, 8] and prov["models"]["dsr+l1"]["Np"] == [150]
    assert all(len(files) == published.N_MODELS for files in prov["files"].values())
    for c in ("dsr", "dsr+l1", "dsr+swa", "dsr+l1+swa"):  # the weight fingerprints chapter 6 reads, per model
        prints = prov["models"][c]["fingerprints"]
        assert set(prints) >= set(fingerprints.FINGERPRINTS) - {"non-zeros below H [%]"}
        assert all(len(v) == published.N_MODELS for v in prints.values())
    assert len(prov["models"]["dsr"]["H_by_model"]) == published.N_MODELS
    assert not prov["git_commit"].endswith("-dirty"), "results/paper-published/ must be run at a clean commit"


def _results(values: dict, halfwidth: float, zeros: dict, dims=None):
    """A reproduce.Results with Table 2 ``values`` (config → % at 100 samples), ± ``halfwidth`` intervals."""
    table2 = pd.DataFrame({100: values}).rename_axis("config")
    stats = pd.DataFrame([{"config": c, "horizon": 100, "statistic": "divergence", "estimate": v,
                           "low": v - halfwidth, "high": v + halfwidth} for c, v in values.items()])
    table4 = pd.DataFrame({"sparsity": zeros})
    prov = {"variant": "faithful", "models": {c: {"dims": d} for c, d in (dims or {}).items()}}
    return reproduce.Results(table2, None, table4, stats, None, None, {}, (100,), prov, {}, {}, {}, {})


def test_gaps_explain_every_difference_over_five_points():
    dims = {c: [13, 25, 25, 8] for c in ("dense", "l1", "str", "mp")} | {"dsr": [13, 50, 50, 8]}
    released_res = _results({"dense": 10, "l1": 10, "str": 10, "mp": 10, "dsr": 10}, 3,
                            {"dense": 0, "l1": 0, "str": 56, "mp": 33, "dsr": 50}, dims)
    ours = _results({"dense": 12, "l1": 16, "str": 30, "mp": 30, "dsr": 30}, 20,
                    {"dense": 0, "l1": 0, "str": 40, "mp": 33, "dsr": 50})
    ours_dims = dims | {"dsr": [13, 128, 128, 8], "mp": [13, 25, 25, 8]}
    ours.stats.loc[ours.stats.config.isin(["str", "mp", "dsr"]), ["low", "high"]] = [[25, 35]] * 3
    g = published.gaps(released_res, ours, ours_dims)
    assert list(g.index.get_level_values(0)) == ["l1", "str", "mp", "dsr"]  # dense differs by 2 points only
    assert g.loc[("l1", 100), "reason"] == "the released models' value is inside our interval"
    assert g.loc[("str", 100), "reason"].startswith("different networks: released 2×25, 56 % zeros; ours 2×25, 40 %")
    assert g.loc[("mp", 100), "reason"].startswith("training: the same network (2×25, 33 % zeros)")
    assert g.loc[("dsr", 100), "reason"] == "different networks: released 2×50, 50 % zeros; ours 2×128, 50 % zeros"
    assert g.loc[("dsr", 100), "difference"] == 20 and not g.ours_inside.any()
    ours.stats.loc[ours.stats.config == "l1", ["estimate", "low", "high"]] = [16, 14, 18]
    released_res.stats.loc[released_res.stats.config == "l1", "high"] = 17
    assert published.gaps(released_res, ours, ours_dims).loc[("l1", 100), "reason"] == \
        "ours is inside the released models' interval"


def test_oversized_or_damaged_model_files_are_refused_by_name(tmp_path, monkeypatch):
    big = tmp_path / "big.pickle"
    torch.save({"w": torch.zeros(16)}, big)
    monkeypatch.setattr(published, "MAX_FILE_BYTES", 100)
    with pytest.raises(pickle.UnpicklingError, match="big.pickle: holds .* bytes in one piece"):
        published.load_pickle(big)
    monkeypatch.undo()
    broken = tmp_path / "broken.pickle"
    broken.write_bytes(big.read_bytes()[: len(big.read_bytes()) // 2])
    with pytest.raises(pickle.UnpicklingError, match="broken.pickle: not a readable model file"):
        published.load_pickle(broken)
    garbage = tmp_path / "garbage.pickle"
    garbage.write_bytes(b"\x80\x04garbage")
    with pytest.raises(pickle.UnpicklingError, match="garbage.pickle"):
        published.load_pickle(garbage)
