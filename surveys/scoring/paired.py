"""Change when the same respondents answer in both periods: paired t on per-respondent
differences of NPS codes, top-box indicators or answers (STATISTICS.md rule 4, §1.3)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from scipy import stats

from .common import LOW_N, FloatArray, _critical_z
from .comparisons import Comparison, _tested, _untested
from .means import _CANCELLATION
from .net_promoter import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, NPS_SCALE_MAX

NPS_POINTS = 100.0  # ``scale`` for NPS codes and 0/1 indicators: results in (percentage) points


def nps_codes(
    scores: npt.ArrayLike,
    *,
    promoter_min: float = NPS_PROMOTER_MIN,
    detractor_max: float = NPS_DETRACTOR_MAX,
) -> FloatArray:
    """Per-respondent NPS codes: +1 promoter, 0 passive, -1 detractor; NaN if not on 0..10.

    The mean of the codes is NPS as a fraction (Rocks 2016), so a paired test of code
    differences tests the change in NPS.
    """
    values = np.asarray(scores, dtype=np.float64)
    on_scale = np.isfinite(values) & (values >= 0) & (values <= NPS_SCALE_MAX)
    coded = np.select([values >= promoter_min, values <= detractor_max], [1.0, -1.0], 0.0)
    return np.where(on_scale, coded, np.nan)


def paired_change_from_sums(
    n: float,
    total: float,
    total_squares: float,
    *,
    confidence: float = 0.95,
    scale: float = 1.0,
) -> Comparison:
    """Paired t test from COUNT, SUM and SUM of squares of per-respondent differences d_i.

    Method (Student 1908; e.g. Rosner, Fundamentals of Biostatistics §8.3): mean d̄ = Σd/n,
    s_d² = (Σd² − (Σd)²/n)/(n − 1) (clamped at 0 below the sum of squares' precision),
    SE = s_d/√n, t = d̄/SE with n − 1 df, CI d̄ ± t·SE; everything times ``scale`` (100 for
    NPS codes or 0/1 indicators, giving points). Assumes respondents independent of each
    other and d̄ roughly normal; the pairing removes the between-respondent variance that an
    independent-groups test would wrongly count twice.
    """
    _critical_z(confidence)
    method = "paired t-test (per-respondent differences)"
    if not (math.isfinite(n) and math.isfinite(total) and math.isfinite(total_squares)):
        return _untested(method, ["invalid_counts"])
    if n < 2:
        return _untested(method, ["no_data" if n < 1 else "no_interval", "low_n"])
    mean = total / n
    squares = total_squares - total * mean
    squares = squares if squares > _CANCELLATION * abs(total_squares) else 0.0
    se = scale * math.sqrt(squares / (n - 1) / n)
    warnings = ["low_n"] if n < LOW_N else []
    law = stats.t(n - 1)
    return _tested(scale * mean, se, law, confidence, method=method, warnings=warnings, df=n - 1)


def paired_change(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    scale: float = 1.0,
) -> Comparison:
    """Paired change second − first from per-respondent values aligned by respondent.

    ``first[i]`` and ``second[i]`` belong to one respondent: NPS codes (`nps_codes`, with
    ``scale=100``), 0/1 top-box indicators (``scale=100``) or answers (scale units).
    Respondents missing either value are dropped ("nan_excluded"). Same method as
    `paired_change_from_sums`.
    """
    before = np.asarray(first, dtype=np.float64).ravel()
    after = np.asarray(second, dtype=np.float64).ravel()
    if before.shape != after.shape:
        raise ValueError("first and second must hold one value per respondent each")
    differences = (after - before)[np.isfinite(before) & np.isfinite(after)]
    result = paired_change_from_sums(
        differences.size,
        float(differences.sum()),
        float(differences @ differences),
        confidence=confidence,
        scale=scale,
    )
    dropped = ("nan_excluded",) if differences.size < before.size else ()
    return replace(result, warnings=result.warnings + dropped)
