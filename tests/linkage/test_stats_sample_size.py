"""How many units a linkage analysis needs (critical_r, units_needed, sample_size_note)."""

import numpy as np
import pytest
from scipy import stats

from linkage.stats import critical_r, sample_size_note, units_needed


@pytest.mark.parametrize(
    ("n", "expected"),
    [(10, 0.6319), (15, 0.5140), (20, 0.4438), (30, 0.3610), (50, 0.2787), (100, 0.1966)],
)
def test_critical_r_matches_published_table(n: int, expected: float) -> None:
    # STATISTICS.md §2.7: smallest significant |r| at p < .05 (two-sided).
    assert critical_r(n) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize("n", [8, 30, 120])
def test_scipy_pearsonr_p_equals_alpha_at_the_critical_r(n: int) -> None:
    r = critical_r(n)
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    x = (x - x.mean()) / np.linalg.norm(x - x.mean())
    noise = rng.normal(size=n)
    noise -= noise.mean() + (noise @ x) * x  # centred and orthogonal to x
    y = r * x + np.sqrt(1 - r * r) * noise / np.linalg.norm(noise)  # sample r is exactly r
    result = stats.pearsonr(x, y)
    assert result.statistic == pytest.approx(r, rel=1e-12)
    assert result.pvalue == pytest.approx(0.05, rel=1e-9)


def test_critical_r_is_undefined_below_three_units() -> None:
    assert np.isnan(critical_r(2))


@pytest.mark.parametrize(
    ("r", "expected"), [(0.10, 783), (0.20, 194), (0.30, 85), (0.40, 47), (0.50, 30), (0.60, 20)]
)
def test_units_needed_matches_published_values(r: float, expected: int) -> None:
    # STATISTICS.md §2.7 (Fisher z, α = .05 two-sided, power .80; CUHK: .4 → 47, .3 → 85).
    assert units_needed(r) == expected
    assert units_needed(-r) == expected


@pytest.mark.parametrize("r", [0.15, 0.3, 0.45])
def test_units_needed_is_the_first_n_reaching_the_requested_power(r: float) -> None:
    def power(n: int) -> float:
        shift = np.arctanh(r) * np.sqrt(n - 3)
        return stats.norm.sf(stats.norm.ppf(0.975) - shift) + stats.norm.cdf(
            -stats.norm.ppf(0.975) - shift
        )

    n = units_needed(r)
    assert power(n) >= 0.80 > power(n - 1) - 1e-3


@pytest.mark.parametrize("r", [0.0, 1.0, -1.2])
def test_units_needed_rejects_r_outside_the_open_interval(r: float) -> None:
    with pytest.raises(ValueError, match="0 < \\|r\\| < 1"):
        units_needed(r)


def test_sample_size_note_for_thirty_units() -> None:
    assert sample_size_note(30) == (
        "With 30 units only |r| ≥ 0.36 can be significant at p < .05; "
        "detecting r = 0.30 needs about 85 units."
    )


def test_sample_size_note_for_too_few_units() -> None:
    assert sample_size_note(2) == (
        "With 2 units no correlation can be tested; detecting r = 0.30 needs about 85 units."
    )
