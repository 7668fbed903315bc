"""Key drivers only when there is something to rank (issue 11, item 4).

Oracle: statsmodels OLS of the outcome's unit means on the drivers' unit means (the F test,
its p and the adjusted R²), on the rows the run uses.
"""

import numpy as np
import pytest
import statsmodels.api as sm

from linkage.presentation import drivers_sentence
from linkage.services.runs import run_key_drivers, unit_means
from surveys.selectors import MetricPanel


def panel(seed: int, units: int, drivers: int, effect: float) -> MetricPanel:
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 1, (drivers, units, 1))
    values = level + rng.normal(0, 0.3, (drivers, units, 6))
    outcome = (
        effect * level[0] + rng.normal(0, 1, (1, units, 1)) + rng.normal(0, 0.3, (1, units, 6))
    )
    keys = [f"driver.{index}" for index in range(drivers)] + ["outcome.revenue"]
    return MetricPanel(
        metric_keys=keys,
        unit_ids=list(range(units)),
        periods=[f"2026-0{month}" for month in range(1, 7)],
        values=np.concatenate([values, outcome]),
        n=np.ones((drivers + 1, units, 6)),
        suppressed=np.zeros(drivers + 1, dtype=int),
    )


def statsmodels_fit(data: MetricPanel):
    X = unit_means(data.values[:-1], slice(0, 5)).T  # noqa: N806
    y = unit_means(data.values[-1], slice(1, 6))
    return sm.OLS(y, sm.add_constant(X)).fit()


def test_noise_drivers_are_not_ranked_and_the_page_says_so():
    data = panel(1, 38, 10, effect=0.0)
    drivers = run_key_drivers(data, seed=3)
    fit = statsmodels_fit(data)
    assert drivers["f_p"] == pytest.approx(fit.f_pvalue, rel=1e-9)
    assert drivers["adjusted_r_squared"] == pytest.approx(fit.rsquared_adj, rel=1e-9)
    assert drivers["units_per_driver"] == pytest.approx(3.8)
    assert drivers["reliable"] is False and "few_units_per_driver" in drivers["reasons"]
    sentence = drivers_sentence(drivers)
    assert "No reliable drivers" in sentence and "between units" in sentence
    assert "3.8 units per driver" in sentence


def test_a_real_driver_is_ranked_with_its_sign_and_limits():
    data = panel(2, 60, 3, effect=-1.5)
    drivers = run_key_drivers(data, seed=3)
    fit = statsmodels_fit(data)
    assert drivers["f_p"] == pytest.approx(fit.f_pvalue, rel=1e-9) and drivers["reliable"]
    first = drivers["drivers"][0]
    assert first["weight"] < 0 and first["weight_low"] <= first["weight"] <= first["weight_high"]
    assert np.sign(first["weight"]) == np.sign(fit.params[1])
    assert "signs" not in drivers_sentence(drivers) and "bootstrap" in drivers_sentence(drivers)
