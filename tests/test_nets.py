"""alukit.training.nets: the stacked ensemble equals its members; conversion both ways."""
import math

import pytest
import torch
from torch import nn

from alukit.training import nets


def _ens(bias=True, fan="in", seeds=(11, 12, 13)):
    return nets.init_ensemble((13, 9, 7, 8), seeds, bias=bias, fan=fan)


@pytest.mark.parametrize("bias", [True, False])
def test_ensemble_equals_members(bias):
    ens = _ens(bias)
    z = torch.randn(3, 17, 13)
    out = ens(z)
    assert out.shape == (3, 17, 8)
    for i in range(3):
        member = ens.member(i)
        assert isinstance(member, nn.Sequential) and isinstance(member[0], nn.Linear)
        torch.testing.assert_close(member(z[i]), out[i], rtol=1e-5, atol=1e-6)


def test_shared_input_broadcasts():
    ens = _ens()
    z = torch.randn(5, 13)
    torch.testing.assert_close(ens(z), ens(z.expand(3, 5, 13)))


def test_round_trip_members():
    ens = _ens()
    back = nets.Ensemble.from_members([ens.member(i) for i in range(3)])
    for a, b in zip(ens.layers, back.layers):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    z = torch.randn(3, 4, 13)
    assert torch.equal(ens(z), back(z))


def test_member_independent_of_ensemble_size():
    big = nets.init_ensemble((13, 9, 8), [5, 6, 7])
    alone = nets.init_ensemble((13, 9, 8), [6])
    for a, b in zip(big.layers, alone.layers):
        assert torch.equal(a.weight[1], b.weight[0]) and torch.equal(a.bias[1], b.bias[0])
    other = nets.init_ensemble((13, 9, 8), [8])
    assert not torch.equal(other.layers[0].weight[0], alone.layers[0].weight[0])


def test_he_init_fan():
    w_in = nets.init_ensemble((400, 100, 8), [1], fan="in").layers[0].weight.detach()
    w_out = nets.init_ensemble((400, 100, 8), [1], fan="out").layers[0].weight.detach()
    assert float(w_in.std()) == pytest.approx(math.sqrt(2 / 400), rel=0.05)
    assert float(w_out.std()) == pytest.approx(math.sqrt(2 / 100), rel=0.05)


def test_bad_shapes_raise():
    ens = _ens()
    with pytest.raises(ValueError, match="z must have shape"):
        ens(torch.randn(2, 5, 13))
    with pytest.raises(ValueError, match="fan"):
        nets.init_ensemble((13, 8), [1], fan="sideways")
