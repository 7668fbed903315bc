"""Holm and Benjamini–Hochberg adjustment across an initiative's metrics.

Oracle: statsmodels.stats.multitest.multipletests (method="holm" and "fdr_bh").
"""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from surveys.scoring.comparisons import Comparison
from surveys.scoring.multiplicity import adjust_comparisons, holm


def comparison(p_value):
    return Comparison(
        difference=1.0,
        se=0.5,
        statistic=2.0,
        p_value=p_value,
        ci_low=0.0,
        ci_high=2.0,
        significant=p_value is not None and p_value < 0.05,
        method="cluster-robust t",
    )


def test_holm_matches_statsmodels_on_seeded_p_values():
    rng = np.random.default_rng(8)
    p_values = np.concatenate([rng.uniform(size=12), rng.uniform(0, 0.01, size=4), [0.5, 0.5]])
    expected = multipletests(p_values, method="holm")[1]
    np.testing.assert_allclose(holm(p_values), expected, rtol=1e-12)


def test_holm_keeps_nan_and_shape():
    adjusted = holm([[0.01, np.nan], [0.04, 0.03]])
    expected = multipletests([0.01, 0.04, 0.03], method="holm")[1]
    assert np.isnan(adjusted[0, 1])
    np.testing.assert_allclose(adjusted[[0, 1, 1], [0, 0, 1]], expected, rtol=1e-12)
    assert np.isnan(holm([])).size == 0


def test_adjust_comparisons_holm_recomputes_significance():
    raw = [0.02, 0.03, 0.04]  # each significant alone; Holm: 0.06, 0.06, 0.06
    results = adjust_comparisons([*map(comparison, raw), comparison(None)])
    expected = multipletests(raw, method="holm")[1]
    assert [r.p_value for r in results[:3]] == pytest.approx(list(expected), rel=1e-12)
    assert [r.significant for r in results] == [False, False, False, False]
    assert results[3] == comparison(None)
    assert results[0].method.endswith("Holm-adjusted p")


def test_adjust_comparisons_bh_matches_statsmodels():
    raw = [0.001, 0.02, 0.04, 0.3]
    results = adjust_comparisons([comparison(p) for p in raw], method="bh")
    expected = multipletests(raw, method="fdr_bh")[1]
    assert [r.p_value for r in results] == pytest.approx(list(expected), rel=1e-12)
    assert [r.significant for r in results] == list(expected < 0.05)


def test_adjust_comparisons_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        adjust_comparisons([comparison(0.1)], method="bonferroni")
