"""Array types, the shared warning thresholds and helpers every linkage statistic uses."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
UInt8Array = npt.NDArray[np.uint8]

FEW_UNITS = 10  # fewer units than this → "few_units" (|r| must exceed ~.63 to be significant)
SMALL_N = 10  # fewer complete pairs (or rows) than this → "small_n"

_SD_FLOOR = 1e-10  # a spread below this fraction of the largest |value| counts as constant


def _two_sided_p(r: npt.ArrayLike, df: npt.ArrayLike) -> FloatArray:
    """Two-sided p of H0: ρ = 0 from the t test with ``df`` degrees of freedom.

    Uses P(|T_df| ≥ |t|) = I_{1−r²}(df/2, 1/2), the regularised incomplete beta function, which
    equals the t-test p for t = r·sqrt(df / (1 − r²)). NaN where df < 1 or r is NaN.
    """
    r_array = np.asarray(r, dtype=float)
    df_array = np.asarray(df, dtype=float)
    usable = (df_array >= 1) & np.isfinite(r_array)
    x = np.clip(1.0 - np.where(usable, r_array, 0.0) ** 2, 0.0, 1.0)
    p = special.betainc(np.where(usable, df_array, 1.0) / 2.0, 0.5, x)
    return np.where(usable, p, np.nan)


def _degenerate(
    sum_squares: npt.ArrayLike, count: npt.ArrayLike, scale: npt.ArrayLike
) -> BoolArray:
    """True where a centred sum of squares means "no spread" relative to the data's magnitude."""
    floor = np.asarray(count, dtype=float) * (_SD_FLOOR * np.asarray(scale, dtype=float)) ** 2
    return np.asarray(sum_squares) <= floor
