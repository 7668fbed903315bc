"""Within-unit (fixed-effects) slope and correlation with cluster-robust inference by unit.

The repeated-measures p of `linkage_stats` (df = N − K − 1) treats every unit-period as an
independent observation. Monthly unit metrics are autocorrelated, so that p is too small and
two unrelated trending metrics look linked. Here the within slope gets the Arellano (1987) /
Liang–Zeger (1986) cluster-robust SE by unit, and t with G − 1 df (Cameron & Miller 2015,
J. Human Resources 50(2), §III.B–C and §VI).

Inputs are per-unit sums of unit-demeaned values x̃ = x − x̄_u, ỹ = y − ȳ_u over the unit's
complete (x, y) periods, with units on the last axis and any leading axes (e.g. pairs):
Sxy_u = Σ_t x̃ỹ, Sxx_u = Σ_t x̃², Syy_u = Σ_t ỹ² and T_u = the number of those periods
(`unit_demeaned_sums` computes them from panels).

Method: b = ΣSxy/ΣSxx, within r = ΣSxy/√(ΣSxx·ΣSyy); the score of unit u is
Σ_t x̃·e = Sxy_u − b·Sxx_u, so V(b) = G/(G − 1) · Σ_u (Sxy_u − b·Sxx_u)² / (ΣSxx)² and
t = b/√V with G − 1 df; r shares the slope's t and p. G counts units with T_u ≥ 2 (a unit seen
once has nothing within it). The factor is statsmodels' CR1 for OLS of ỹ on x̃ without a
constant (K = 1, so its (N − 1)/(N − K) is 1) with ``cov_type="cluster"`` by unit and
``use_t=True``. Stata's ``xtreg, fe vce(cluster)`` differs by (N − 1)/(N − 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from .common import FEW_UNITS, FloatArray


@dataclass(frozen=True)
class WithinClusterArrays:
    """Within slopes and r with cluster-robust t tests, one element per leading index."""

    slope: FloatArray
    r: FloatArray
    se: FloatArray
    statistic: FloatArray
    p: FloatArray
    df: FloatArray
    units: FloatArray
    n: FloatArray


@dataclass(frozen=True)
class WithinClusterResult:
    """One within-unit slope (y units per x unit) and r, with a cluster-robust t test."""

    slope: float
    r: float
    se: float
    statistic: float
    p: float
    slope_low: float
    slope_high: float
    df: float
    units: int
    n: int
    warnings: tuple[str, ...]


def unit_demeaned_sums(
    x: npt.ArrayLike, y: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Sxy, Sxx, Syy and T per unit from panels … × units × periods (NaN = missing).

    Each unit is demeaned over the periods where both x and y are present (pairwise
    complete). Returns arrays of shape … × units.
    """
    x_array, y_array = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    both = np.isfinite(x_array) & np.isfinite(y_array)
    periods = both.sum(axis=-1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = np.where(both, x_array, 0.0).sum(axis=-1) / periods
        y_mean = np.where(both, y_array, 0.0).sum(axis=-1) / periods
    x_centred = np.where(both, x_array - x_mean[..., None], 0.0)
    y_centred = np.where(both, y_array - y_mean[..., None], 0.0)
    sxy = (x_centred * y_centred).sum(axis=-1)
    return sxy, (x_centred**2).sum(axis=-1), (y_centred**2).sum(axis=-1), periods


def within_cluster_arrays(
    sxy: npt.ArrayLike, sxx: npt.ArrayLike, syy: npt.ArrayLike, periods: npt.ArrayLike
) -> WithinClusterArrays:
    """Vectorised within slope, r and cluster-robust t test; units on the last axis.

    Method: module docstring. NaN where fewer than two units contribute or x (or y) does not
    vary within any unit.
    """
    sxy_a, sxx_a, syy_a, periods_a = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (sxy, sxx, syy, periods))
    )
    used = (periods_a >= 2) & np.isfinite(sxy_a) & np.isfinite(sxx_a) & np.isfinite(syy_a)
    sxy_a, sxx_a, syy_a = (np.where(used, a, 0.0) for a in (sxy_a, sxx_a, syy_a))
    total_xy, total_xx, total_yy = sxy_a.sum(-1), sxx_a.sum(-1), syy_a.sum(-1)
    units = used.sum(axis=-1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = total_xy / total_xx
        r = np.clip(total_xy / np.sqrt(total_xx * total_yy), -1.0, 1.0)
        scores = sxy_a - slope[..., None] * sxx_a
        se = np.sqrt(units / (units - 1) * (scores**2).sum(axis=-1)) / total_xx
        statistic = slope / se
    df = units - 1
    usable = (df >= 1) & np.isfinite(statistic) & (total_yy > 0)
    safe_df = np.where(usable, df, 1.0)
    p = np.where(usable, 2.0 * special.stdtr(safe_df, -np.abs(statistic)), np.nan)
    n = np.where(used, periods_a, 0.0).sum(axis=-1)
    return WithinClusterArrays(slope, r, se, statistic, p, df, units, n)


def within_cluster(
    sxy: npt.ArrayLike,
    sxx: npt.ArrayLike,
    syy: npt.ArrayLike,
    periods: npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> WithinClusterResult:
    """Within-unit slope and r of one metric pair with a cluster-robust (by unit) t test.

    One element per unit (see the module docstring for inputs and method). The slope interval
    is b ± t(G − 1)·SE. Warnings: "few_units" (G < 10: the sandwich is then noisy and CR1
    liberal), "too_few_units" (G < 2), "constant_within" (no within-unit variation).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    cell = within_cluster_arrays(sxy, sxx, syy, periods)
    units, df = int(cell.units), float(cell.df)
    half = -float(special.stdtrit(max(df, 1.0), (1.0 - confidence) / 2.0)) * float(cell.se)
    checks = (
        ("few_units", units < FEW_UNITS),
        ("too_few_units", units < 2),
        ("constant_within", units >= 2 and not math.isfinite(float(cell.r))),
    )
    slope = float(cell.slope)
    return WithinClusterResult(
        slope=slope,
        r=float(cell.r),
        se=float(cell.se),
        statistic=float(cell.statistic),
        p=float(cell.p),
        slope_low=slope - half if df >= 1 else math.nan,
        slope_high=slope + half if df >= 1 else math.nan,
        df=df,
        units=units,
        n=int(cell.n),
        warnings=tuple(name for name, flagged in checks if flagged),
    )


def lagged_within_cluster(
    panels: npt.ArrayLike,
    x_indexes: npt.ArrayLike,
    y_indexes: npt.ArrayLike,
    lag: int,
    *,
    confidence: float = 0.95,
) -> tuple[WithinClusterArrays, FloatArray, FloatArray]:
    """Cluster-robust within-unit slope and p for many (x, y) metric pairs at one lag.

    ``panels`` is metrics × units × periods; pair i pairs X = metric ``x_indexes[i]`` at t
    with Y = metric ``y_indexes[i]`` at t + ``lag`` (shifted by period within unit, as
    `lagged_pairs`). Returns the arrays (one element per pair) and the slope interval
    b ± t(G − 1)·SE. Used instead of the repeated-measures p, which treats a unit's periods
    as independent and runs above its level with autocorrelated monthly metrics.
    """
    values = np.asarray(panels, dtype=float)
    periods = values.shape[-1]
    x_window = slice(max(0, -lag), max(0, periods - max(0, lag)))
    y_window = slice(max(0, lag), max(0, periods + min(0, lag)))
    x_part = values[np.asarray(x_indexes, dtype=int)][..., x_window]
    y_part = values[np.asarray(y_indexes, dtype=int)][..., y_window]
    cell = within_cluster_arrays(*unit_demeaned_sums(x_part, y_part))
    usable = cell.df >= 1
    critical = np.where(
        usable, -special.stdtrit(np.where(usable, cell.df, 1.0), (1.0 - confidence) / 2.0), np.nan
    )
    return cell, cell.slope - critical * cell.se, cell.slope + critical * cell.se
