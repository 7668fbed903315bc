"""Mean of a multi-item metric (a grid of items averaged into one score), clustered by
respondent: one respondent's answers to the items of a grid are correlated, so they are not
independent observations and n is the number of respondents, not of item answers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from scipy import stats

from .common import LOW_N, _critical_z
from .means import _CANCELLATION, MeanArrays, MeanResult


@dataclass(frozen=True)
class RespondentSums:
    """Additive sufficient statistics of a grid, over respondents i with m_i ≥ 1 answered items.

    y_i is respondent i's sum of item answers. Two cells' sums add field by field (``+``).
    """

    respondents: float  # R
    items: float  # Σ m_i, the item answers
    total: float  # Σ y_i
    total_squares: float  # Σ y_i²
    items_squares: float  # Σ m_i²
    total_items: float  # Σ y_i·m_i

    def __add__(self, other: RespondentSums) -> RespondentSums:
        return RespondentSums(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )


def respondent_sums(grid: npt.ArrayLike) -> RespondentSums:
    """`RespondentSums` of a respondents × items grid (NaN = unanswered; empty rows dropped)."""
    answers = np.asarray(grid, dtype=np.float64)
    if answers.ndim != 2:
        raise ValueError("grid must be two-dimensional: respondents × items")
    answered = np.isfinite(answers)
    counts = answered.sum(axis=1).astype(float)
    totals = np.where(answered, answers, 0.0).sum(axis=1)
    counts, totals = counts[counts > 0], totals[counts > 0]
    return RespondentSums(
        respondents=float(counts.size),
        items=float(counts.sum()),
        total=float(totals.sum()),
        total_squares=float(totals @ totals),
        items_squares=float(counts @ counts),
        total_items=float(totals @ counts),
    )


def multi_item_mean(
    sums: RespondentSums, *, confidence: float = 0.95, min_n: int = 2
) -> MeanResult:
    """Mean of all item answers with a respondent-clustered (sandwich) t interval.

    Method (Liang & Zeger 1986; Cameron & Miller 2015 §II): μ = Σy_i / Σm_i is the OLS
    intercept on item-level answers; each respondent contributes the score y_i − μ·m_i, so
    Var(μ) = R/(R − 1) · Σ(y_i − μ·m_i)² / (Σm_i)², with Σ(y_i − μ·m_i)² = Σy_i² − 2μ·Σy_i·m_i
    + μ²·Σm_i²; CI μ ± t(R − 1)·SE. Equals statsmodels' OLS intercept with
    ``cov_type="cluster"`` by respondent and ``use_t=True`` (its CR1 factor is R/(R − 1) here,
    as (N − 1)/(N − K) = 1 for K = 1). Assumes respondents independent; items of one
    respondent may correlate freely. ``n`` is R; ``sd`` is the respondent-level SD implied by
    the SE (SE·√R), so `compare` of two such results uses the clustered SEs. Below ``min_n``
    respondents: no interval ("too_few"); no spread between respondents' scores: no interval
    ("no_variation").
    """
    _critical_z(confidence)
    respondents, items = sums.respondents, sums.items
    if not (respondents >= 1 and items >= 1):
        return MeanResult(None, respondents, None, None, None, None, ("no_data",))
    mean = sums.total / items
    scores = sums.total_squares - 2.0 * mean * sums.total_items + mean**2 * sums.items_squares
    scores = scores if scores > _CANCELLATION * sums.total_squares else 0.0
    warnings = ["low_n"] if respondents < LOW_N else []
    if respondents < max(min_n, 2) or scores == 0.0:
        warnings += ["too_few" if respondents < max(min_n, 2) else "no_variation", "no_interval"]
        return MeanResult(mean, respondents, None, None, None, None, tuple(warnings))
    se = math.sqrt(respondents / (respondents - 1) * scores) / items
    half = float(stats.t.ppf(0.5 + confidence / 2.0, respondents - 1)) * se
    sd = se * math.sqrt(respondents)
    return MeanResult(mean, respondents, sd, se, mean - half, mean + half, tuple(warnings))


def multi_item_arrays(
    sums: Sequence[npt.ArrayLike], *, confidence: float = 0.95, min_n: int = 2
) -> MeanArrays:
    """``multi_item_mean`` for many cells: ``sums`` are the six `RespondentSums` fields as
    arrays (respondents, items, total, total_squares, items_squares, total_items).

    Same method; ``n`` is the number of respondents. No interval (NaN) below ``min_n``
    respondents or without spread between respondents' scores.
    """
    _critical_z(confidence)
    respondents, items, total, total_squares, items_squares, total_items = (
        np.asarray(array, dtype=np.float64) for array in np.broadcast_arrays(*sums)
    )
    valid = (respondents >= 1) & (items >= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / items
        scores = total_squares - 2.0 * mean * total_items + mean**2 * items_squares
        scores = np.where(scores > _CANCELLATION * np.abs(total_squares), scores, 0.0)
        shown = valid & (respondents >= max(min_n, 2)) & (scores > 0)
        se = np.sqrt(respondents / (respondents - 1) * scores) / items
        critical = stats.t.ppf(0.5 + confidence / 2.0, np.where(shown, respondents - 1, np.nan))
        sd = se * np.sqrt(respondents)
    mean = np.where(valid, mean, np.nan)
    se, sd = np.where(shown, se, np.nan), np.where(shown, sd, np.nan)
    return MeanArrays(mean, respondents, sd, se, mean - critical * se, mean + critical * se)
