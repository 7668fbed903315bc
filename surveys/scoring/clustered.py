"""Cluster-robust changes for parent units whose respondents are clustered (stores, units).

A region's respondents come in stores, and answers from one store (and one store-month) are
correlated: the i.i.d. z of `compare` then understates the SE and calls noise a change. Here
the change in a ratio mean (NPS codes, top-box share, mean answer) and the difference in
differences of an initiative get the cluster-robust (linearisation / sandwich) SE with the
CR1 small-sample factor and t with G − 1 df (Liang & Zeger 1986; Cameron & Miller 2015,
J. Human Resources 50(2):317–372, §II–VI).

Inputs are per-cluster sufficient statistics, one array element per cluster (store), aligned
across periods so a store that appears in both periods is one cluster: the answer count n and
the sum of the coded outcome, ``total``:

- NPS: total = promoters − detractors (codes +1/0/−1), ``scale=100`` for points;
- top-box share or rate: total = hits, ``scale=100`` for percentage points;
- mean: total = sum of answers, ``scale=1``.

Method: each cell mean is a ratio m_c = Σ_g total_gc / Σ_g n_gc; its linearised influence of
cluster g is u_gc / N_c with u_gc = total_gc − n_gc·m_c. A contrast Σ_c w_c·m_c has variance
c · Σ_g (Σ_c w_c·u_gc / N_c)², with c = G/(G − 1)·(N − 1)/(N − K) (K = cells). Summing the
cells within a cluster before squaring carries the covariance between periods of one store.
This equals statsmodels' OLS of the respondent-level coded outcome on the cell dummies with
``cov_type="cluster"`` (its default correction is this c) and ``use_t=True`` (t, G − 1 df).
Sums of squares are not needed: the sandwich only uses cluster totals of residuals.

Limits: CR1 with t(G − 1) holds its level with a dozen similar-sized clusters (simulated
5.2 % at 14 stores, ICC ≈ 0.07) but runs liberal when cluster sizes differ a lot (≈ 6.5 %
with log-normal store sizes, σ = 0.5) or with fewer clusters; Cameron & Miller (2015, §VI)
suggest the wild cluster bootstrap there. Hence the "few_clusters" warning below 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from .common import FloatArray, _critical_z, _floats
from .comparisons import Comparison, _untested
from .significance import is_significant

FEW_CLUSTERS = 10  # fewer clusters than this → "few_clusters" (CR1 p-values run liberal)


@dataclass(frozen=True)
class ClusteredArrays:
    """Cluster-robust contrasts, one element per data set (leading axes of the inputs)."""

    difference: FloatArray
    se: FloatArray
    statistic: FloatArray
    p_value: FloatArray
    df: FloatArray
    clusters: FloatArray
    n: FloatArray


def _contrast(n: FloatArray, total: FloatArray, weights: FloatArray) -> ClusteredArrays:
    """Contrast Σ_c w_c·m_c of ratio means with its CR1 SE; cells on the last axis of
    ``n``/``total`` (shape … × clusters × cells), clusters on the axis before."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_n = n.sum(axis=-2)
        means = total.sum(axis=-2) / cell_n
        residual = total - n * means[..., None, :]
        influence = (residual * (weights / cell_n)[..., None, :]).sum(axis=-1)
        clusters = (n.sum(axis=-1) > 0).sum(axis=-1).astype(float)
        answers = cell_n.sum(axis=-1)
        factor = clusters / (clusters - 1) * (answers - 1) / (answers - weights.size)
        se = np.sqrt(factor * (influence**2).sum(axis=-1))
        difference = (weights * means).sum(axis=-1)
        statistic = difference / se
    df = clusters - 1
    usable = (df >= 1) & np.isfinite(statistic)
    p_value = np.where(
        usable, 2.0 * special.stdtr(np.where(usable, df, 1), -np.abs(statistic)), np.nan
    )
    return ClusteredArrays(difference, se, statistic, p_value, df, clusters, answers)


def clustered_change_arrays(
    first_n: npt.ArrayLike,
    first_total: npt.ArrayLike,
    second_n: npt.ArrayLike,
    second_total: npt.ArrayLike,
) -> ClusteredArrays:
    """Vectorised cluster-robust change second − first (unscaled), clusters on the last axis.

    Leading axes index independent data sets (e.g. simulations or units × metrics); see the
    module docstring for the method. NaN where a period has no answers or G < 2.
    """
    arrays = _floats(first_n, first_total, second_n, second_total)
    n = np.stack([arrays[0], arrays[2]], axis=-1)
    total = np.stack([arrays[1], arrays[3]], axis=-1)
    return _contrast(n, total, np.array([-1.0, 1.0]))


def _comparison(
    cell: ClusteredArrays, scale: float, confidence: float, method: str, warnings: list[str]
) -> Comparison:
    """A scalar contrast as a `Comparison` (scaled; t interval with G − 1 df)."""
    difference, se = scale * float(cell.difference), scale * float(cell.se)
    if cell.clusters < 2 or not math.isfinite(difference):
        return _untested(method, [*warnings, "too_few_clusters"])
    if cell.clusters < FEW_CLUSTERS:
        warnings = [*warnings, "few_clusters"]
    if not se > 0:
        return _untested(method, [*warnings, "zero_variance"], difference=difference)
    df = float(cell.df)
    half = -float(special.stdtrit(df, (1.0 - confidence) / 2.0)) * se
    p_value = float(cell.p_value)
    return Comparison(
        difference=difference,
        se=se,
        statistic=float(cell.statistic),
        p_value=p_value,
        ci_low=difference - half,
        ci_high=difference + half,
        significant=is_significant(p_value, confidence),
        method=method,
        warnings=tuple(warnings),
        df=df,
    )


def clustered_change(
    first_n: npt.ArrayLike,
    first_total: npt.ArrayLike,
    second_n: npt.ArrayLike,
    second_total: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    scale: float = 1.0,
) -> Comparison:
    """Change second − first of a parent unit's ratio mean with a cluster-robust t test.

    One array element per cluster (store), the same store at the same index in both periods
    (n = 0 where it had no answers). Method and inputs: module docstring. Warnings:
    "few_clusters" (G < 10), "too_few_clusters" (G < 2: untested), "zero_variance".
    """
    _critical_z(confidence)
    cell = clustered_change_arrays(first_n, first_total, second_n, second_total)
    method = "cluster-robust t (linearised ratio means, CR1, G - 1 df)"
    return _comparison(cell, scale, confidence, method, [])


def difference_in_differences_arrays(
    treated: npt.ArrayLike,
    before_n: npt.ArrayLike,
    before_total: npt.ArrayLike,
    after_n: npt.ArrayLike,
    after_total: npt.ArrayLike,
) -> ClusteredArrays:
    """Vectorised DiD (treated after − before) − (untreated after − before), units last."""
    flag, *sums = _floats(treated, before_n, before_total, after_n, after_total)
    flag = (flag > 0).astype(float)
    cells = [(1.0 - flag), (1.0 - flag), flag, flag]  # untreated/treated × before/after
    n = np.stack(
        [cells[0] * sums[0], cells[1] * sums[2], cells[2] * sums[0], cells[3] * sums[2]], axis=-1
    )
    total = np.stack(
        [cells[0] * sums[1], cells[1] * sums[3], cells[2] * sums[1], cells[3] * sums[3]], axis=-1
    )
    return _contrast(n, total, np.array([1.0, -1.0, -1.0, 1.0]))


def difference_in_differences(
    treated: npt.ArrayLike,
    before_n: npt.ArrayLike,
    before_total: npt.ArrayLike,
    after_n: npt.ArrayLike,
    after_total: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    scale: float = 1.0,
) -> Comparison:
    """Difference in differences of an initiative with a cluster-robust (by unit) t test.

    Method (Angrist & Pischke 2009, Mostly Harmless Econometrics §5.2; Bertrand, Duflo &
    Mullainathan 2004 on clustering by unit): DiD = (m_TA − m_TB) − (m_UA − m_UB) of ratio
    means over treated (T) and untreated (U) units before (B) and after (A); the coefficient
    of treated × after in OLS of the respondent-level outcome on treated, after and their
    product, with the CR1 SE clustered by unit (K = 4) and t with G − 1 df. One element per
    unit: ``treated`` (bool), answer counts and outcome totals per period (module docstring);
    pass n = 1 and total = the unit's value to weight units equally. Assumes parallel trends.
    """
    _critical_z(confidence)
    cell = difference_in_differences_arrays(treated, before_n, before_total, after_n, after_total)
    method = "difference in differences, cluster-robust t by unit (CR1, G - 1 df)"
    groups = np.asarray(treated, dtype=bool)
    warnings = [] if groups.any() and not groups.all() else ["no_comparison_group"]
    return _comparison(cell, scale, confidence, method, warnings)


@dataclass(frozen=True)
class PooledClusters:
    """Clusters after pooling: ``labels`` the kept clusters' labels (a pool takes the label
    it was given), ``n`` and ``total`` periods × clusters; ``dropped`` counts pools left out
    because they were smaller than the threshold in a period."""

    labels: npt.NDArray[np.int64]
    n: FloatArray
    total: FloatArray
    dropped: int


def pool_clusters(
    labels: npt.ArrayLike,
    n: npt.ArrayLike,
    total: npt.ArrayLike,
    pool: npt.ArrayLike,
    *,
    minimum: int = 0,
) -> PooledClusters:
    """Merge the clusters marked for pooling into one pseudo-cluster per pool label.

    ``labels`` names the G clusters; ``n`` and ``total`` are periods × G (module docstring);
    ``pool[g]`` is the pool label cluster g is merged into, or −1 to keep it as it is. A pool
    is the sum of its clusters' n and total in each period. A pool with 0 < n < ``minimum``
    answers in any period is dropped (both periods), so no pool smaller than the anonymity
    threshold enters a test.

    Why it stays honest: the cluster-robust (sandwich) variance only needs clusters that are
    independent of each other; a union of independent clusters is again independent of the
    rest, so clustering at a coarser level is valid (Cameron & Miller 2015, J. Human
    Resources 50(2), §IV.A: "larger and fewer clusters" trade bias for variance; Bertrand,
    Duflo & Mullainathan 2004 aggregate to the group for the same reason). The price is fewer
    clusters: G − 1 df and the CR1 factor widen the interval, and the t test keeps its level.
    Used to keep hidden (suppressed) groups out of a published test except through their
    pooled total, which the published parent less its shown children already gives.
    """
    ids = np.asarray(labels, dtype=np.int64)
    into = np.asarray(pool, dtype=np.int64)
    counts, sums = _floats(n, total)
    counts, sums = np.atleast_2d(counts), np.atleast_2d(sums)
    keep = into < 0
    out_labels, out_n, out_total, dropped = [ids[keep]], [counts[:, keep]], [sums[:, keep]], 0
    for label in np.unique(into[~keep]):
        members = into == label
        pooled_n = counts[:, members].sum(axis=1, keepdims=True)
        if ((pooled_n > 0) & (pooled_n < minimum)).any():
            dropped += 1
            continue
        out_labels.append(np.array([label], dtype=np.int64))
        out_n.append(pooled_n)
        out_total.append(sums[:, members].sum(axis=1, keepdims=True))
    return PooledClusters(
        labels=np.concatenate(out_labels),
        n=np.concatenate(out_n, axis=1),
        total=np.concatenate(out_total, axis=1),
        dropped=dropped,
    )
