"""Shares of zero and near-zero weights (alukit.evaluation.zeros), against hand-counted layers."""
import numpy as np
import pytest
import torch

from alukit.evaluation import zeros

# two members; layer 1 is (2, 2, 2), layer 2 is (2, 2, 1): 6 weights per member
LAYER1 = np.array([[[0.0, 1e-3], [-5e-4, 2.0]],
                   [[-0.0, -3.0], [0.0, -1e-3]]])
LAYER2 = np.array([[[9e-4], [-2.0]],
                   [[0.0], [1.5]]])


@pytest.mark.parametrize("kind", [np.asarray, torch.as_tensor])
def test_zero_and_small_shares_are_hand_counted(kind):
    layers = [kind(LAYER1), kind(LAYER2)]
    # member 0: exact zeros {0}; |w| < 1e-3 {0, -5e-4, 9e-4} (1e-3 itself is not below)
    # member 1: exact zeros {-0, 0, 0}; |w| < 1e-3 the same three (-1e-3 is not below)
    np.testing.assert_array_equal(zeros.zero_fraction(layers), [1 / 6, 3 / 6])
    np.testing.assert_array_equal(zeros.small_fraction(layers), [3 / 6, 3 / 6])
    np.testing.assert_array_equal(zeros.small_fraction(layers, tol=2.0), [4 / 6, 5 / 6])
