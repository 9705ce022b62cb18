"""alukit.training.engine: the batched kernel is Adam + autograd exactly, and every method behaves as specified."""
import copy
import dataclasses

import numpy as np
import pytest
import torch

from alukit.training import config as C
from alukit.training import nets, sparsity, swa
from alukit.training import engine as T

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
    cfg = small("dsr+swa", "faithful", epochs=8, dsr_every=2, dsr_np=20)  # the 4 × 128 rows freeze
    assert cfg.freeze
    fast = run(cfg, pairs, [3, 4])
    slow = run(cfg, pairs, [3, 4], skip_frozen=False)
    for k in fast["final"]:
        assert torch.equal(fast["final"][k], slow["final"][k])
    np.testing.assert_allclose(fast["loss"], slow["loss"], rtol=1e-5)
    assert np.abs(fast["layer_sparsity"].mean(2) - 0.1).max() < 0.05


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


# -- the kernel against plain PyTorch ------------------------------------------------------
def _plain_net(cfg, seed):
    """Member ``seed``'s initial network as a plain ``nn.Sequential`` (raw weights)."""
    init = nets.init_ensemble(cfg.dims, [seed], cfg.bias, cfg.init_fan)
    mods = []
    for i, lay in enumerate(init.layers):
        lin = torch.nn.Linear(*lay.weight.shape[1:], bias=cfg.bias)
        with torch.no_grad():
            lin.weight.copy_(lay.weight[0].T)
            if cfg.bias:
                lin.bias.copy_(lay.bias[0, 0])
        mods += [lin, torch.nn.ReLU()] if i < len(init.layers) - 1 else [lin]
    return torch.nn.Sequential(*mods)


class _Soft(torch.nn.Module):
    """STR the plain way: a parametrization with one learnable scalar threshold logit."""

    def __init__(self, s):
        super().__init__()
        self.s = torch.nn.Parameter(torch.tensor(float(s)))

    def forward(self, w):
        return torch.sign(w) * torch.relu(w.abs() - torch.sigmoid(self.s))


def _reference(cfg, z, y, seed):
    """``cfg`` trained the textbook way: nn.Sequential, MSE + L1, autograd, torch.optim.Adam, StepLR
    (then SWALR for torch-mode SWA), a fresh permutation per epoch, torch.nn.utils.prune / parametrize for the
    method, AveragedModel for SWA. Returns ``(model, averaged model)``."""
    from torch.nn.utils import parametrize, prune

    model = _plain_net(cfg, seed)
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    shuffle_gen, method_gen = T.member_generators(seed)
    if cfg.method == "str":
        for lin in lins:
            parametrize.register_parametrization(lin, "weight", _Soft(cfg.s_init))
    if cfg.method == "dsr":
        for lin in lins:
            mask = _plain_random_mask(lin.weight.shape[::-1], cfg.dsr_sparsity, method_gen).T
            with torch.no_grad():
                lin.weight.mul_(mask)
            prune.custom_from_mask(lin, "weight", mask)
    raw = [lin.parametrizations.weight.original if cfg.method == "str" else
           (lin.weight_orig if hasattr(lin, "weight_orig") else lin.weight) for lin in lins]
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.lr_step, gamma=cfg.lr_gamma)
    # a pruned module cannot be deep-copied: average a plain twin holding the effective weights
    twin = _plain_net(cfg, seed) if cfg.method == "dsr" or cfg.prune_mode == "iterative" else model
    swa_sched, averaged = None, torch.optim.swa_utils.AveragedModel(twin, use_buffers=False)
    h = torch.full((1,), cfg.dsr_h0, dtype=torch.float64)
    lams = [cfg.l1 if (i or cfg.l1_input is None) else cfg.l1_input for i in range(len(lins))]
    for epoch in range(cfg.epochs):
        if cfg.swa_mode == "torch" and epoch == cfg.swa_start:
            swa_sched = torch.optim.swa_utils.SWALR(opt, swa_lr=cfg.swa_lr, anneal_epochs=cfg.swa_anneal_epochs,
                                                    anneal_strategy="cos")
        perm = torch.randperm(len(z), generator=shuffle_gen)  # the member's mini-batch order
        for xb, yb in zip(z[perm].split(cfg.batch_size), y[perm].split(cfg.batch_size)):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            loss = loss + sum(lam * (lin.weight if cfg.method != "str" else w).abs().sum()
                              for lam, lin, w in zip(lams, lins, raw))
            loss.backward()
            opt.step()
        _after_epoch(cfg, epoch + 1, lins, raw, opt, h, method_gen)
        if epoch >= cfg.swa_start:
            if twin is not model:
                with torch.no_grad():
                    for a, b in zip(twin.modules(), model.modules()):
                        if isinstance(a, torch.nn.Linear):
                            a.weight.copy_(_weight(b))
                            if cfg.bias:
                                a.bias.copy_(b.bias)
            averaged.update_parameters(twin)
        if swa_sched is not None:
            swa_sched.step()
        elif epoch >= cfg.lr_from:
            sched.step()
    return model, averaged


@torch.no_grad()
def _after_epoch(cfg, done, lins, raw, opt, h, method_gen):
    """MP's prune and DSR's reallocation on the plain network (weights transposed to (1, in, out) views)."""
    from torch.nn.utils import prune

    if cfg.method == "mp" and done in cfg.prune_epochs:
        for lin in lins:
            if cfg.prune_mode == "faithful":
                _plain_faithful_prune_(lin.weight, cfg.prune_amount)  # one member: layout-free
                lin.weight.requires_grad_(not cfg.freeze)
            else:
                prune.l1_unstructured(lin, "weight", amount=cfg.prune_amount)
    realloc = done % cfg.dsr_every == 0 and done < cfg.epochs and (cfg.swa_mode != "torch" or done <= cfg.swa_start)
    if cfg.method == "dsr" and realloc:
        view = lambda t: t.T.unsqueeze(0)  # noqa: E731
        _plain_dsr_reallocate_([view(w)[0] for w in raw], [view(lin.weight_mask)[0] for lin in lins], h, cfg,
                               method_gen, [(view(opt.state[w]["exp_avg"])[0], view(opt.state[w]["exp_avg_sq"])[0])
                                            for w in raw])


def _plain_random_mask(shape, fraction, generator):
    """0/1 mask with round(fraction · n) zeros at the first positions of one random permutation."""
    n = shape[0] * shape[1]
    mask = torch.ones(n)
    mask[torch.randperm(n, generator=generator)[:round(fraction * n)]] = 0.0
    return mask.reshape(shape)


@torch.no_grad()
def _plain_faithful_prune_(weight, amount):
    """The published prune step by hand: sort |w|, threshold at index ⌊(n + zeros)·amount⌋ (≤ n − 1), zero |w| < it."""
    n, zeros = weight.numel(), int((weight == 0).sum())
    index = min(int((n + zeros) * amount), n - 1)
    threshold = weight.abs().flatten().sort().values[index]
    weight[weight.abs() < threshold] = 0.0


@torch.no_grad()
def _plain_dsr_reallocate_(weights, masks, h, cfg, generator, moments):
    """One DSR phase by hand for one member (layers ``(in, out)``, zero regrowth): prune active |w| < H and
    their Adam moments, adapt H, regrow G_l = round(R_l / ΣR · K) (paper eq. 7) at random zero positions."""
    assert cfg.dsr_regrow == "zero"
    cut = [(m != 0) & (w.abs() < float(h[0])) for w, m in zip(weights, masks)]
    survivors = [int((m != 0).sum()) - int(c.sum()) for m, c in zip(masks, cut)]
    for w, m, c, pair in zip(weights, masks, cut, moments):
        for t in (w, m, *pair):
            t[c] = 0.0
    k = sum(int(c.sum()) for c in cut)
    if k < (1 - cfg.dsr_delta) * cfg.dsr_np:
        h *= 2
    elif k > (1 + cfg.dsr_delta) * cfg.dsr_np:
        h /= 2
    for w, m, r, pair in zip(weights, masks, survivors, moments):
        g = round(r / sum(survivors) * k) if k and sum(survivors) else 0
        zeros = (m == 0).nonzero()
        assert g <= len(zeros), "this reference covers the no-overflow case of eq. 7 only"
        if g:
            pick = zeros[torch.randperm(len(zeros), generator=generator)[:g]]
            for t in (w, *pair):
                t[pick[:, 0], pick[:, 1]] = 0.0
            m[pick[:, 0], pick[:, 1]] = 1.0


def _weight(lin):
    """A plain layer's effective weight (a pruned layer's ``weight`` is only refreshed by its forward)."""
    return lin.weight_orig * lin.weight_mask if hasattr(lin, "weight_mask") else lin.weight


def _plain_state(model, cfg):
    """The plain network's tensors in the engine's layout: ``W{l}`` ``(1, in, out)`` (effective for
    masks, raw for STR), ``b{l}`` ``(1, 1, out)``, ``s{l}`` ``(1, 1, 1)``."""
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    out = {}
    for i, lin in enumerate(lins):
        w = lin.parametrizations.weight.original if cfg.method == "str" else _weight(lin)
        out[f"W{i}"] = w.detach().T.unsqueeze(0)
        if cfg.bias:
            out[f"b{i}"] = lin.bias.detach().reshape(1, 1, -1)
        if cfg.method == "str":
            out[f"s{i}"] = lin.parametrizations.weight[0].s.detach().reshape(1, 1, 1)
    return out


ADAM_CASES = [("dense", "faithful", {}), ("l1", "faithful", {}), ("str+l1", "faithful", {}),
              ("mp+l1", "faithful", dict(prune_epochs=(2, 4))), ("mp+l1", "corrected", dict(prune_epochs=(2, 4))),
              ("dsr+l1", "corrected", dict(dsr_every=2, dsr_np=20)), ("l1+swa", "faithful", {}),
              ("str+swa", "corrected", {})]


@pytest.mark.parametrize("name,variant,kw", ADAM_CASES, ids=[f"{n}-{v}" for n, v, _ in ADAM_CASES])
def test_kernel_trains_like_torch_adam(name, variant, kw):
    """8 epochs × 26 mini-batches (208 Adam steps, each epoch's last batch short): kernel = nn.Sequential + torch.optim.Adam."""
    cfg = C.make_config(name, variant, hidden=(12, 10), epochs=8, lr_step=2, lr_from=0, lr_gamma=0.5,
                        swa_anneal_epochs=1, swa_lr=5e-4, **kw)
    rng = np.random.default_rng(1)
    z = torch.as_tensor(rng.standard_normal((1270, 13)), dtype=torch.float32)
    y = torch.tanh(z[:, :8] * z[:, 5:13]) + 0.1 * z[:, :8]
    seeds = T.member_seeds(0, name, 2)
    out = T.fit(cfg, z, y, seeds, progress=False, compile=False, device="cpu")
    for e, seed in enumerate(seeds):
        model, averaged = _reference(cfg, z, y, seed)
        for which, net in (("final", model), ("swa", averaged.module)):
            want = _plain_state(net, cfg)
            got = {k: v[e:e + 1] for k, v in out[which].items()}
            if out["masks"]:
                got.update({f"W{i}": got[f"W{i}"] * m[e:e + 1] for i, m in enumerate(out["masks"])})
            assert got.keys() == want.keys()
            for k in want:
                torch.testing.assert_close(got[k], want[k], rtol=2e-4, atol=2e-5,
                                           msg=lambda m, which=which, k=k, e=e: f"{which} {k}, member {e}: {m}")
    moved = (out["final"]["W1"] - nets.init_ensemble(cfg.dims, seeds, cfg.bias, cfg.init_fan).layers[1].weight).abs()
    assert moved.max() > 1e-2  # the weights really trained
