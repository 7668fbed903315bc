"""Fisher-z confidence intervals for correlations (linkage.stats.fisher_ci)."""

import numpy as np
import pytest
from scipy import stats

from linkage.stats import fisher_ci


def _scipy_interval(r_target: float, n: int, confidence: float) -> tuple[float, float, float]:
    """Sample r and scipy's Fisher interval for a seeded sample of n pairs near r_target."""
    rng = np.random.default_rng(1000 + n)
    x = rng.normal(size=n)
    y = r_target * x + np.sqrt(1 - r_target**2) * rng.normal(size=n)
    result = stats.pearsonr(x, y)
    interval = result.confidence_interval(confidence_level=confidence)
    return float(result.statistic), float(interval.low), float(interval.high)


@pytest.mark.parametrize("n", [4, 5, 12, 40, 200])
@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_fisher_ci_matches_scipy_pearsonr_interval(n: int, confidence: float) -> None:
    r, low, high = _scipy_interval(0.4, n, confidence)
    assert fisher_ci(r, n, confidence=confidence) == pytest.approx((low, high), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "low", "high"),
    [(20, -0.164, 0.656), (30, -0.068, 0.596), (50, 0.024, 0.534), (100, 0.110, 0.469),
     (200, 0.168, 0.421)],
)  # fmt: skip
def test_fisher_ci_matches_published_table_for_r_030(n: int, low: float, high: float) -> None:
    # STATISTICS.md §2.7: 95 % CI around r = .30; the table was rounded using z = 1.96, which
    # moves n = 20's upper limit (0.65550) across the third-decimal boundary.
    assert fisher_ci(0.30, n) == pytest.approx((low, high), abs=1e-3)


@pytest.mark.parametrize("r", [-0.8, -0.1, 0.0, 0.35, 0.9])
def test_fisher_ci_is_symmetric_in_z(r: float) -> None:
    low, high = fisher_ci(r, 25)
    assert np.arctanh(high) - np.arctanh(r) == pytest.approx(np.arctanh(r) - np.arctanh(low))


@pytest.mark.parametrize("r", [-0.99, -0.5, 0.0, 0.2, 0.97])
@pytest.mark.parametrize("n", [4, 10, 1000])
def test_fisher_ci_contains_r(r: float, n: int) -> None:
    low, high = fisher_ci(r, n)
    assert -1 <= low < r < high <= 1


def test_fisher_ci_three_or_fewer_pairs_is_whole_range() -> None:
    r, low, high = _scipy_interval(0.5, 3, 0.95)
    assert (low, high) == (-1.0, 1.0)
    assert fisher_ci(r, 3) == (-1.0, 1.0)
    assert fisher_ci(0.5, 2) == (-1.0, 1.0)


def test_fisher_ci_vectorised_matches_scipy_elementwise() -> None:
    cases = [_scipy_interval(0.3, n, 0.95) + (n,) for n in (6, 15, 60)]
    r = np.array([case[0] for case in cases])
    n = np.array([case[3] for case in cases])
    low, high = fisher_ci(r, n)
    assert isinstance(low, np.ndarray) and low.shape == (3,)
    assert low == pytest.approx([case[1] for case in cases], rel=1e-12)
    assert high == pytest.approx([case[2] for case in cases], rel=1e-12)


def test_fisher_ci_nan_r_gives_nan_interval() -> None:
    low, high = fisher_ci(float("nan"), 30)
    assert np.isnan(low) and np.isnan(high)


def test_fisher_ci_perfect_correlation_collapses_to_one() -> None:
    assert fisher_ci(1.0, 30) == (1.0, 1.0)
