"""alukit.training.sparsity: per-method invariants on stacked weights."""

import pytest
import torch
from torch.nn.utils import prune

from alukit.training import nets, sparsity


def test_str_zero_fraction_equals_fraction_below_threshold():
    ens = nets.init_ensemble((13, 30, 30, 8), [1, 2, 3])
    sparsity.apply_str(ens, -2.0)
    for lay in ens.layers:
        raw = lay.parametrizations.weight.original
        thr = sparsity.str_threshold(lay)
        assert thr.shape == (3, 1, 1)
        expect = (raw.abs() <= thr).flatten(1).float().mean(1)
        got = (lay.weight == 0).flatten(1).float().mean(1)
        torch.testing.assert_close(got, expect)
        assert float(got.mean()) > 0.1  # sigmoid(-2) ≈ 0.12 cuts a real share of He-init weights
        eff = lay.weight
        keep = raw.abs() > thr
        torch.testing.assert_close(eff[keep], (raw.sign() * (raw.abs() - thr))[keep])


def test_faithful_prune_arithmetic_ends_at_33_2_percent():
    w = torch.randn(2, 64, 64)
    counts = []
    for _ in range(4):
        sparsity.faithful_prune_(w, 0.25)
        counts.append(int((w[0] == 0).sum()))
    # threshold index ⌊(4096 + zeros) · 0.25⌋: 1024, 1280, 1344, 1360 → 33.2 %
    assert counts == [1024, 1280, 1344, 1360]
    assert (w == 0).float().mean().item() == pytest.approx(0.332, abs=0.001)


def test_corrected_iterative_prune_is_torch_l1_unstructured_per_member_and_ends_at_68_4_percent():
    w = torch.randn(2, 64, 64)
    mask = torch.ones_like(w)
    for _ in range(4):
        mask = sparsity.iterative_mask(w, mask, 0.25)
    zeros = (mask == 0).flatten(1).sum(1)
    assert zeros.tolist() == [2800, 2800]  # 4096 − 3072 − 768 − 576 − 432 pruned of the remaining
    assert zeros[0].item() / 4096 == pytest.approx(1 - 0.75**4, abs=0.001)
    for e in range(2):  # the same masks as torch's own pruning of each member as an nn.Linear
        lin = torch.nn.Linear(64, 64)
        with torch.no_grad():
            lin.weight.copy_(w[e])
        for _ in range(4):
            prune.l1_unstructured(lin, "weight", amount=0.25)
        assert torch.equal(lin.weight_mask, mask[e])


def test_iterative_mask_rounds_fractional_counts_like_torch_prune():
    """63 weights, amount 0.3: 18.9 → 19 pruned, then 0.3 · 44 = 13.2 → 13, then 0.3 · 31 = 9.3 → 9."""
    w = torch.randn(3, 7, 9, generator=torch.Generator().manual_seed(4))
    mask = torch.ones_like(w)
    for pruned in (19, 32, 41):
        mask = sparsity.iterative_mask(w, mask, 0.3)
        assert (mask == 0).flatten(1).sum(1).tolist() == [pruned] * 3
    for e in range(3):
        lin = torch.nn.Linear(9, 7)
        with torch.no_grad():
            lin.weight.copy_(w[e])
        for _ in range(3):
            prune.l1_unstructured(lin, "weight", amount=0.3)
        assert torch.equal(lin.weight_mask, mask[e])


def test_dsr_threshold_adapts_in_the_right_direction():
    g = [torch.Generator().manual_seed(i) for i in range(2)]
    w = torch.randn(2, 40, 40)
    mask = torch.stack([sparsity.random_mask((40, 40), 0.5, gi) for gi in g])
    w.mul_(mask)
    # member 0: many weights below H → more than (1+δ)·Np pruned → H halves;
    # member 1: magnitudes far above H → nothing pruned → H doubles
    w[1] = w[1].sign() * (w[1].abs() + 10.0) * mask[1]
    h = torch.tensor([0.5, 0.5], dtype=torch.float64)
    stats = sparsity.dsr_reallocate_([w], [mask], h, n_prune=10, delta=0.1, generators=g, regrow="kaiming", fans=[40])
    assert stats["pruned"][0, 0] > 11 and stats["pruned"][1, 0] == 0
    assert h.tolist() == [0.25, 1.0]


def test_dsr_keeps_sparsity_and_follows_eq7():
    g = [torch.Generator().manual_seed(i) for i in range(3)]
    shapes = [(13, 64), (64, 64), (64, 8)]
    ws, ms = [], []
    for a, b in shapes:
        m = torch.stack([sparsity.random_mask((a, b), 0.5, gi) for gi in g])
        ms.append(m)
        ws.append(torch.randn(3, a, b) * 0.05 * m)
    before = sparsity.overall_sparsity([w for w in ws])
    h = torch.full((3,), 0.01, dtype=torch.float64)
    m_state = [(torch.ones_like(w), torch.ones_like(w)) for w in ws]
    stats = sparsity.dsr_reallocate_(ws, ms, h, n_prune=150, delta=0.1, generators=g, regrow="zero",
                                     fans=[13, 64, 64], adam_states=m_state)
    k = stats["pruned"].sum(1)
    assert (k > 0).all()
    # overall sparsity back at target up to the rounding of eq. 7 (one weight per layer)
    assert torch.allclose(sparsity.overall_sparsity([m for m in ms]), before, atol=3 / sum(a * b for a, b in shapes))
    # regrowth per layer ∝ surviving weights (eq. 7)
    for e in range(3):
        surviving = [int(m[e].sum()) - int(stats["regrown"][e, i]) for i, m in enumerate(ms)]
        for i in range(3):
            expect = round(surviving[i] / sum(surviving) * int(k[e]))
            assert int(stats["regrown"][e, i]) == expect
    # corrected regrowth: regrown at zero, their Adam moments reset
    for w, m, (mm, vv) in zip(ws, ms, m_state):
        new = (m == 1) & (w == 0)
        assert new.any()
        assert (mm[new] == 0).all() and (vv[new] == 0).all()


def test_layer_and_overall_sparsity():
    w1 = torch.ones(2, 4, 5)
    w1[0, :2] = 0
    w2 = torch.zeros(2, 5, 2)
    w2[1] = 1
    ls = sparsity.layer_sparsity([w1, w2])
    assert ls.tolist() == [[0.5, 1.0], [0.0, 0.0]]
    assert sparsity.overall_sparsity([w1, w2]).tolist() == pytest.approx([20 / 30, 0.0])


def test_parametrized_and_pruned_ensembles_convert_to_plain_members():
    ens = nets.init_ensemble((13, 10, 8), [1, 2])
    sparsity.apply_str(ens, -1.0)
    masks = [(torch.rand(2, 13, 10) > 0.5).float(), torch.ones(2, 10, 8)]
    pruned = nets.init_ensemble((13, 10, 8), [3, 4])
    sparsity.apply_masks(pruned, masks)
    z = torch.randn(2, 6, 13)
    for e in (ens, pruned):
        out = e(z)
        for i in range(2):
            member = e.member(i)
            torch.testing.assert_close(member(z[i]), out[i], rtol=1e-5, atol=1e-6)
        back = nets.Ensemble.from_members([e.member(i) for i in range(2)])
        torch.testing.assert_close(back(z), out, rtol=1e-5, atol=1e-6)
    assert (pruned.member(0)[0].weight.T[masks[0][0] == 0] == 0).all()


@pytest.mark.parametrize(
    "k, survivors, free, expected",
    [
        (30, [10, 20], [100, 100], [10, 20]),  # eq. 7 when every layer has room
        (30, [25, 5], [5, 95], [5, 25]),  # layer 0 is nearly full: its 20 extra go to layer 1
        (0, [3, 4], [5, 5], [0, 0]),
        (10, [0, 0], [2, 8], [2, 8]),  # no survivors: spread by free room
        (50, [1, 1], [10, 10], [10, 10]),  # more than all free room: as many as fit
    ],
)
def test_regrowth_counts_apportion_eq7_within_capacity(k, survivors, free, expected):
    counts = sparsity.regrowth_counts(k, survivors, free)
    assert counts == expected
    assert all(0 <= c <= f for c, f in zip(counts, free))


def test_dsr_regrows_all_it_prunes_when_a_layer_is_full():
    """Strong L1 leaves most survivors in a small layer: eq. 7 asks it for more than its free slots."""
    g = [torch.Generator().manual_seed(0)]
    small = torch.ones(1, 4, 4)  # all active and large: survives, no free slot
    big_mask = sparsity.random_mask((32, 32), 0.5, g[0])[None]
    big = big_mask * 1e-4  # all below H: pruned
    ws, ms = [small.clone(), big.clone()], [torch.ones(1, 4, 4), big_mask.clone()]
    survivors_before = sum(int(m.sum()) for m in ms)
    stats = sparsity.dsr_reallocate_(ws, ms, torch.tensor([1e-3], dtype=torch.float64), n_prune=150, delta=0.1,
                                     generators=g, regrow="zero")
    assert int(stats["pruned"].sum()) == int(big_mask.sum())
    assert int(stats["regrown"].sum()) == int(stats["pruned"].sum())  # all of it, in the big layer
    assert sum(int(m.sum()) for m in ms) == survivors_before
