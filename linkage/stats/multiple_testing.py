"""False discovery rate control across many tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .common import FloatArray


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini–Hochberg (1995) step-up q-values: q_(i) = min_{j ≥ i} min(1, m·p_(j) / j).

    NaN p-values stay NaN and do not count in m. Any shape; the result has the same shape.
    Matches ``scipy.stats.false_discovery_control(method="bh")`` on NaN-free input.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    present = ~np.isnan(p.ravel())
    finite = p.ravel()[present]
    m = finite.size
    if m == 0:
        return q
    order = np.argsort(finite, kind="stable")
    scaled = finite[order] * m / np.arange(1, m + 1)
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q.ravel()[present] = adjusted
    return q
