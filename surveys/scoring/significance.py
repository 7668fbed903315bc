"""The significance level of a confidence and the "significant" verdict every test shares."""

from __future__ import annotations

import math

# 1 - 0.95 is 0.05000000000000004 in binary floating point; rounding to this many decimals
# gives the α people mean (0.05) while keeping any confidence a user can type.
_ALPHA_DECIMALS = 12


def significance_level(confidence: float) -> float:
    """α = 1 − confidence, rounded to 12 decimals so 0.95 gives exactly 0.05.

    Raises ValueError outside 0 < confidence < 1.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return round(1.0 - confidence, _ALPHA_DECIMALS)


def is_significant(p_value: float | None, confidence: float) -> bool:
    """True when p < α (strictly): a p-value of exactly α is not significant.

    This is the Neyman–Pearson rejection rule "reject H0 when p ≤ α" tightened to "<" so a
    reported p = 0.050 is never called significant at 95 %. None or NaN p: False.
    """
    if p_value is None or math.isnan(p_value):
        return False
    return p_value < significance_level(confidence)
