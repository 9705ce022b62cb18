"""alukit.train.fit: the batched hot path is exact, and every method behaves as specified."""
import copy
import dataclasses

import numpy as np
import pytest
import torch

from alukit import config as C
from alukit import nets, sparsity, swa
from alukit import engine as T

N = 400  # 8 mini-batches of 50


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((N, 13))
    y = np.tanh(z[:, :8] * z[:, 5:13]) + 0.1 * z[:, :8]
    return z, y


def small(name, variant, **kw):
    kw.setdefault("hidden", (12, 10))
    if "epochs" in kw:
        kw.setdefault("lr_from", 0)
        kw.setdefault("lr_step", 2)
    cfg = C.make_config(name, variant, **kw)
    return cfg


def run(cfg, pairs, seeds, **kw):
    return T.fit(cfg, *pairs, seeds, progress=False, compile=False, device="cpu", **kw)



pytestmark = pytest.mark.usefixtures("one_thread")

# -- exactness --------------------------------------------------------------------------
@pytest.mark.parametrize("name,variant", [("l1", "faithful"), ("str+l1", "corrected"), ("mp", "corrected"),
                                          ("dsr+l1", "corrected"), ("mp+swa", "faithful")])
def test_ensemble_equals_members_trained_alone(pairs, name, variant):
    cfg = small(name, variant).scaled(4)
    seeds = T.member_seeds(0, cfg.seed_group, 3)
    together = run(cfg, pairs, seeds)
    for e, seed in enumerate(seeds):
        alone = run(cfg, pairs, [seed])
        for which in ("final", "swa"):
            for k, v in alone[which].items():
                torch.testing.assert_close(together[which][k][e:e + 1], v, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(together["loss"][e], alone["loss"][0], rtol=1e-4)
    # and the members really differ from one another
    assert not torch.allclose(together["final"]["W0"][0], together["final"]["W0"][1])


@pytest.mark.parametrize("name,variant", [("l1", "faithful"), ("str+l1", "faithful"), ("str", "corrected"),
                                          ("mp+l1", "corrected"), ("dsr", "corrected")])
def test_step_matches_autograd_through_parametrize_and_prune(name, variant):
    """One step with eps ≫ √v makes Adam's update linear in the gradient: Δp = −lr·g / eps."""
    cfg = small(name, variant)
    use_str, masked = cfg.method == "str", cfg.method in ("mp", "dsr")
    ens = nets.init_ensemble(cfg.dims, [1, 2], cfg.bias, cfg.init_fan)
    if use_str:
        sparsity.apply_str(ens, -1.5)
    raws = [lay.parametrizations.weight.original if use_str else lay.weight for lay in ens.layers]
    masks = [(torch.rand_like(w) > 0.4).float() for w in raws] if masked else []
    with torch.no_grad():
        for w, m in zip(raws, masks):
            w.mul_(m)
    ref = copy.deepcopy(ens)
    if masked:
        sparsity.apply_masks(ref, masks)
    x, y = torch.randn(2, 50, 13), torch.randn(2, 50, 8)
    ref_raw = [lay.parametrizations.weight.original if use_str else (lay.weight_orig if masked else lay.weight)
               for lay in ref.layers]
    loss = ((ref(x) - y) ** 2).mean((1, 2)).sum() + cfg.l1 * sum(w.abs().sum() for w in ref_raw)
    loss.backward()
    ws = [w.detach().clone() for w in raws]
    bs = [lay.bias.detach().clone() for lay in ens.layers] if cfg.bias else []
    ss = [lay.parametrizations.weight[0].s.detach().clone() for lay in ens.layers] if use_str else []
    before = [t.clone() for t in ws + bs + ss]
    zeros = lambda ts: [torch.zeros_like(t) for t in ts]  # noqa: E731
    eps, lr = 1e4, 1e4  # Δp = −lr/(1−β1)·(1−β1)·g/(|g|+eps) ≈ −g
    step = T._make_step(use_str, masked, True, cfg.bias, (0.9, 0.999), eps)
    lams = torch.full((len(ws),), cfg.l1)
    step(x, y, ws, bs, ss, masks, zeros(ws), zeros(ws), zeros(bs), zeros(bs), zeros(ss), zeros(ss),
         lams, torch.tensor(lr / 0.1), torch.tensor(0.001 ** 0.5), torch.zeros(2))
    grads = [p.grad for p in ref_raw]
    grads += [lay.bias.grad for lay in ref.layers] if cfg.bias else []
    grads += [lay.parametrizations.weight[0].s.grad for lay in ref.layers] if use_str else []
    for new, old, g in zip(ws + bs + ss, before, grads):
        torch.testing.assert_close(old - new, g, rtol=1e-3, atol=1e-6)


def test_l1_adds_exactly_lambda_sign_to_weights_not_biases():
    cfg0, cfg1 = small("dense", "faithful"), small("l1", "faithful")
    ens = nets.init_ensemble(cfg0.dims, [4], True)
    x, y = torch.randn(1, 50, 13), torch.randn(1, 50, 8)

    def delta(lam):
        ws = [lay.weight.detach().clone() for lay in ens.layers]
        bs = [lay.bias.detach().clone() for lay in ens.layers]
        z = [torch.zeros_like(t) for t in ws]
        zb = [torch.zeros_like(t) for t in bs]
        step = T._make_step(False, False, True, True, (0.9, 0.999), 1e4)
        step(x, y, ws, bs, [], [], z, [t.clone() for t in z], zb, [t.clone() for t in zb], [], [],
             torch.full((3,), lam), torch.tensor(1e5), torch.tensor(0.001 ** 0.5), torch.zeros(1))
        return [lay.weight - w for lay, w in zip(ens.layers, ws)], [lay.bias - b for lay, b in zip(ens.layers, bs)]

    with torch.no_grad():
        dw0, db0 = delta(0.0)
        dw1, db1 = delta(cfg1.l1)
    for a, b, lay in zip(dw1, dw0, ens.layers):
        torch.testing.assert_close(a - b, cfg1.l1 * lay.weight.sign(), rtol=2e-3, atol=1e-9)
    for a, b in zip(db1, db0):
        torch.testing.assert_close(a, b)


# -- per-method invariants ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["mp+l1", "dsr+l1"])
def test_corrected_masks_stay_zero_and_rest_trains(pairs, name):
    cfg = small(name, "corrected", epochs=8, prune_epochs=(2, 4), dsr_every=2, dsr_np=20) if name.startswith("mp") \
        else small(name, "corrected", epochs=8, dsr_every=2, dsr_np=20)
    out = run(cfg, pairs, [1, 2])
    assert out["masks"]
    init = nets.init_ensemble(cfg.dims, [1, 2], cfg.bias, cfg.init_fan)
    for i, m in enumerate(out["masks"]):
        w = out["final"][f"W{i}"]
        assert (w[m == 0] == 0).all()
        assert (w[m == 1] != init.layers[i].weight.detach()[m == 1]).float().mean() > 0.9
    ls = out["layer_sparsity"]
    if name.startswith("mp"):
        assert (ls[:, -1] >= ls[:, 3] - 1e-12).all()
        assert ls[:, -1].mean() == pytest.approx(1 - 0.75**2, abs=0.02)
    else:
        overall = sparsity.overall_sparsity([out["final"][f"W{i}"] for i in range(3)])
        assert torch.allclose(overall, torch.full_like(overall, cfg.dsr_sparsity), atol=0.02)


def test_faithful_mp_freezes_weights_after_first_prune_but_not_biases(pairs):
    cfg = small("mp", "faithful", epochs=6, prune_epochs=(2, 4))
    prefix = run(dataclasses.replace(cfg, epochs=2, prune_epochs=(2,)), pairs, [7])
    full = run(cfg, pairs, [7])
    for i in range(3):
        w_pre, w_end = prefix["final"][f"W{i}"], full["final"][f"W{i}"]
        alive = w_end != 0
        assert torch.equal(w_end[alive], w_pre[alive])  # unchanged by 4 more epochs of training
        assert (w_pre == 0).float().mean() < (w_end == 0).float().mean()  # the second prune still cut
        assert not torch.allclose(prefix["final"][f"b{i}"], full["final"][f"b{i}"])
    assert full["layer_sparsity"][0, -1].mean() == pytest.approx(0.3125, abs=0.02)


def test_faithful_dsr_skipping_frozen_epochs_changes_nothing(pairs):
    cfg = small("dsr", "faithful", epochs=8, dsr_every=2, dsr_np=20)
    fast = run(cfg, pairs, [3, 4])
    slow = run(cfg, pairs, [3, 4], skip_frozen=False)
    for k in fast["final"]:
        assert torch.equal(fast["final"][k], slow["final"][k])
    np.testing.assert_allclose(fast["loss"], slow["loss"], rtol=1e-5)
    assert np.abs(fast["layer_sparsity"].mean(2) - 0.5).max() < 0.05


def test_dsr_adapts_h_in_training(pairs):
    cfg = small("dsr", "corrected", epochs=6, dsr_every=1, dsr_np=10_000, dsr_h0=1e-6)
    out = run(cfg, pairs, [5])
    h = out["dsr_h"][0]
    assert h[0] == pytest.approx(2e-6) and h[1] == pytest.approx(4e-6)  # too few pruned → H doubles


@pytest.mark.parametrize("variant", ["faithful", "corrected"])
def test_swa_is_the_mean_of_end_of_epoch_snapshots(pairs, variant):
    cfg = small("str+swa", variant, epochs=6, swa_fraction=0.5)
    assert cfg.swa_start == 3
    out = run(cfg, pairs, [9, 10])
    snaps = []
    for k, frac in ((4, 0.25), (5, 0.4), (6, 0.5)):  # prefixes with the same lr schedule and swa_start
        pre = dataclasses.replace(cfg, epochs=k, swa_fraction=frac)
        assert pre.swa_start == 3
        np.testing.assert_allclose(run(pre, pairs, [9, 10])["lr"], out["lr"][:k])
        snaps.append(run(pre, pairs, [9, 10])["final"])
    for key in out["swa"]:
        mean = torch.stack([s[key] for s in snaps]).mean(0)
        torch.testing.assert_close(out["swa"][key], mean, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(out["swa"]["W0"], out["final"]["W0"])


def test_corrected_swa_lr_is_constant_and_meaningful():
    lrs = swa.swa_lr(1e-3, 100, 10, 0.1, 0, 75, 1e-4, 5)
    assert lrs[74] < 1e-9 and np.allclose(lrs[80:], 1e-4)
    faithful = swa.step_lr(1e-3, 100, 10, 0.1, 0)
    assert faithful[75:].max() < 1e-9  # the published code averaged at ~1e-10


def test_str_training_sparsity_matches_threshold(pairs):
    cfg = small("str", "faithful", epochs=3)
    out = run(cfg, pairs, [1, 2])
    ens = T.build_ensemble(cfg, out["final"])
    for lay in ens.layers:
        raw, thr = lay.parametrizations.weight.original, sparsity.str_threshold(lay)
        torch.testing.assert_close((lay.weight == 0).flatten(1).float().mean(1),
                                   (raw.abs() <= thr).flatten(1).float().mean(1))


def test_deterministic_from_seed(pairs):
    cfg = small("str+l1", "faithful", epochs=2)
    a, b = run(cfg, pairs, [1]), run(cfg, pairs, [1])
    c = run(cfg, pairs, [2])
    assert all(torch.equal(a["final"][k], b["final"][k]) for k in a["final"])
    assert not torch.equal(a["final"]["W1"], c["final"]["W1"])
