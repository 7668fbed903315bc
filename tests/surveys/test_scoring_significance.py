"""Significance at the boundary: "significant" means p < α with α exact (0.05, not 1 - 0.95).

Oracle: the decimal α people write (0.05, 0.10, 0.01) as literals; 1 - 0.95 in binary floating
point is 0.05000000000000004, so the old rule `p < 1 - confidence` called p = 0.05 significant.
"""

import math

import pytest

from surveys.scoring.comparisons import compare
from surveys.scoring.net_promoter import nps
from surveys.scoring.significance import is_significant, significance_level


def test_significance_level_is_the_decimal_alpha():
    assert 1.0 - 0.95 > 0.05  # the floating-point trap this guards against
    assert significance_level(0.95) == 0.05
    assert significance_level(0.9) == 0.1
    assert significance_level(0.99) == 0.01


def test_p_exactly_alpha_is_not_significant():
    assert is_significant(0.05, 0.95) is False
    assert is_significant(0.1, 0.9) is False
    assert is_significant(0.01, 0.99) is False


def test_p_just_below_alpha_is_significant():
    assert is_significant(math.nextafter(0.05, 0.0), 0.95) is True
    assert is_significant(0.0499, 0.95) is True


def test_missing_p_is_never_significant():
    assert is_significant(None, 0.95) is False
    assert is_significant(math.nan, 0.95) is False


def test_significance_level_rejects_confidence_outside_unit_interval():
    with pytest.raises(ValueError, match="confidence"):
        significance_level(1.0)


def test_compare_marks_significance_with_the_exact_alpha():
    change = compare(nps(90, 60, 50), nps(150, 60, 40))
    assert change.p_value is not None
    assert change.significant is (change.p_value < 0.05)
