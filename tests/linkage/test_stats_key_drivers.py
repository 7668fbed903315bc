"""Key-driver weights: Shapley / LMG and Johnson relative weights (linkage.stats.key_drivers)."""

import itertools
import math

import numpy as np
import pytest

from linkage.stats import key_drivers

# mtcars (R datasets): mpg, then the drivers cyl, disp, hp, gear for the 32 cars.
MTCARS = np.array([
    [21.0, 6, 160.0, 110, 4], [21.0, 6, 160.0, 110, 4], [22.8, 4, 108.0, 93, 4],
    [21.4, 6, 258.0, 110, 3], [18.7, 8, 360.0, 175, 3], [18.1, 6, 225.0, 105, 3],
    [14.3, 8, 360.0, 245, 3], [24.4, 4, 146.7, 62, 4], [22.8, 4, 140.8, 95, 4],
    [19.2, 6, 167.6, 123, 4], [17.8, 6, 167.6, 123, 4], [16.4, 8, 275.8, 180, 3],
    [17.3, 8, 275.8, 180, 3], [15.2, 8, 275.8, 180, 3], [10.4, 8, 472.0, 205, 3],
    [10.4, 8, 460.0, 215, 3], [14.7, 8, 440.0, 230, 3], [32.4, 4, 78.7, 66, 4],
    [30.4, 4, 75.7, 52, 4], [33.9, 4, 71.1, 65, 4], [21.5, 4, 120.1, 97, 3],
    [15.5, 8, 318.0, 150, 3], [15.2, 8, 304.0, 150, 3], [13.3, 8, 350.0, 245, 3],
    [19.2, 8, 400.0, 175, 3], [27.3, 4, 79.0, 66, 4], [26.0, 4, 120.3, 91, 5],
    [30.4, 4, 95.1, 113, 5], [15.8, 8, 351.0, 264, 5], [19.7, 6, 145.0, 175, 5],
    [15.0, 8, 301.0, 335, 5], [21.4, 4, 121.0, 109, 4],
])  # fmt: skip


def _lstsq_r_squared(X: np.ndarray, y: np.ndarray) -> float:  # noqa: N803
    """Oracle: R² of an ordinary least-squares fit with intercept, from the raw rows."""
    design = np.column_stack([np.ones(len(y)), X])
    coefficients = np.linalg.lstsq(design, y, rcond=None)[0]
    residual = y - design @ coefficients
    return 1.0 - (residual @ residual) / ((y - y.mean()) @ (y - y.mean()))


def _drivers(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n)
    X = np.column_stack([common + rng.normal(size=n) for _ in range(3)])  # noqa: N806
    X[:, 2] += 0.5 * X[:, 0]
    y = X @ np.array([0.6, 0.3, -0.2]) + rng.normal(size=n)
    return X, y


def test_johnson_weights_match_published_rwa_mtcars_example() -> None:
    # R package rwa README: rwa(mtcars, "mpg", c("cyl", "disp", "hp", "gear")).
    result = key_drivers(MTCARS[:, 1:], MTCARS[:, 0])
    assert result.r_squared == pytest.approx(0.7791896, abs=5e-8)
    assert result.johnson == pytest.approx((0.2284797, 0.2221469, 0.2321744, 0.0963886), abs=5e-8)
    assert np.array(result.shares_johnson) * 100 == pytest.approx(
        [29.32274, 28.50999, 29.79691, 12.37037], abs=5e-6
    )
    assert result.n == 32


def test_weights_sum_to_the_least_squares_r_squared() -> None:
    X, y = _drivers(200, 1)  # noqa: N806
    result = key_drivers(X, y)
    expected = _lstsq_r_squared(X, y)
    assert result.r_squared == pytest.approx(expected, rel=1e-12)
    assert sum(result.shapley) == pytest.approx(expected, rel=1e-12)
    assert sum(result.johnson) == pytest.approx(expected, rel=1e-12)
    assert sum(result.shares_shapley) == pytest.approx(1.0, rel=1e-12)


def test_shapley_matches_brute_force_subset_regressions() -> None:
    X, y = _drivers(120, 2)  # noqa: N806
    fits = {
        subset: (_lstsq_r_squared(X[:, list(subset)], y) if subset else 0.0)
        for size in range(4)
        for subset in itertools.combinations(range(3), size)
    }
    expected = []
    for driver in range(3):
        others = [d for d in range(3) if d != driver]
        value = 0.0
        for size in range(3):
            weight = math.factorial(size) * math.factorial(2 - size) / math.factorial(3)
            for subset in itertools.combinations(others, size):
                with_driver = tuple(sorted(subset + (driver,)))
                value += weight * (fits[with_driver] - fits[subset])
        expected.append(value)
    assert key_drivers(X, y).shapley == pytest.approx(expected, rel=1e-10)


def test_uncorrelated_drivers_get_their_squared_correlation() -> None:
    rng = np.random.default_rng(3)
    raw = rng.normal(size=(50, 3))
    raw -= raw.mean(axis=0)
    X = np.linalg.qr(raw)[0]  # noqa: N806  (orthogonal, centred columns)
    y = X @ np.array([3.0, 1.0, 0.5]) + 0.2 * rng.normal(size=50)
    squared = [np.corrcoef(X[:, j], y)[0, 1] ** 2 for j in range(3)]
    result = key_drivers(X, y)
    assert result.shapley == pytest.approx(squared, rel=1e-9)
    assert result.johnson == pytest.approx(squared, rel=1e-9)


def test_rows_with_missing_values_are_dropped_listwise() -> None:
    X, y = _drivers(80, 4)  # noqa: N806
    X[[2, 9], 1] = np.nan
    y[[9, 30]] = np.nan
    keep = np.isfinite(X).all(axis=1) & np.isfinite(y)
    result = key_drivers(X, y)
    assert result.n == 77
    assert result.r_squared == pytest.approx(_lstsq_r_squared(X[keep], y[keep]), rel=1e-12)


def test_more_than_twelve_drivers_skips_shapley_with_a_warning() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 13))  # noqa: N806
    y = X.sum(axis=1) + rng.normal(size=100)
    result = key_drivers(X, y)
    assert "too_many_drivers" in result.warnings
    assert all(math.isnan(value) for value in result.shapley)
    assert sum(result.johnson) == pytest.approx(_lstsq_r_squared(X, y), rel=1e-10)


def test_collinear_drivers_warn_and_keep_shapley() -> None:
    X, y = _drivers(60, 6)  # noqa: N806
    X = np.column_stack([X, 2 * X[:, 0]])  # noqa: N806
    result = key_drivers(X, y)
    assert "collinear_drivers" in result.warnings
    assert all(math.isnan(value) for value in result.johnson)
    assert sum(result.shapley) == pytest.approx(_lstsq_r_squared(X, y), rel=1e-8)


def test_constant_driver_or_too_few_rows_warns_instead_of_raising() -> None:
    X, y = _drivers(30, 7)  # noqa: N806
    X[:, 1] = 4.0
    assert "constant_input" in key_drivers(X, y).warnings
    few = key_drivers(X[:4], y[:4])
    assert "small_n" in few.warnings and math.isnan(few.r_squared)


def test_key_drivers_warn_with_fewer_than_ten_units_per_driver() -> None:
    rng = np.random.default_rng(9)
    X = rng.normal(size=(100, 4))  # noqa: N806
    y = X.sum(axis=1) + rng.normal(size=100)
    assert "few_units_per_driver" in key_drivers(X[:39], y[:39]).warnings  # 39 < 4 × 10
    assert "few_units_per_driver" not in key_drivers(X[:40], y[:40]).warnings
