"""The book's one number formatter, against hand-written strings."""
import math

import pytest

from alukit.book import numbers


@pytest.mark.parametrize("value, quantity, text", [
    (51.74999999999999, "diverged", "51.75"), (12, "diverged", "12.00"), (100.0, "diverged", "100.00"),
    (33.173, "percent", "33.2"), (0.00347, "error", "0.003"), (-0.001, "value", "0.00"), (-0.004, "error", "-0.004"),
    (0.00012, "scale", "0.00012"), (float("nan"), "diverged", "–"), (None, "error", "–"), (7.0, "count", "7"),
])
def test_number_has_fixed_decimals_per_quantity_and_no_negative_zero(value, quantity, text):
    assert numbers.number(value, quantity) == text


def test_signed_uses_a_minus_sign_and_no_sign_for_zero():
    assert [numbers.signed(v) for v in (1.5, -0.2, -0.001, math.nan)] == ["+1.50", "−0.20", "0.00", "–"]


def test_an_unknown_quantity_names_the_allowed_ones():
    with pytest.raises(ValueError, match="quantity must be one of diverged, points"):
        numbers.number(1.0, "speed")
