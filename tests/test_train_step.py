"""The lean eager step is bit-identical to the per-layer reference step; the step bench runs."""
import numpy as np
import pytest
import torch

from alukit.training import config as C
from alukit.training import engine as T

pytestmark = pytest.mark.usefixtures("one_thread")

N = 430  # 9 mini-batches of 50, the last one short
CASES = [(name, variant) for name in C.CONFIG_NAMES for variant in C.VARIANTS]


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((N, 13)).astype(np.float32)
    y = (np.tanh(z[:, :8] * z[:, 5:13]) + 0.1 * z[:, :8]).astype(np.float32)
    return z, y


def _config(name, variant, **kw):
    """``name`` shortened to 6 epochs: MP prunes after epochs 2 and 4, DSR reallocates after epochs 2 and 4."""
    kw.setdefault("hidden", (12, 10))
    method = C.make_config(name, variant).method
    kw.update({"mp": dict(prune_epochs=(2, 4)), "dsr": dict(dsr_every=2, dsr_first=2, dsr_np=20)}.get(method, {}))
    return C.make_config(name, variant, epochs=6, lr_step=2, lr_from=0, lr_gamma=0.5, swa_fraction=0.5,
                         swa_anneal_epochs=1, swa_lr=5e-4, **kw)


def _assert_identical(new: dict, old: dict) -> None:
    """Every tensor and log of two :func:`alukit.engine.fit` outputs equal (``torch.equal``)."""
    for which in ("final", "swa"):
        assert new[which].keys() == old[which].keys()
        for k in old[which]:
            assert torch.equal(new[which][k], old[which][k]), f"{which} {k}"
    assert len(new["masks"]) == len(old["masks"])
    assert all(torch.equal(a, b) for a, b in zip(new["masks"], old["masks"]))
    for k in ("loss", "layer_sparsity", "dsr_h", "str_threshold"):
        np.testing.assert_array_equal(new[k], old[k], err_msg=k)


def _both(cfg, pairs, n_models=3):
    seeds = T.member_seeds(0, cfg.name, n_models)
    kw = dict(progress=False, compile=False, device="cpu")
    return T.fit(cfg, *pairs, seeds, lean=True, **kw), T.fit(cfg, *pairs, seeds, lean=False, **kw)


@pytest.mark.parametrize("name,variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_lean_step_is_bit_identical(pairs, name, variant):
    """All 32 configurations, 6 epochs: the lean eager step gives the reference step's bits."""
    new, old = _both(_config(name, variant), pairs)
    _assert_identical(new, old)
    assert not new["compiled"] and not old["compiled"]


@pytest.mark.parametrize("name,variant,kw", [
    ("dsr+l1", "corrected", dict(hidden=(25, 25, 25, 25))),
    ("mp+l1+swa", "corrected", dict(hidden=(33, 17, 40, 9))),
    ("str+l1", "faithful", dict(hidden=(25, 25, 25, 25))),
    ("l1", "faithful", dict(l1_input=0.0, l1=3e-4)),
    ("l1", "corrected", dict(l1_input=1e-3, l1=0.0)),
])
def test_lean_step_is_bit_identical_wider_and_per_layer_l1(pairs, name, variant, kw):
    """Four hidden layers, odd widths, and an input layer's L1 factor differing from the others'."""
    new, old = _both(_config(name, variant, **kw), pairs, n_models=2)
    _assert_identical(new, old)


@pytest.mark.parametrize("eps", [1e-8, 3e-7, 1e-6])
@pytest.mark.parametrize("b2", [0.999, 0.99])
def test_v_floor_leaves_adams_denominator_unchanged(eps, b2):
    """``eps + √max(v, floor)/bc2s == eps + √v/bc2s`` for every ``v`` up to the floor, at every Adam step's
    ``bc2s``; at 16× the floor (``√v/bc2s`` one ulp of ``eps``) the two differ, so the floor is tight."""
    q = T._v_floor_factor(eps)
    for t in (1, 2, 10, 100, 1000, 10_000):
        bc2s = torch.tensor((1 - b2**t) ** 0.5)
        floor = torch.mul(bc2s, q).square_()
        v = torch.cat([torch.tensor([0.0, 1e-45, 1e-40, 1e-38]), floor * torch.linspace(0, 1, 1001)])
        den = torch.clamp_min(v, floor).sqrt_().div_(bc2s).add_(eps)
        assert torch.equal(den, v.sqrt() / bc2s + eps), (t, bc2s)
        assert float((16 * floor).sqrt() / bc2s + eps) != float(torch.tensor(eps)), (t, bc2s)


def test_train_step_bench_quick_runs(capsys):
    """``python -m alukit bench train_step --quick --json``: every implementation, both shapes, a JSON object."""
    import json
    import runpy

    from alukit.book.bench import BENCH_DIR

    module = runpy.run_path(str(BENCH_DIR / "train_step.py"), run_name="alukit_bench")
    assert module["main"](["--quick", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(r["width"], r["masked"], r["models"]) for r in result["rows"]] == [(25, False, 10), (25, True, 10)]
    for row in result["rows"]:
        assert set(row["impls"]) == {"old", "lean", "fused_adam", "autograd", "gemm"}
        for v in row["impls"].values():
            assert v["us_per_member_step"] > 0 and v["gflops"] > 0 and 0 < v["aten_ops_top_level"] <= v["aten_ops"]
        assert row["impls"]["lean"]["aten_ops"] < row["impls"]["old"]["aten_ops"]
    assert result["ratio"] > 0 and result["machine"]["torch_threads"] == 1


@pytest.mark.parametrize("n_models", [3, 5])
def test_the_lean_step_is_bit_identical_for_odd_ensembles(one_thread, n_models):
    """Layers of an odd number of members end off a 16-byte boundary in one flat buffer; BLAS rounds by
    address alignment, so each layer's view is aligned as a tensor of its own would be (found by
    verify-equivalence on the 3-member dsr-frozen probe)."""
    cfg = C.make_config("dsr", "faithful", freeze=True).scaled(2)
    gen = torch.Generator().manual_seed(0)
    z, y = torch.randn(4000, 13, generator=gen).numpy(), torch.randn(4000, 8, generator=gen).numpy()
    seeds = T.member_seeds(0, cfg.seed_group, n_models)
    ref, lean = (T.fit(cfg, z, y, seeds, progress=False, compile=False, lean=flag) for flag in (False, True))
    assert all(torch.equal(ref["final"][k], lean["final"][k]) for k in ref["final"])
