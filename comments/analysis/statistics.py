"""Themes × scores: which themes detractors raise more than promoters, and themes over time.

Shares are in percent of a group's comments (a comment has one theme, or "other"). Groups are
score ranges the caller defines (NPS/eNPS detractors 0-6 vs promoters 9-10, CSAT 1-2 vs 4-5).
A group with fewer than ``min_group_size`` comments (default 10, STATISTICS.md rule 12: comments
are shown only for groups of at least 10) returns no counts, shares or test at all. Counting
comments is conservative (commenters ≤ respondents); complementary suppression across an org
tree (a parent minus its visible children) is the caller's job, where the tree is known.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MIN_GROUP_SIZE = 10
_SMALL_EXPECTED = 5.0


@dataclass(frozen=True)
class ScoreGroups:
    """Two inclusive score ranges to contrast, with plural names for sentences."""

    low: tuple[float, float]
    high: tuple[float, float]
    low_name: str
    high_name: str


NPS_GROUPS = ScoreGroups(low=(0, 6), high=(9, 10), low_name="detractors", high_name="promoters")
CSAT_GROUPS = ScoreGroups(
    low=(1, 2), high=(4, 5), low_name="dissatisfied customers", high_name="satisfied customers"
)


@dataclass(frozen=True)
class ThemeContrast:
    """One theme's share among the low vs the high group, the test and a plain sentence.

    Counts and shares of a group below the minimum size are None, as are the test fields then;
    ``difference`` is low share minus high share in percentage points.
    """

    theme_id: int
    label: str
    low_count: int | None
    low_total: int | None
    low_share: float | None
    high_count: int | None
    high_total: int | None
    high_share: float | None
    difference: float | None
    z: float | None
    p_value: float | None
    q_value: float | None
    sentence: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemeTrends:
    """Comments per unit × period × theme; NaN where a cell is below the minimum group size.

    ``counts`` and ``shares`` (percent of the cell's comments) are units × periods × themes,
    ``totals`` units × periods; ``suppressed`` marks cells with 1..min_group_size-1 comments.
    Axis labels are the sorted distinct values given.
    """

    units: tuple[Hashable, ...]
    periods: tuple[Hashable, ...]
    theme_ids: tuple[int, ...]
    counts: FloatArray
    totals: FloatArray
    shares: FloatArray
    suppressed: BoolArray


def two_proportion_z(
    low_count: int, low_total: int, high_count: int, high_total: int
) -> tuple[float, float] | None:
    """Pooled two-proportion z (score) test of p_low = p_high: (z, two-sided p), or None.

    z = (p1 − p2) / sqrt(p̄(1 − p̄)(1/n1 + 1/n2)) with p̄ = (x1 + x2)/(n1 + n2) (Agresti 2013,
    Categorical Data Analysis §2.1 / §3.1); p = erfc(|z|/√2). Same as statsmodels
    ``proportions_ztest`` (its default pooled variance). None when a group is empty or p̄ is 0
    or 1 (no comment, or every comment, has the theme: nothing to test).
    """
    if low_total <= 0 or high_total <= 0:
        return None
    pooled = (low_count + high_count) / (low_total + high_total)
    if pooled <= 0.0 or pooled >= 1.0:
        return None
    difference = low_count / low_total - high_count / high_total
    z = difference / math.sqrt(pooled * (1.0 - pooled) * (1.0 / low_total + 1.0 / high_total))
    return z, float(special.erfc(abs(z) / math.sqrt(2.0)))


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini & Hochberg (1995) q-values, q_(i) = min_{j ≥ i} min(1, m·p_(j)/j).

    NaN stays NaN and does not count in m (STATISTICS.md rule 9); same as
    ``scipy.stats.false_discovery_control(method="bh")`` on NaN-free input.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    q = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if m == 0:
        return q
    order = np.argsort(p[present], kind="stable")
    scaled = p[present][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q[present[order]] = adjusted
    return q


def _in_range(scores: FloatArray, bounds: tuple[float, float]) -> BoolArray:
    return (scores >= bounds[0]) & (scores <= bounds[1])


def _possessive(name: str) -> str:
    return name + "'" if name.endswith("s") else name + "'s"


def _q_text(q_value: float | None) -> str:
    if q_value is None:
        return ""
    return " (q < 0.001)" if q_value < 0.001 else f" (q = {q_value:.3f})"


def _sentence(label: str, contrast: ThemeContrast, groups: ScoreGroups) -> str:
    """Plain sentence: delivery: 31 % of detractors' comments vs 6 % of promoters' (q < 0.001)."""
    return (
        f"{label}: {contrast.low_share:.0f} % of {_possessive(groups.low_name)} comments vs "
        f"{contrast.high_share:.0f} % of {_possessive(groups.high_name)}"
        f"{_q_text(contrast.q_value)}"
    )


def _contrast(theme_id: int, label: str, counts: tuple[int, int, int, int]) -> ThemeContrast:
    """Shares, difference and z test for one theme from (x_low, n_low, x_high, n_high)."""
    low_count, low_total, high_count, high_total = counts
    low_share, high_share = 100.0 * low_count / low_total, 100.0 * high_count / high_total
    test = two_proportion_z(low_count, low_total, high_count, high_total)
    pooled = (low_count + high_count) / (low_total + high_total)
    expected = min(low_total, high_total) * min(pooled, 1.0 - pooled)
    warnings: tuple[str, ...] = ("no_variation",) if test is None else ()
    warnings += ("small_expected",) if test is not None and expected < _SMALL_EXPECTED else ()
    return ThemeContrast(
        theme_id, label, low_count, low_total, low_share, high_count, high_total, high_share,
        difference=low_share - high_share,
        z=None if test is None else test[0],
        p_value=None if test is None else test[1],
        q_value=None,
        sentence="",
        warnings=warnings,
    )  # fmt: skip


def _suppressed(theme_id: int, label: str, small: str, minimum: int) -> ThemeContrast:
    """A contrast with nothing returned: the ``small`` group(s) are below the minimum size."""
    sentence = f"{label}: not enough comments from {small} (fewer than {minimum})"
    return ThemeContrast(
        theme_id, label, None, None, None, None, None, None, None, None, None, None, sentence,
        warnings=("group_below_minimum",),
    )  # fmt: skip


def _small_groups(low: BoolArray, high: BoolArray, groups: ScoreGroups, minimum: int) -> str:
    """Names of the groups with fewer than ``minimum`` comments ("" when both are big enough)."""
    names = [
        name
        for name, members in ((groups.low_name, low), (groups.high_name, high))
        if members.sum() < minimum
    ]
    return " or ".join(names)


def contrast_themes(
    assignments: npt.ArrayLike,
    scores: npt.ArrayLike,
    labels: Mapping[int, str],
    *,
    groups: ScoreGroups = NPS_GROUPS,
    min_group_size: int = MIN_GROUP_SIZE,
) -> tuple[ThemeContrast, ...]:
    """Each theme's share of the low group's comments vs the high group's, with BH q-values.

    ``assignments`` holds a theme id per comment, ``scores`` the comment's score (NaN: no
    score, left out); ``labels`` maps the theme ids to test (in that order) to their labels.
    Test: pooled two-proportion z (``two_proportion_z``), two-sided; q-values by
    Benjamini-Hochberg across the themes tested (STATISTICS.md rule 9). "small_expected" warns
    that an expected count is below 5, where the normal approximation is rough (Cochran 1954).
    If either group has fewer than ``min_group_size`` comments, no theme returns counts, shares
    or a test ("not enough comments").
    """
    themes = np.asarray(assignments)
    values = np.asarray(scores, dtype=float)
    low, high = _in_range(values, groups.low), _in_range(values, groups.high)
    small = _small_groups(low, high, groups, min_group_size)
    contrasts = [
        _suppressed(theme_id, label, small, min_group_size)
        if small
        else _contrast(
            theme_id,
            label,
            (
                int(np.sum(low & (themes == theme_id))),
                int(low.sum()),
                int(np.sum(high & (themes == theme_id))),
                int(high.sum()),
            ),
        )
        for theme_id, label in labels.items()
    ]
    return _with_q_and_sentences(contrasts, groups)


def _with_q_and_sentences(
    contrasts: Sequence[ThemeContrast], groups: ScoreGroups
) -> tuple[ThemeContrast, ...]:
    """Fill in BH q-values across the tested themes and the sentences of unsuppressed themes."""
    p_values = [np.nan if c.p_value is None else c.p_value for c in contrasts]
    q_values = benjamini_hochberg(p_values)
    completed = []
    for contrast, q_value in zip(contrasts, q_values, strict=True):
        if contrast.low_share is None:
            completed.append(contrast)
            continue
        with_q = replace(contrast, q_value=None if np.isnan(q_value) else float(q_value))
        completed.append(replace(with_q, sentence=_sentence(contrast.label, with_q, groups)))
    return tuple(completed)


def theme_trends(
    units: Sequence[Hashable],
    periods: Sequence[Hashable],
    themes: npt.ArrayLike,
    *,
    min_group_size: int = MIN_GROUP_SIZE,
) -> ThemeTrends:
    """Counts and shares of each theme per unit and period, suppressing small cells.

    One entry per comment in each of ``units``, ``periods`` and ``themes`` (theme ids, "other"
    included as its own column). A cell (unit, period) with 1..``min_group_size``-1 comments
    returns NaN counts, total and shares and is flagged ``suppressed``; an empty cell has
    total 0 and NaN shares. Counting is one ``np.bincount`` over the flattened cell index.
    """
    if not len(units) == len(periods) == len(np.asarray(themes)):
        raise ValueError("units, periods and themes must have one entry per comment")
    unit_labels, unit_index = _factorize(units)
    period_labels, period_index = _factorize(periods)
    theme_labels, theme_index = _factorize(np.asarray(themes).tolist())
    shape = (len(unit_labels), len(period_labels), len(theme_labels))
    flat = np.ravel_multi_index((unit_index, period_index, theme_index), shape)
    counts = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(float)
    totals = counts.sum(axis=2)
    suppressed = (totals > 0) & (totals < min_group_size)
    counts[suppressed] = np.nan
    totals[suppressed] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = 100.0 * counts / totals[:, :, None]
    return ThemeTrends(
        units=unit_labels,
        periods=period_labels,
        theme_ids=tuple(int(theme) for theme in theme_labels),  # type: ignore[call-overload]
        counts=counts,
        totals=totals,
        shares=shares,
        suppressed=suppressed,
    )


def _factorize(values: Sequence[Hashable]) -> tuple[tuple[Hashable, ...], npt.NDArray[np.intp]]:
    """Sorted distinct values and each value's position among them."""
    labels = tuple(sorted(set(values)))  # type: ignore[type-var]
    position = {label: index for index, label in enumerate(labels)}
    return labels, np.fromiter((position[value] for value in values), dtype=np.intp)
