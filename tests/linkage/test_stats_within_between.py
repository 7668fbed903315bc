"""Within-unit (repeated-measures) versus between-unit correlation in linkage_stats."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from linkage.stats import linkage_stats

# Bland & Altman (1995) intramural pH and PaCO2, 8 subjects × 3–9 visits (47 rows), the data
# bundled with R rmcorr and pingouin as "bland1995".
SUBJECT_SIZES = [4, 4, 9, 5, 8, 6, 3, 8]
PH = [
    6.68, 6.53, 6.43, 6.33, 6.85, 7.06, 7.13, 7.17, 7.40, 7.42, 7.41, 7.37, 7.34, 7.35, 7.28,
    7.30, 7.34, 7.36, 7.33, 7.29, 7.30, 7.35, 7.35, 7.30, 7.30, 7.37, 7.27, 7.28, 7.32, 7.32,
    7.38, 7.30, 7.29, 7.33, 7.31, 7.33, 6.86, 6.94, 6.92, 7.19, 7.29, 7.21, 7.25, 7.20, 7.19,
    6.77, 6.82,
]  # fmt: skip
PACO2 = [
    3.97, 4.12, 4.09, 3.97, 5.27, 5.37, 5.41, 5.44, 5.67, 3.64, 4.32, 4.73, 4.96, 5.04, 5.22,
    4.82, 5.07, 5.67, 5.10, 5.53, 4.75, 5.51, 4.28, 4.44, 4.32, 3.23, 4.46, 4.72, 4.75, 4.99,
    4.78, 4.73, 5.12, 4.93, 5.03, 4.93, 6.85, 6.44, 6.52, 5.28, 4.56, 4.34, 4.32, 4.41, 3.69,
    6.09, 5.58,
]  # fmt: skip


def _bland_altman_panels() -> np.ndarray:
    """Metric 0 = PaCO2, metric 1 = pH; subjects as units, visits as periods (NaN-padded)."""
    panels = np.full((2, len(SUBJECT_SIZES), max(SUBJECT_SIZES)), np.nan)
    start = 0
    for subject, size in enumerate(SUBJECT_SIZES):
        panels[0, subject, :size] = PACO2[start : start + size]
        panels[1, subject, :size] = PH[start : start + size]
        start += size
    return panels


def _bland_altman_result():
    return linkage_stats(_bland_altman_panels(), [(0, 1)], [0], rng=np.random.default_rng(0))[0]


def test_rm_corr_reproduces_published_bland_altman_values() -> None:
    # STATISTICS.md §2.4 (pingouin rm_corr / R rmcorr on bland1995): pooled −0.0652, subject
    # means 0.0818, within-subject r −0.5068 with df 38 and p 0.000847.
    result = _bland_altman_result()
    assert result.n_pairs == 47 and result.n_units == 8
    assert result.r == pytest.approx(-0.0652, abs=5e-5)
    assert result.between_r == pytest.approx(0.0818, abs=5e-5)
    assert result.within_r == pytest.approx(-0.5068, abs=5e-5)
    assert result.within_p == pytest.approx(0.000847, rel=1e-3)
    assert "few_units" in result.warnings


def test_within_r_equals_manual_subject_centring() -> None:
    subjects = np.repeat(np.arange(8), SUBJECT_SIZES)
    x, y = np.array(PACO2), np.array(PH)
    x_centred = x - np.array([x[subjects == s].mean() for s in range(8)])[subjects]
    y_centred = y - np.array([y[subjects == s].mean() for s in range(8)])[subjects]
    r = float(x_centred @ y_centred / np.sqrt((x_centred @ x_centred) * (y_centred @ y_centred)))
    df = 47 - 8 - 1
    t = r * np.sqrt(df / (1 - r * r))
    result = _bland_altman_result()
    assert result.within_r == pytest.approx(r, rel=1e-12)
    assert result.within_p == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-10)


def test_within_slope_matches_statsmodels_fixed_effects_regression() -> None:
    subjects = np.repeat(np.arange(8), SUBJECT_SIZES)
    dummies = (subjects[:, None] == np.arange(8)[None, :]).astype(float)
    design = np.column_stack([np.array(PACO2), dummies])  # slope + one intercept per subject
    fit = sm.OLS(np.array(PH), design).fit()
    low, high = fit.conf_int(alpha=0.05)[0]
    result = _bland_altman_result()
    assert result.slope_within == pytest.approx(fit.params[0], rel=1e-10)
    assert result.slope_within_low == pytest.approx(low, rel=1e-10)
    assert result.slope_within_high == pytest.approx(high, rel=1e-10)


def test_between_r_matches_scipy_on_unit_means() -> None:
    rng = np.random.default_rng(3)
    panels = rng.normal(size=(2, 15, 6)) + rng.normal(size=(2, 15, 1))
    panels[1][rng.random((15, 6)) < 0.2] = np.nan
    result = linkage_stats(panels, [(0, 1)], [1], rng=rng)[0]
    means_x, means_y = [], []
    for unit in range(15):
        x, y = panels[0, unit, :-1], panels[1, unit, 1:]
        keep = ~np.isnan(x) & ~np.isnan(y)
        if keep.any():
            means_x.append(x[keep].mean())
            means_y.append(y[keep].mean())
    expected = stats.pearsonr(means_x, means_y)
    assert result.n_units == len(means_x)
    assert result.between_r == pytest.approx(expected.statistic, rel=1e-12)
    assert result.between_p == pytest.approx(expected.pvalue, rel=1e-10)


def test_better_units_but_worsening_changes_split_between_and_within() -> None:
    # Ten units: higher X level goes with higher Y level (between r = +1), but inside every
    # unit a rise in X comes with an equal fall in Y (within r = −1, slope −1).
    levels = np.arange(10.0)[:, None]
    swings = np.tile([-1.0, 0.0, 2.0, -1.0], (10, 1)) * np.linspace(1, 2, 10)[:, None]
    panels = np.stack([levels + swings, 5 * levels - swings])
    result = linkage_stats(panels, [(0, 1)], [0], rng=np.random.default_rng(0))[0]
    assert result.between_r == pytest.approx(1.0, abs=1e-12)
    assert result.within_r == pytest.approx(-1.0, abs=1e-12)
    assert result.slope_within == pytest.approx(-1.0, abs=1e-12)
    assert 0.5 < result.r < 1.0  # pooled r is positive: it hides the within-unit reversal


def test_one_period_per_unit_has_no_within_estimate() -> None:
    rng = np.random.default_rng(4)
    panels = rng.normal(size=(2, 20, 1))
    result = linkage_stats(panels, [(0, 1)], [0], rng=rng)[0]
    assert np.isnan(result.within_r) and np.isnan(result.within_p)
    assert np.isnan(result.slope_within)
    assert "constant_within" in result.warnings
    assert result.between_r == pytest.approx(result.r, rel=1e-12)  # unit means are the values


def _explicit_within_between(x_panel: np.ndarray, y_panel: np.ndarray, lag: int) -> tuple:
    """Oracle: per-unit loops over lagged complete pairs, then centring and unit means."""
    x_dev, y_dev, x_means, y_means = [], [], [], []
    for unit in range(x_panel.shape[0]):
        pairs = [
            (x_panel[unit, t], y_panel[unit, t + lag])
            for t in range(x_panel.shape[1])
            if 0 <= t + lag < x_panel.shape[1]
            and not np.isnan(x_panel[unit, t])
            and not np.isnan(y_panel[unit, t + lag])
        ]
        if pairs:
            xs, ys = np.array(pairs).T
            x_dev.extend(xs - xs.mean())
            y_dev.extend(ys - ys.mean())
            x_means.append(xs.mean())
            y_means.append(ys.mean())
    x_dev, y_dev = np.array(x_dev), np.array(y_dev)
    within = x_dev @ y_dev / np.sqrt((x_dev @ x_dev) * (y_dev @ y_dev))
    slope = x_dev @ y_dev / (x_dev @ x_dev)
    return within, slope, stats.pearsonr(x_means, y_means).statistic


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_within_and_between_match_explicit_loops_at_every_lag(missing: float) -> None:
    rng = np.random.default_rng(5)
    panels = 40 + 8 * (rng.normal(size=(3, 20, 7)) + rng.normal(size=(3, 20, 1)))
    panels[2, :, 1:] += 0.5 * panels[0, :, :-1]
    panels[rng.random(panels.shape) < missing] = np.nan
    results = linkage_stats(panels, [(0, 2), (2, 1)], range(-2, 3), rng=rng)
    for result in results:
        within, slope, between = _explicit_within_between(
            panels[result.x_index], panels[result.y_index], result.lag
        )
        assert result.within_r == pytest.approx(within, rel=1e-11)
        assert result.slope_within == pytest.approx(slope, rel=1e-11)
        assert result.between_r == pytest.approx(between, rel=1e-11)
