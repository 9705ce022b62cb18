"""One number formatter for the book: fixed decimals per quantity, "–" for a missing value, no "-0.0".

Shares of rollouts diverged carry two decimals (a share of 400 rollouts is a multiple of 0.25 %, as
the paper prints it), as do their differences in percentage points; other percentages (of weights
zero) one decimal; errors (RFMSE, capped error) three; other values (weights, ratios) two; scales
(learning rates, thresholds) two significant digits.
"""
from __future__ import annotations

import math

__all__ = ["DECIMALS", "MISSING", "number", "signed"]

DECIMALS = {"diverged": 2, "points": 2, "percent": 1, "error": 3, "value": 2, "count": 0}
MISSING = "–"


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value, quantity: str = "diverged") -> str:
    """``value`` as the book prints a ``quantity`` (:data:`DECIMALS`; ``"scale"``: 2 significant digits)."""
    if _is_missing(value):
        return MISSING
    value = float(value)
    if quantity == "scale":
        return f"{value:.2g}"
    if quantity not in DECIMALS:
        raise ValueError(f"quantity must be one of {', '.join([*DECIMALS, 'scale'])}; got {quantity!r}")
    text = f"{value:.{DECIMALS[quantity]}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def signed(value, quantity: str = "points") -> str:
    """A difference with its sign: ``"+1.5"``, ``"−0.2"`` (a minus sign), ``"0.0"``."""
    text = number(value, quantity)
    if text == MISSING or float(text) == 0:
        return text
    return text.replace("-", "−") if text.startswith("-") else "+" + text
