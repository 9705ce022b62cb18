"""DSR as the released plain-DSR models were trained (issue 21): the options, their defaults, their behaviour."""
import math

import numpy as np
import pytest
import torch

from alukit.training import config as C
from alukit.training import engine as T
from alukit.training import sparsity

pytestmark = pytest.mark.usefixtures("one_thread")

DSR_NAMES = ("dsr", "dsr+l1", "dsr+swa", "dsr+l1+swa")
NEW_DEFAULTS = dict(init="he", dsr_live="mask", dsr_apportion="round")


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((400, 13))
    y = np.tanh(z[:, :8] * z[:, 5:13]) + 0.1 * z[:, :8]
    return z, y


def tiny(name, variant, **kw):
    """A few epochs of ``name`` on a 13-12-10-8 network, reallocating every 2 epochs."""
    kw = {**dict(hidden=(12, 10), epochs=6, lr_step=2, lr_from=0, dsr_every=2, dsr_np=1000, dsr_h0=0.05), **kw}
    if variant == "faithful":
        kw.setdefault("dsr_first", 1)
    return C.make_config(name, variant, **kw)


def fit(cfg, pairs, seeds=(3, 4)):
    return T.fit(cfg, *pairs, list(seeds), progress=False, compile=False, device="cpu")


# -- defaults: the corrected rows unchanged, the faithful rows as released -----------------------
@pytest.mark.parametrize("name", DSR_NAMES)
def test_options_at_their_defaults_train_bit_identically(pairs, name):
    implicit = tiny(name, "corrected")
    explicit = tiny(name, "corrected", **NEW_DEFAULTS, dsr_regrow=implicit.dsr_regrow)
    assert explicit == implicit and C.config_hash(explicit) == C.config_hash(implicit)
    a, b = fit(implicit, pairs), fit(explicit, pairs)
    for which in ("final", "swa"):
        for key in a[which]:
            assert torch.equal(a[which][key], b[which][key]), (which, key)
    assert np.array_equal(a["dsr_h"], b["dsr_h"]) and np.array_equal(a["loss"], b["loss"])
    assert (a["dsr_h"] != implicit.dsr_h0).any()  # reallocations did happen


def test_faithful_dsr_rows_default_to_what_the_released_weights_show():
    """Plain DSR: U(0, 1) init, trained 101 epochs, then three frozen reallocations with N(0, H) regrowth; the
    4 × 128 rows: the committed script's He reading with the published layer's pruning and shares."""
    row = C.make_config("dsr")
    assert {k: getattr(row, k) for k in C.RELEASED_DSR_TRAINING} == C.RELEASED_DSR_TRAINING
    assert (row.hidden, row.dsr_sparsity, row.dsr_np, row.dsr_h0) == ((50,) * 4, 0.5, 250, 0.01)
    assert tuple(row.dsr_epochs) == (101, 126, 151) and row.freeze
    for name in DSR_NAMES[1:]:
        cfg = C.make_config(name)
        assert (cfg.init, cfg.freeze, cfg.dsr_first, cfg.dsr_regrow) == ("he", True, 1, "kaiming")
        assert (cfg.dsr_live, cfg.dsr_apportion, cfg.hidden) == ("nonzero", "floor", (128,) * 4)
    for name in DSR_NAMES:
        cfg = C.make_config(name, "corrected")
        assert {k: getattr(cfg, k) for k in NEW_DEFAULTS} == NEW_DEFAULTS and not cfg.freeze


@pytest.mark.parametrize("name", DSR_NAMES)
def test_faithful_rows_count_the_same_live_weights_by_mask_or_by_value(pairs, name):
    """He, U(0, 1) and N(0, H) values are never exactly zero: the mask and the non-zero pattern agree."""
    by_mask = fit(tiny(name, "faithful", dsr_live="mask"), pairs)
    by_value = fit(tiny(name, "faithful", dsr_live="nonzero"), pairs)
    for key in by_mask["final"]:
        assert torch.equal(by_mask["final"][key], by_value["final"][key])


def test_new_fields_stay_out_of_the_dict_and_hash_until_set():
    cfg = C.make_config("dsr", "corrected")
    assert not set(NEW_DEFAULTS) & set(cfg.to_dict())
    changed = C.make_config("dsr", "corrected", init="uniform01")
    assert changed.to_dict()["init"] == "uniform01" and C.config_hash(changed) != C.config_hash(cfg)


@pytest.mark.parametrize("field, value", [("init", "kaiming"), ("dsr_live", "all"), ("dsr_apportion", "ceil"),
                                          ("dsr_regrow", "uniform")])
def test_bad_option_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        C.make_config("dsr", **{field: value})


# -- the options' behaviour against hand-worked values -----------------------------------------
def test_nonzero_rule_prunes_and_counts_only_nonzero_weights():
    """Two active positions hold exactly 0: the mask rule prunes (and counts) them, the non-zero rule does not."""
    w0 = torch.tensor([[[0.5, 0.001, 0.0], [-0.002, 0.3, 0.0]]])  # (1, 2, 3); below H = 0.01: 0.001, -0.002
    out = {}
    for live in ("mask", "nonzero"):
        w, m = w0.clone(), torch.ones_like(w0)
        h = torch.tensor([0.01], dtype=torch.float64)
        stats = sparsity.dsr_reallocate_([w], [m], h, n_prune=10, delta=0.1, generators=[torch.Generator().manual_seed(0)],
                                         regrow="normal", live=live)
        out[live] = (int(stats["pruned"].sum()), int(stats["regrown"].sum()), w, m, float(h))
    assert out["mask"][:2] == (4, 4) and out["nonzero"][:2] == (2, 2)
    _, _, w, m, h = out["nonzero"]
    assert h == 0.02  # 2 < (1 − 0.1)·10 pruned: H doubled
    assert w[0, 0, 0] == 0.5 and w[0, 1, 1] == 0.3  # the large weights are kept
    grown = (m == 1) & (w.abs() < 0.25)
    assert int(grown.sum()) == 2 and (w[grown] != 0).all()  # as many regrown, live (non-zero)
    assert int((w != 0).sum()) == 4 and torch.equal(m, (w != 0).float())


@pytest.mark.parametrize("n_prune, h_new", [(10**9, 0.02), (100, 0.005)])
def test_normal_regrowth_is_n0_h_after_its_update(n_prune, h_new):
    """160 000 weights, half of them below H = 0.01: all pruned, as many regrown with std H after doubling/halving."""
    g = torch.Generator().manual_seed(1)
    w = torch.where(torch.rand(1, 400, 400, generator=g) < 0.5, 1.0, 1e-4)
    small = int((w < 0.5).sum())
    h = torch.tensor([0.01], dtype=torch.float64)
    stats = sparsity.dsr_reallocate_([w], [torch.ones_like(w)], h, n_prune=n_prune, delta=0.1, generators=[g],
                                     regrow="normal", live="nonzero")
    assert float(h) == h_new
    assert int(stats["pruned"].sum()) == small and int(stats["regrown"].sum()) == small
    fresh = w[w.abs() < 0.5]
    assert fresh.numel() == small
    assert abs(float(fresh.mean())) < 4 * h_new / math.sqrt(small)
    assert float(fresh.std()) == pytest.approx(h_new, rel=0.02)


def test_floor_apportioning_is_the_published_layers_rule():
    """Released DSR/0.5/model_1: survivors r_l = 240, 1177, 1177, 1206, 180 and K = 283 regrew m − r = 17, 83, 83, 85, 12."""
    r, free = [240, 1177, 1177, 1206, 180], [400, 1300, 1300, 1300, 300]
    assert sparsity.regrowth_counts(283, r, free, "floor") == [17, 83, 83, 85, 12]
    assert sparsity.regrowth_counts(283, r, free, "round") == [17, 84, 84, 86, 13]
    # a full layer's excess is lost (floor), not passed on (round)
    assert sparsity.regrowth_counts(30, [25, 5], [5, 95], "floor") == [5, 5]
    assert sparsity.regrowth_counts(30, [25, 5], [5, 95], "round") == [5, 25]


def test_uniform01_init_only_at_active_positions(pairs):
    cfg = tiny("dsr", "faithful", init="uniform01", dsr_sparsity=0.5, hidden=(40, 40))
    tr = T.Trainer(cfg, *pairs, [5, 6], compile=False, device="cpu")
    values = []
    for w, m in zip(tr.st.Ws, tr.st.masks):
        assert (w[m == 0] == 0).all()
        active = w[m == 1]
        assert (active > 0).all() and (active < 1).all()
        values.append(active)
        assert (m == 1).float().mean() == pytest.approx(0.5, abs=0.01)
    allv = torch.cat(values)
    assert float(allv.mean()) == pytest.approx(0.5, abs=0.02) and float(allv.median()) == pytest.approx(0.5, abs=0.03)
    he = T.Trainer(tiny("dsr", "faithful", hidden=(40, 40), init="he"), *pairs, [5, 6], compile=False, device="cpu")
    assert float((torch.cat([w[w != 0] for w in he.st.Ws]) > 0).float().mean()) == pytest.approx(0.5, abs=0.05)


def _released(epochs, **kw):
    """The released-DSR training on the tiny network: train 3 epochs, then reallocate after epochs 3, 4, 5."""
    return C.make_config("dsr", "faithful", **{**C.RELEASED_DSR_TRAINING, **dict(
        hidden=(12, 10), epochs=epochs, lr_step=2, lr_from=0, dsr_first=3, dsr_every=1, dsr_last=5,
        dsr_h0=0.01, dsr_np=10**6, dsr_sparsity=0.5), **kw})


def test_released_training_changes_no_weight_after_its_frozen_reallocations(pairs):
    seeds = [7, 8]
    trained = fit(_released(3), pairs, seeds)  # 3 epochs, no reallocation yet
    once = fit(_released(4), pairs, seeds)  # + the first reallocation
    thrice = fit(_released(6), pairs, seeds)  # + two more on frozen weights
    longer = fit(_released(12), pairs, seeds)  # + 6 epochs in which nothing may change
    assert thrice["dsr_h"][0].tolist()[2:] == [0.02, 0.04, 0.08, 0.08]  # K < (1 − δ)·Np each time: H doubles
    assert once["dsr_h"][:, -1].tolist() == [0.02, 0.02]
    for i in range(3):
        w3, w1, w0 = thrice["final"][f"W{i}"], once["final"][f"W{i}"], trained["final"][f"W{i}"]
        assert torch.equal(longer["final"][f"W{i}"], w3)
        kept = (w1 != 0) & (w3 != 0) & (w1.abs() >= 0.04)
        assert kept.any() and torch.equal(w3[kept], w1[kept])  # the survivors never moved after reallocation 1
        survived = (w0.abs() >= 0.01) & (w0 != 0)
        assert torch.equal(w1[survived], w0[survived])  # reallocation 1 only touched weights below H0
        assert ((w1 == 0) | (w1 == w0) | (w1.abs() < 0.2)).all()  # the rest are N(0, 0.02) regrowth
    moved = (trained["final"]["W1"] - T.Trainer(_released(3), *pairs, seeds, compile=False, device="cpu").st.Ws[1]).abs()
    assert float(moved.max()) > 1e-2  # the weights trained before the first reallocation
    assert np.ptp(longer["loss"][:, 5:], axis=1).max() == 0  # frozen: the loss stays put


def test_released_schedule_reallocates_three_times_when_scaled():
    cfg = C.make_config("dsr", **C.RELEASED_DSR_TRAINING)
    assert cfg.dsr_epochs == (101, 126, 151) and cfg.freeze and cfg.init == "uniform01"
    assert (cfg.hidden, cfg.dsr_np, cfg.dsr_h0, cfg.dsr_sparsity) == ((50,) * 4, 250, 0.01, 0.5)
    quick = cfg.scaled(10)
    assert quick.dsr_epochs == (5, 6, 7)
