"""Pearson and Spearman correlations of two vectors (linkage.stats.pearson / spearman)."""

import numpy as np
import pytest
from scipy import stats

from linkage.stats import pearson, spearman


def _correlated(n: int, r: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(50.0, 10.0, size=n)
    y = r * (x - 50.0) / 10.0 + np.sqrt(1 - r * r) * rng.normal(size=n)
    return x, 3.0 * y + 7.0


def _survey_scores(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """0–10 answers with many ties, the usual shape of survey data."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 11, size=n).astype(float)
    y = np.clip(np.round(0.5 * x + rng.normal(2.0, 2.0, size=n)), 0, 10)
    return x, y


@pytest.mark.parametrize(("n", "r", "seed"), [(10, 0.6, 1), (35, 0.3, 2), (500, -0.2, 3)])
def test_pearson_matches_scipy_on_seeded_data(n: int, r: float, seed: int) -> None:
    x, y = _correlated(n, r, seed)
    expected = stats.pearsonr(x, y)
    interval = expected.confidence_interval()
    result = pearson(x, y)
    assert result.r == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p == pytest.approx(expected.pvalue, rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (interval.low, interval.high), rel=1e-12
    )
    assert result.n == n


def test_pearson_drops_incomplete_pairs() -> None:
    x, y = _correlated(40, 0.5, 4)
    x[[3, 7]] = np.nan
    y[[7, 20, 31]] = np.nan
    keep = np.isfinite(x) & np.isfinite(y)
    expected = stats.pearsonr(x[keep], y[keep])
    result = pearson(x, y)
    assert result.n == 36
    assert result.r == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p == pytest.approx(expected.pvalue, rel=1e-12)
    assert "missing_dropped" in result.warnings


def test_pearson_constant_input_warns_instead_of_raising() -> None:
    result = pearson([1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0])
    assert np.isnan(result.r) and np.isnan(result.p)
    assert "constant_input" in result.warnings


def test_pearson_two_pairs_is_small_n_not_an_error() -> None:
    result = pearson([1.0, 2.0], [3.0, 1.0])
    assert np.isnan(result.r)
    assert result.n == 2
    assert "small_n" in result.warnings


def test_pearson_rejects_different_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        pearson([1.0, 2.0, 3.0], [1.0, 2.0])


def test_spearman_matches_scipy_with_ties_for_large_n() -> None:
    x, y = _survey_scores(300, 5)
    expected = stats.spearmanr(x, y)
    result = spearman(x, y)  # 300 pairs ≥ exact_below: t approximation, as scipy
    assert result.r == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p == pytest.approx(expected.pvalue, rel=1e-12)


def test_spearman_exact_permutation_matches_scipy_permutation_test() -> None:
    x, y = _correlated(6, 0.7, 6)  # continuous: no ties; 6! = 720 orders enumerated

    def statistic(y_order: np.ndarray) -> float:
        return stats.spearmanr(x, y_order).statistic

    expected = stats.permutation_test(
        (y,), statistic, permutation_type="pairings", n_resamples=9999
    )
    result = spearman(x, y)
    assert result.r == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p == pytest.approx(expected.pvalue, rel=1e-12)


def test_spearman_monte_carlo_p_is_deterministic_with_a_seed() -> None:
    x, y = _survey_scores(40, 7)
    first = spearman(x, y, rng=np.random.default_rng(11), permutations=2000)
    second = spearman(x, y, rng=np.random.default_rng(11), permutations=2000)
    assert first.p == second.p
    assert 0 < first.p <= 1


def test_spearman_permutation_p_close_to_asymptotic_for_moderate_n() -> None:
    x, y = _correlated(60, 0.28, 14)
    asymptotic = stats.spearmanr(x, y).pvalue
    assert 0.01 < asymptotic < 0.2  # a p-value where the comparison is informative
    result = spearman(x, y, rng=np.random.default_rng(12))
    assert result.p == pytest.approx(asymptotic, abs=0.01)


def test_spearman_without_rng_falls_back_to_t_approximation() -> None:
    x, y = _correlated(20, 0.5, 9)
    result = spearman(x, y)
    assert result.p == pytest.approx(stats.spearmanr(x, y).pvalue, rel=1e-12)
    assert "asymptotic_p" in result.warnings


def test_spearman_interval_contains_rho() -> None:
    x, y = _survey_scores(80, 10)
    result = spearman(x, y, rng=np.random.default_rng(13))
    assert result.ci_low < result.r < result.ci_high


def test_spearman_constant_input_warns_instead_of_raising() -> None:
    result = spearman([3.0, 3.0, 3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert np.isnan(result.r) and np.isnan(result.p)
    assert "constant_input" in result.warnings
