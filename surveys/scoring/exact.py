"""Exact and permutation tests of a change between two small independent groups.

The z tests of `compare` rest on the normal approximation, which fails at small n: eNPS
6/0/0 vs 3/2/1 (promoters/passives/detractors) gets z p = 0.028, while splitting those twelve
answers every possible way shows a difference this large is common (exact p = 0.18). Here:

- NPS: exact permutation test of the difference in mean +1/0/-1 codes, enumerating every
  split of the pooled answers (the multivariate hypergeometric law of the first group's
  counts given the pooled counts). For 6/0/0 vs 3/2/1 it gives p = 2/11 = 0.1818, as does the
  Freeman–Halton exact test of the 2×3 table (they coincide here, not in general).
- Top-box shares / rates: Fisher's exact test (hypergeometric, two-sided by probability).
- Means: permutation test of the difference in means on the raw answers (all splits when
  there are at most ``MAX_EXACT_SPLITS``, else Monte Carlo with a caller-supplied generator).

Two-sided permutation p-values double the smaller one-sided exact p (capped at 1), the
convention of ``scipy.stats.permutation_test``. The intervals stay the usual small-sample
ones (adjusted Wald for NPS, Newcombe for shares, Welch t for means), so close to α the
interval and the exact p can disagree; ``significant`` follows the exact p.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from .common import LOW_N, FloatArray, _critical_z
from .comparisons import (
    Comparison,
    _compare_means,
    _compare_proportions,
    _pair_warnings,
    _untested,
    compare,
)
from .means import MeanResult, mean_interval_from_values
from .net_promoter import ADJUSTED_WALD_PSEUDO, NpsResult
from .proportions import ProportionResult
from .significance import is_significant

MIN_EXPECTED_COUNT = 5  # Cochran's rule for the chi-square / z approximation
MAX_EXACT_SPLITS = 100_000  # above this many splits, a Monte Carlo permutation test
PERMUTATION_RESAMPLES = 9999
_FISHER_TIES = 1e-7  # relative tolerance for "as probable as observed" (R's fisher.test)
_SUM_TIES = 1e-12  # relative tolerance for "as extreme as observed" on sums of answers


def _log_choose(n: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
    """log C(n, k) through log-gamma (exact enough for probabilities to ~1e-13)."""
    n_array, k_array = np.asarray(n, dtype=float), np.asarray(k, dtype=float)
    return (
        special.gammaln(n_array + 1)
        - special.gammaln(k_array + 1)
        - special.gammaln(n_array - k_array + 1)
    )


def _doubled_tail(probabilities: FloatArray, statistic: FloatArray, observed: float) -> float:
    """Two-sided p = 2·min(P(T ≤ t), P(T ≥ t)), capped at 1, from an exact null law."""
    slack = _SUM_TIES * max(abs(observed), 1.0)
    lower = probabilities[statistic <= observed + slack].sum()
    upper = probabilities[statistic >= observed - slack].sum()
    return float(min(1.0, 2.0 * min(lower, upper) / probabilities.sum()))


def nps_permutation_p(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """Exact two-sided permutation p for a change in NPS, from (promoters, passives, detractors).

    Method: under H0 (both groups from one population) every split of the pooled answers into
    groups of the observed sizes is equally likely, so the first group's counts follow the
    multivariate hypergeometric law; the statistic is the difference in mean +1/0/-1 codes,
    a decreasing function of the first group's code sum. Enumerates all count tables
    (O(P·D) work), not all splits. Assumes exchangeable answers (independent groups).
    """
    pooled = np.add(first, second)
    size = sum(first)
    promoters, detractors = np.meshgrid(
        np.arange(min(pooled[0], size) + 1), np.arange(min(pooled[2], size) + 1), indexing="ij"
    )
    passives = size - promoters - detractors
    possible = (passives >= 0) & (passives <= pooled[1])
    log_p = (
        _log_choose(pooled[0], promoters)
        + _log_choose(pooled[1], np.where(possible, passives, 0))
        + _log_choose(pooled[2], detractors)
        - _log_choose(pooled.sum(), size)
    )
    probabilities = np.where(possible, np.exp(log_p), 0.0).ravel()
    code_sums = (promoters - detractors).ravel().astype(float)
    return _doubled_tail(probabilities, code_sums, float(first[0] - first[2]))


def fisher_exact_p(first: tuple[int, int], second: tuple[int, int]) -> float:
    """Two-sided Fisher exact p for two shares, from (hits, answers) per group.

    Method (Fisher 1935; Agresti 2002 §3.5): given both margins, the first group's hits follow
    the hypergeometric law; p sums the probabilities of every table no more probable than the
    observed one (relative tolerance 1e-7 for ties, as R's ``fisher.test``).
    """
    (hits_first, n_first), (hits_second, n_second) = first, second
    hits = hits_first + hits_second
    support = np.arange(max(0, hits - n_second), min(hits, n_first) + 1)
    log_p = (
        _log_choose(n_first, support)
        + _log_choose(n_second, hits - support)
        - _log_choose(n_first + n_second, hits)
    )
    probabilities = np.exp(log_p)
    observed = probabilities[support == hits_first][0]
    p_value = probabilities[probabilities <= observed * (1.0 + _FISHER_TIES)].sum()
    return float(min(1.0, p_value / probabilities.sum()))


def _splits(size: int, chosen: int, rng: np.random.Generator | None, resamples: int) -> Any:
    """Index sets of the first group: all C(size, chosen) splits, or random ones, or None."""
    if math.comb(size, chosen) <= MAX_EXACT_SPLITS:
        return np.array(list(itertools.combinations(range(size), chosen)), dtype=np.intp), True
    if rng is None:
        return None, False
    orders = rng.permuted(np.tile(np.arange(size), (resamples, 1)), axis=1)
    return orders[:, :chosen], False


def mean_permutation_p(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    *,
    rng: np.random.Generator | None = None,
    resamples: int = PERMUTATION_RESAMPLES,
) -> tuple[float | None, bool]:
    """Two-sided permutation p for a difference in means and whether it is exact.

    Method (Fisher 1935; Good 2005): the statistic is mean(second) − mean(first), a
    decreasing function of the first group's sum. All splits of the pooled answers when there
    are at most ``MAX_EXACT_SPLITS`` (exact p), else ``resamples`` random splits from ``rng``
    with Phipson & Smyth's (2010) (b + 1)/(m + 1) per tail; None without ``rng`` then.
    Non-finite answers are dropped.
    """
    values = [np.asarray(group, dtype=float).ravel() for group in (first, second)]
    values = [group[np.isfinite(group)] for group in values]
    pooled = np.concatenate(values)
    chosen, exact = _splits(pooled.size, values[0].size, rng, resamples)
    if chosen is None:
        return None, False
    sums = pooled[chosen].sum(axis=1)
    if exact:
        weights = np.ones(sums.size)
        return _doubled_tail(weights, sums, float(values[0].sum())), True
    observed, slack = float(values[0].sum()), _SUM_TIES * max(abs(values[0].sum()), 1.0)
    tails = [np.count_nonzero(sums <= observed + slack), np.count_nonzero(sums >= observed - slack)]
    return float(min(1.0, 2.0 * (min(tails) + 1) / (sums.size + 1))), False


def exact_test_needed(first: Any, second: Any) -> bool:
    """The small-sample rule: True when the normal approximation of `compare` is not trusted.

    Either group has fewer than ``LOW_N`` (30) answers, or (NPS, shares) some category that
    occurs at all has an expected count below 5 in a group under H0 (Cochran 1954's rule for
    chi-square and z approximations): expected = group n × pooled category count / pooled n.
    """
    if min(first.n, second.n) < LOW_N:
        return True
    if isinstance(first, NpsResult):
        totals = np.array([first.promoters, first.passives, first.detractors]) + np.array(
            [second.promoters, second.passives, second.detractors]
        )
    elif isinstance(first, ProportionResult):
        totals = np.array([first.k + second.k, first.n - first.k + second.n - second.k])
    else:
        return False
    totals = totals[totals > 0]
    smallest_expected = min(first.n, second.n) * totals.min() / (first.n + second.n)
    return bool(smallest_expected < MIN_EXPECTED_COUNT)


def _whole(*counts: float) -> tuple[int, ...] | None:
    """Counts as ints, or None when any is not a whole non-negative number."""
    if not all(math.isfinite(count) and count >= 0 and count == round(count) for count in counts):
        return None
    return tuple(int(round(count)) for count in counts)


def _adjusted_wald_difference(
    first: NpsResult, second: NpsResult, confidence: float
) -> tuple[float, float, float]:
    """SE and limits (points) of the adjusted-Wald NPS difference (Sauro & Lewis 2021).

    Each group gets 0.75 promoters, 1.5 passives and 0.75 detractors (n + 3); the difference
    of adjusted NPS ± z·sqrt(var1/n1 + var2/n2) with trinomial variances, clipped to ±200.
    """
    extra_promoters, extra_passives, extra_detractors = ADJUSTED_WALD_PSEUDO
    values, variance = [], 0.0
    for group in (first, second):
        n = group.n + extra_promoters + extra_passives + extra_detractors
        promoters, detractors = (
            group.promoters + extra_promoters,
            group.detractors + extra_detractors,
        )
        values.append((promoters - detractors) / n)
        variance += ((promoters + detractors) / n - values[-1] ** 2) / n
    se, centre = 100.0 * math.sqrt(variance), 100.0 * (values[1] - values[0])
    half = _critical_z(confidence) * se
    return se, max(centre - half, -200.0), min(centre + half, 200.0)


def _exact_nps(first: NpsResult, second: NpsResult, confidence: float) -> Comparison:
    method = "exact permutation test of mean NPS codes (all splits), adjusted-Wald CI"
    warnings = _pair_warnings(first, second)
    counts = [_whole(g.promoters, g.passives, g.detractors) for g in (first, second)]
    if first.value is None or second.value is None:
        return _untested(method, warnings)
    if counts[0] is None or counts[1] is None:
        return _untested(method, [*warnings, "non_integer_counts"])
    (p1, a1, d1), (p2, a2, d2) = counts[0], counts[1]
    p_value = nps_permutation_p((p1, a1, d1), (p2, a2, d2))
    se, low, high = _adjusted_wald_difference(first, second, confidence)
    return Comparison(
        difference=second.value - first.value,
        se=se,
        statistic=None,
        p_value=p_value,
        ci_low=low,
        ci_high=high,
        significant=is_significant(p_value, confidence),
        method=method,
        warnings=tuple(warnings),
    )


def _exact_proportions(
    first: ProportionResult, second: ProportionResult, confidence: float
) -> Comparison:
    method = "Fisher's exact test (two-sided), Newcombe hybrid-score CI"
    counts = [_whole(group.k, group.n) for group in (first, second)]
    approximate = _compare_proportions(first, second, confidence)
    if first.value is None or second.value is None:
        return replace(approximate, method=method)
    if counts[0] is None or counts[1] is None:
        return _untested(method, [*approximate.warnings, "non_integer_counts"])
    (hits_first, n_first), (hits_second, n_second) = counts[0], counts[1]
    p_value = fisher_exact_p((hits_first, n_first), (hits_second, n_second))
    if approximate.ci_low is None:  # both unanimous alike: no interval, but p is still exact
        approximate = replace(approximate, difference=second.value - first.value)
    return replace(
        approximate,
        statistic=None,
        p_value=p_value,
        significant=is_significant(p_value, confidence),
        method=method,
        warnings=tuple(w for w in approximate.warnings if w != "zero_variance"),
    )


def _exact_means(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    confidence: float,
    rng: np.random.Generator | None,
    resamples: int,
) -> Comparison:
    summaries = [mean_interval_from_values(group) for group in (first, second)]
    welch = _compare_means(summaries[0], summaries[1], confidence)
    if summaries[0].value is None or summaries[1].value is None:
        return welch
    p_value, exact = mean_permutation_p(first, second, rng=rng, resamples=resamples)
    if p_value is None:
        return replace(welch, warnings=(*welch.warnings, "permutation_needs_rng"))
    kind = "exact permutation test (all splits)" if exact else f"permutation test ({resamples})"
    return replace(
        welch,
        difference=summaries[1].value - summaries[0].value,
        statistic=None,
        p_value=p_value,
        significant=is_significant(p_value, confidence),
        method=f"{kind} of the difference in means, Welch t CI",
        warnings=tuple(w for w in welch.warnings if w != "zero_variance"),
    )


def compare_exact(
    first: Any,
    second: Any,
    *,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    resamples: int = PERMUTATION_RESAMPLES,
) -> Comparison:
    """Change from ``first`` to ``second`` (independent groups) by an exact/permutation test.

    NpsResult pair → exact permutation test of mean codes (`nps_permutation_p`) with the
    adjusted-Wald interval of the difference; ProportionResult pair → Fisher's exact test with
    the Newcombe interval; two arrays of raw answers → permutation test of the difference in
    means (exact up to ``MAX_EXACT_SPLITS`` splits, else ``resamples`` draws from ``rng``)
    with the Welch t interval. A MeanResult pair has no raw answers to permute: Welch's t with
    "permutation_needs_values". ``method`` names the test; ``statistic`` is None; the
    difference is in points / percentage points / scale units as for `compare`.
    """
    _critical_z(confidence)
    if isinstance(first, NpsResult) and isinstance(second, NpsResult):
        return _exact_nps(first, second, confidence)
    if isinstance(first, ProportionResult) and isinstance(second, ProportionResult):
        return _exact_proportions(first, second, confidence)
    if isinstance(first, MeanResult) and isinstance(second, MeanResult):
        welch = compare(first, second, confidence=confidence)
        return replace(welch, warnings=(*welch.warnings, "permutation_needs_values"))
    if isinstance(first, np.ndarray | list | tuple) and isinstance(
        second, np.ndarray | list | tuple
    ):
        return _exact_means(first, second, confidence, rng, resamples)
    raise TypeError(f"cannot test {type(first).__name__} and {type(second).__name__} exactly")


def compare_small_sample(
    first: Any,
    second: Any,
    *,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    resamples: int = PERMUTATION_RESAMPLES,
) -> Comparison:
    """`compare_exact` when `exact_test_needed` says so, otherwise the usual `compare`.

    Raw answers (two arrays) are summarised as means for the rule and for `compare`. The
    returned ``method`` names the test that was used.
    """
    summaries = [
        mean_interval_from_values(group) if isinstance(group, np.ndarray | list | tuple) else group
        for group in (first, second)
    ]
    if exact_test_needed(summaries[0], summaries[1]):
        return compare_exact(first, second, confidence=confidence, rng=rng, resamples=resamples)
    return compare(summaries[0], summaries[1], confidence=confidence)
