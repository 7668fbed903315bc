"""Plausibility flags for estimates and straight-lining in answer grids."""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

from .common import LOW_N, BoolArray

CEILING_SHARE = 95.0  # top-box share (percent) that is suspicious on a large sample ...
CEILING_MIN_N = 100  # ... of at least this many answers
STRAIGHT_LINING_MIN_ITEMS = 3
STRAIGHT_LINING_SHARE = 0.25  # share of a cell's respondents that flags the cell


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
    thresholds = {"low_n": low_n, "ceiling_share": ceiling_share, "ceiling_min_n": ceiling_min_n}
    if aggregation is not None:
        return plausibility_flags_cells(aggregation, np.asarray(statistics), **thresholds)
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
