"""Key drivers that say when there is nothing to rank (linkage.stats.drivers.key_driver_verdict).

Oracles: statsmodels OLS (fvalue, f_pvalue, rsquared_adj, params for the standardised
coefficients' signs); the bootstrap limits against a plain loop of `key_drivers` over the same
resampled rows (its weights are tested against brute-force regressions elsewhere).
"""

import numpy as np
import pytest
import statsmodels.api as sm

from linkage.stats.drivers import key_driver_verdict, key_drivers, model_f_test


def drivers_data(n: int, drivers: int, seed: int, signal: float = 0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, drivers)) + rng.normal(size=(n, 1))  # noqa: N806
    coefficients = signal * rng.choice([-1.0, 1.0], size=drivers)
    return X, X @ coefficients + rng.normal(size=n)


def with_r_squared(X, target: float, seed: int):  # noqa: N803
    """y with an exact R² on X: fitted part plus a residual part rescaled."""
    rng = np.random.default_rng(seed)
    design = sm.add_constant(X)
    raw = rng.normal(size=len(X))
    fitted = sm.OLS(raw, design).fit().fittedvalues
    fitted -= fitted.mean()
    residual = raw - sm.OLS(raw, design).fit().fittedvalues
    scale = np.sqrt((fitted @ fitted) * (1 - target) / (target * (residual @ residual)))
    return fitted + scale * residual


def test_model_f_test_matches_statsmodels():
    X, y = drivers_data(60, 4, 1)  # noqa: N806
    fit = sm.OLS(y, sm.add_constant(X)).fit()
    result = model_f_test(fit.rsquared, 60, 4)
    assert result.f_statistic == pytest.approx(fit.fvalue, rel=1e-9)
    assert result.p_value == pytest.approx(fit.f_pvalue, rel=1e-9)
    assert result.adjusted_r_squared == pytest.approx(fit.rsquared_adj, rel=1e-9)
    assert (result.df_model, result.df_resid) == (fit.df_model, fit.df_resid)


def test_demo_case_38_units_10_drivers_is_not_reliable():
    X = drivers_data(38, 10, 2)[0]  # noqa: N806
    y = with_r_squared(X, 0.31, 3)
    verdict = key_driver_verdict(X, y, rng=np.random.default_rng(0))
    fit = sm.OLS(y, sm.add_constant(X)).fit()
    assert verdict.fit.r_squared == pytest.approx(0.31, rel=1e-9)
    assert verdict.fit.p_value == pytest.approx(fit.f_pvalue, rel=1e-9)
    assert verdict.fit.p_value == pytest.approx(0.33, abs=0.005)
    assert verdict.fit.adjusted_r_squared == pytest.approx(fit.rsquared_adj, rel=1e-9)
    assert verdict.fit.adjusted_r_squared == pytest.approx(0.054, abs=5e-4)
    assert verdict.units_per_driver == 3.8
    assert verdict.reliable is False
    assert verdict.reasons == ("model_not_significant", "few_units_per_driver")
    assert (np.array(verdict.weights_low) <= np.array(verdict.weights_high)).all()


def test_weights_carry_the_sign_of_the_standardised_coefficient():
    X, y = drivers_data(150, 4, 4)  # noqa: N806
    verdict = key_driver_verdict(X, y, rng=np.random.default_rng(1), resamples=20)
    coefficients = sm.OLS(y, sm.add_constant(X)).fit().params[1:]
    standardised = coefficients * X.std(axis=0) / y.std()
    np.testing.assert_array_equal(np.sign(verdict.weights), np.sign(standardised))
    assert np.abs(verdict.weights) == pytest.approx(key_drivers(X, y).shapley, rel=1e-12)


def test_bootstrap_limits_match_a_loop_over_resampled_units():
    X, y = drivers_data(40, 3, 5)  # noqa: N806
    verdict = key_driver_verdict(X, y, rng=np.random.default_rng(7), resamples=60)
    draws = np.random.default_rng(7).integers(0, 40, size=(60, 40))
    signed = []
    for rows in draws:
        sample_x, sample_y = X[rows], y[rows]
        weights = np.array(key_drivers(sample_x, sample_y).shapley)
        params = sm.OLS(sample_y, sm.add_constant(sample_x)).fit().params[1:]
        signed.append(np.sign(params) * weights)
    low, high = np.percentile(signed, [2.5, 97.5], axis=0)
    assert verdict.weights_low == pytest.approx(low, rel=1e-9)
    assert verdict.weights_high == pytest.approx(high, rel=1e-9)


def test_strong_model_with_enough_units_is_reliable():
    X, y = drivers_data(200, 3, 6, signal=0.6)  # noqa: N806
    verdict = key_driver_verdict(X, y, rng=np.random.default_rng(2))
    assert verdict.reliable is True and verdict.reasons == ()
    assert verdict.fit.p_value < 1e-6 and verdict.units_per_driver == pytest.approx(200 / 3)
    weights = np.array(verdict.weights)
    assert (verdict.weights_low <= weights).all() and (weights <= verdict.weights_high).all()


def test_too_few_rows_or_too_many_drivers_have_no_model():
    X, y = drivers_data(6, 5, 8)  # noqa: N806
    verdict = key_driver_verdict(X, y, rng=np.random.default_rng(0))
    assert verdict.reliable is False and "no_model" in verdict.reasons
    assert np.isnan(verdict.weights).all()
    X, y = drivers_data(400, 13, 9)  # noqa: N806
    assert "no_model" in key_driver_verdict(X, y, rng=np.random.default_rng(0)).reasons
