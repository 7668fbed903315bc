"""Plausibility flags for estimates and straight-lining in answer grids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt
from scipy import stats

from .common import LOW_N, BoolArray, FloatArray, _critical_z
from .proportions import _wilson

CEILING_SHARE = 95.0  # top-box share (percent) that is suspicious on a large sample ...
CEILING_MIN_N = 100  # ... of at least this many answers
STRAIGHT_LINING_MIN_ITEMS = 3
STRAIGHT_LINING_SHARE = 0.25  # the former share rule (`straight_lining_cells`), kept for reference
# Fewer respondents who answered a whole grid than this: the grid is not judged (a handful of
# people says little about a listening channel, and the binomial test has almost no power).
STRAIGHT_LINING_MIN_RESPONDENTS = 10
# Largest share of an item's answers one value is assumed to take in an honest population
# (the same 95 % as the ceiling rule): without it a grid of identical respondents would look
# "explained" by independence (every item answered with one value gives π = 1).
STRAIGHT_LINING_MAX_ITEM_SHARE = CEILING_SHARE / 100.0


@overload
def plausibility_flags(
    *,
    n: float,
    top_box_share: float | None = None,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> tuple[str, ...]: ...
@overload
def plausibility_flags(
    aggregation: str,
    statistics: npt.ArrayLike,
    /,
    *,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> list[list[str]]: ...
def plausibility_flags(
    aggregation: str | None = None,
    statistics: npt.ArrayLike | None = None,
    /,
    *,
    n: float | None = None,
    top_box_share: float | None = None,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> tuple[str, ...] | list[list[str]]:
    """Plausibility flags for one estimate: "low_n" and "too_good_to_be_true".

    "low_n": fewer than ``low_n`` answers. "too_good_to_be_true": a top-box share (percent)
    of at least ``ceiling_share`` on at least ``ceiling_min_n`` answers, where chance alone
    rarely produces it (solicited or gamed answers). Called positionally with an aggregation
    and rows of statistics, it is ``plausibility_flags_cells`` (the aggregation layer's form).
    """
    if aggregation is not None:
        return plausibility_flags_cells(
            aggregation,
            np.asarray(statistics),
            low_n=low_n,
            ceiling_share=ceiling_share,
            ceiling_min_n=ceiling_min_n,
        )
    if n is None:
        raise TypeError("plausibility_flags needs n= (or an aggregation and statistics)")
    flags = ["low_n"] if n < low_n else []
    if top_box_share is not None and n >= ceiling_min_n and top_box_share >= ceiling_share:
        flags.append("too_good_to_be_true")
    return tuple(flags)


def plausibility_flags_cells(
    aggregation: str,
    statistics: npt.ArrayLike,
    *,
    low_n: int = LOW_N,
    ceiling_share: float = CEILING_SHARE,
    ceiling_min_n: int = CEILING_MIN_N,
) -> list[list[str]]:
    """``plausibility_flags`` per cell from rows of sufficient statistics.

    Column 0 is the answer count n; for "nps" column 1 is promoters (the top box is 9-10), for
    "top_box" column 1 is hits. Other aggregations ("mean", "sum", "rate": a rate's direction
    is unknown) only get "low_n".
    """
    rows = np.atleast_2d(np.asarray(statistics, dtype=np.float64))
    n = rows[:, 0]
    too_good = np.zeros(len(n), dtype=bool)
    if aggregation in ("nps", "top_box") and rows.shape[1] > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = 100.0 * rows[:, 1] / n
        too_good = (n >= ceiling_min_n) & (share >= ceiling_share)
    few = n < low_n
    return [
        ["low_n"] * bool(small) + ["too_good_to_be_true"] * bool(good)
        for small, good in zip(few.tolist(), too_good.tolist(), strict=True)
    ]


def straight_lining(
    grid: npt.ArrayLike, *, min_items: int = STRAIGHT_LINING_MIN_ITEMS
) -> BoolArray:
    """Respondents (rows) who gave one identical answer to every item (column) of a grid.

    Non-finite cells are unanswered and ignored; a row needs at least ``min_items`` answered
    items to be flagged, since two equal answers say little.
    """
    answers = np.asarray(grid, dtype=np.float64)
    if answers.ndim != 2:
        raise ValueError("grid must be two-dimensional: respondents × items")
    answered = np.isfinite(answers)
    lowest = np.where(answered, answers, np.inf).min(axis=1, initial=np.inf)
    highest = np.where(answered, answers, -np.inf).max(axis=1, initial=-np.inf)
    return (answered.sum(axis=1) >= min_items) & (lowest == highest)


def straight_lining_cells(
    straight_liners: npt.ArrayLike,
    respondents: npt.ArrayLike,
    *,
    share: float = STRAIGHT_LINING_SHARE,
) -> BoolArray:
    """Cells where at least ``share`` of respondents gave one answer to a whole grid.

    A few straight-liners are normal (someone who is simply content); a large share suggests
    an inattentive or pressured listening channel. Cells without respondents are never flagged.
    """
    lined = np.asarray(straight_liners, dtype=np.float64)
    total = np.asarray(respondents, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (total > 0) & (lined / total >= share)


CEILING_CONFIDENCE = 0.95  # two-sided level of the Wilson bound the ceiling rule reads
STRAIGHT_LINING_ALPHA = 0.01  # one-sided level of the straight-lining excess test


def best_side_counts(
    aggregation: str,
    statistics: npt.ArrayLike,
    *,
    higher_is_better: bool = True,
    scale: tuple[float, float] | None = None,
) -> FloatArray:
    """Answers per cell at the metric's best end, from rows of sufficient statistics.

    Columns as `plausibility_flags_cells` (n first): "nps" → promoters; "top_box"/"rate" →
    hits, or misses when lower is better (0 % complaints: every answer at the best end);
    "mean" (n, sum, …) → a lower bound on the answers at the best scale point of an integer
    scale ``scale`` = (min, max): n·(mean − (max − 1)), or n·((min + 1) − mean) when lower is
    better, floored at 0 (any answer below the top point is at most max − 1). Other
    aggregations, or means without a scale: NaN.
    """
    rows = np.atleast_2d(np.asarray(statistics, dtype=np.float64))
    n = rows[:, 0]
    if aggregation == "nps" or (aggregation in ("top_box", "rate") and higher_is_better):
        return rows[:, 1].copy()
    if aggregation in ("top_box", "rate"):
        return n - rows[:, 1]
    if aggregation == "mean" and scale is not None:
        low, high = scale
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = rows[:, 1] / n
        reach = mean - (high - 1.0) if higher_is_better else (low + 1.0) - mean
        return n * np.clip(reach, 0.0, 1.0)
    return np.full(n.shape, np.nan)


def too_good_to_be_true(
    best: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    ceiling_share: float = CEILING_SHARE,
    confidence: float = CEILING_CONFIDENCE,
) -> BoolArray:
    """True where even the Wilson lower bound of the best-end share exceeds ``ceiling_share``.

    Rule: flag when the data reject, by the one-sided score test at (1 − confidence)/2, that
    the true share at the best end is at most 95 %: real customer and employee populations
    rarely exceed that (STATISTICS.md §1.4 benchmarks), so such a cell suggests solicited,
    filtered or gamed answers. Unlike "share ≥ 95 % on ≥ 100 answers" it has no cliff: a
    perfect score is flagged from n = 73 (n/(n + z²) > 0.95; 99/99 and 100/100 are), never
    at small n where 100 % is plausible by chance (30/30 arises with probability 0.95³⁰ ≈ 0.21
    from a 95 % population), and 97/100 is not (its bound 0.915). Wilson (1927).
    """
    z = _critical_z(confidence)
    best_array, n_array = np.broadcast_arrays(
        np.asarray(best, dtype=np.float64), np.asarray(n, dtype=np.float64)
    )
    valid = np.isfinite(best_array) & (n_array > 0) & (best_array >= 0) & (best_array <= n_array)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, _ = _wilson(best_array / n_array, n_array, z)
    return valid & (low > ceiling_share / 100.0)


def plausibility_flags_for_metric(
    aggregation: str,
    statistics: npt.ArrayLike,
    *,
    higher_is_better: bool = True,
    scale: tuple[float, float] | None = None,
    low_n: int = LOW_N,
) -> list[list[str]]:
    """Per-cell "low_n" and "too_good_to_be_true" by the Wilson-bound ceiling rule.

    Like `plausibility_flags_cells`, but the ceiling also covers rates in either direction and
    means at their scale's best end (`best_side_counts`), and it uses `too_good_to_be_true`
    instead of the share ≥ 95 % on ≥ 100 answers cliff.
    """
    rows = np.atleast_2d(np.asarray(statistics, dtype=np.float64))
    best = best_side_counts(aggregation, rows, higher_is_better=higher_is_better, scale=scale)
    good = too_good_to_be_true(best, rows[:, 0])
    few = rows[:, 0] < low_n
    return [
        ["low_n"] * bool(small) + ["too_good_to_be_true"] * bool(flag)
        for small, flag in zip(few.tolist(), good.tolist(), strict=True)
    ]


@dataclass(frozen=True)
class StraightLiningTest:
    """Straight-liners against what independent answers to the grid's items would give."""

    expected_share: FloatArray
    observed_share: FloatArray
    p_value: FloatArray
    flagged: BoolArray


def straight_lining_excess(
    item_counts: npt.ArrayLike,
    straight_liners: npt.ArrayLike,
    respondents: npt.ArrayLike,
    *,
    alpha: float = STRAIGHT_LINING_ALPHA,
    max_item_share: float = 1.0,
) -> StraightLiningTest:
    """One-sided binomial test of more straight-liners than independent answers predict.

    ``item_counts`` (… × items × values): how often each answer value was given to each item
    of the grid by the cell's respondents who answered every item; ``respondents`` is their
    number and ``straight_liners`` how many gave one identical answer to every item. If
    answers to different items were independent, a respondent straight-lines with probability
    π = Σ_v Π_items p_item(v); the cell is flagged when P(X ≥ k | Binomial(R, π)) < ``alpha``.
    Honest grids with skewed answers (most people content) then pass even with a quarter of
    straight-liners. Real items correlate (halo), so this flags only a clear excess.

    The item shares are estimated from the same respondents, so straight-liners raise π
    themselves and the plug-in test is conservative; at the extreme, a grid where every item
    got one single value has π = 1 and could never be flagged. ``max_item_share`` caps each
    p_item(v) (π = Σ_v Π_items min(p_item(v), cap)): the assumption that in an honest
    population no value takes more than that share of an item's answers
    (`STRAIGHT_LINING_MAX_ITEM_SHARE`, 95 %, the ceiling rule's). With the cap, 30 or more
    respondents giving one identical answer to a 3-item grid are flagged (0.857³⁰ < 0.01).
    """
    counts = np.asarray(item_counts, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.minimum(counts / counts.sum(axis=-1, keepdims=True), max_item_share)
        expected = np.prod(shares, axis=-2).sum(axis=-1)
        lined = np.asarray(straight_liners, dtype=np.float64)
        total = np.asarray(respondents, dtype=np.float64)
        observed = lined / total
    p_value = stats.binom.sf(lined - 1, total, np.clip(expected, 0.0, 1.0))
    p_value = np.where((total > 0) & np.isfinite(expected), p_value, np.nan)
    flagged = np.nan_to_num(p_value, nan=1.0) < alpha
    return StraightLiningTest(expected, observed, p_value, flagged)


@dataclass(frozen=True)
class GridCounts:
    """One grid's additive statistics per cell: respondents who answered every item, the
    straight-liners among them, and their answers per item × value (cells × items × values)."""

    respondents: FloatArray
    straight_liners: FloatArray
    item_counts: FloatArray


def straight_lining_flags(
    grids: list[GridCounts],
    *,
    alpha: float = STRAIGHT_LINING_ALPHA,
    min_respondents: int = STRAIGHT_LINING_MIN_RESPONDENTS,
    max_item_share: float = STRAIGHT_LINING_MAX_ITEM_SHARE,
) -> BoolArray:
    """Cells flagged for straight-lining in any of the grids that feed a metric.

    Each grid is judged as a whole, per respondent (`straight_lining_excess`), in cells with
    at least ``min_respondents`` who answered all of it; several grids share ``alpha``
    (Bonferroni: each is tested at alpha / number of grids), so a metric fed by two grids is
    not flagged twice as often by chance.
    """
    if not grids:
        return np.zeros(0, dtype=bool)
    flagged = np.zeros(len(grids[0].respondents), dtype=bool)
    for grid in grids:
        test = straight_lining_excess(
            grid.item_counts,
            grid.straight_liners,
            grid.respondents,
            alpha=alpha / len(grids),
            max_item_share=max_item_share,
        )
        flagged |= test.flagged & (np.asarray(grid.respondents) >= min_respondents)
    return flagged
