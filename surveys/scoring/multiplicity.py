"""Multiplicity across the several metrics one claim rests on: Holm and Benjamini–Hochberg."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from scipy import stats

from .common import FloatArray
from .comparisons import Comparison
from .significance import is_significant

ADJUSTMENTS = ("holm", "bh")


def holm(p_values: npt.ArrayLike) -> FloatArray:
    """Holm (1979) step-down adjusted p-values: p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)).

    Controls the family-wise error rate under any dependence between the tests. NaN p-values
    stay NaN and do not count in m. Any shape; the result has the same shape.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    present = ~np.isnan(p.ravel())
    finite = p.ravel()[present]
    m = finite.size
    if m == 0:
        return adjusted
    order = np.argsort(finite, kind="stable")
    scaled = np.minimum(finite[order] * (m - np.arange(m)), 1.0)
    result = np.empty(m)
    result[order] = np.maximum.accumulate(scaled)
    adjusted.ravel()[present] = result
    return adjusted


def adjust_comparisons(
    comparisons: Sequence[Comparison], *, method: str = "holm", confidence: float = 0.95
) -> list[Comparison]:
    """The comparisons with multiplicity-adjusted p-values and ``significant`` recomputed.

    ``method``: "holm" (family-wise error, Holm 1979: for "the initiative improved at least
    one of its metrics") or "bh" (false discovery rate, Benjamini & Hochberg 1995, via
    ``scipy.stats.false_discovery_control``). Untested comparisons (p None) stay as they are
    and do not count. Intervals are not adjusted; ``method`` gains the adjustment's name.
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"method must be one of {ADJUSTMENTS}, got {method!r}")
    raw = np.array([np.nan if c.p_value is None else c.p_value for c in comparisons], dtype=float)
    tested = ~np.isnan(raw)
    adjusted = raw.copy()
    if tested.any():
        adjusted[tested] = (
            holm(raw[tested]) if method == "holm" else stats.false_discovery_control(raw[tested])
        )
    label = "Holm" if method == "holm" else "Benjamini-Hochberg"
    return [
        comparison
        if not tested[index]
        else replace(
            comparison,
            p_value=float(adjusted[index]),
            significant=is_significant(float(adjusted[index]), confidence),
            method=f"{comparison.method}; {label}-adjusted p",
        )
        for index, comparison in enumerate(comparisons)
    ]
