"""The pure demo generator: a built-in lag-1 employee → customer effect, and stable draws."""

import numpy as np
from scipy import stats

from demo.generator import demo_periods, plan_stores, simulate

SEED = 7


def store_month_scores(stores: int, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Job-satisfaction and CSAT top-2-box shares per store (rows) and month (columns);
    NaN where fewer than 5 employees answered, as the platform would hide the cell."""
    labels = demo_periods(months, "2026-06")
    employee = np.full((stores, months), np.nan)
    customer = np.full((stores, months), np.nan)
    plan = plan_stores(stores, SEED)
    for item in simulate(stores=plan, period_labels=labels, customers_per_store=30, seed=SEED):
        row, column = item.store.number - 1, labels.index(item.period)
        satisfaction = [answer["answers"]["job_satisfaction"] for answer in item.employees]
        if len(satisfaction) >= 5:
            employee[row, column] = np.mean(np.array(satisfaction) >= 4)
        csat = [answer["answers"]["csat_overall"] for answer in item.customers]
        if csat:
            customer[row, column] = np.mean(np.array(csat) >= 4)
    return employee, customer


def lagged_pairs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x at month t against y at t+1 within each store, with the store of each pair."""
    leading, following = x[:, :-1], y[:, 1:]
    present = ~np.isnan(leading) & ~np.isnan(following)
    stores = np.broadcast_to(np.arange(x.shape[0])[:, None], leading.shape)
    return leading[present], following[present], stores[present]


def demeaned(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    sums = np.bincount(groups, weights=values)
    counts = np.bincount(groups)
    return values - (sums / np.maximum(counts, 1))[groups]


def test_demo_generator_employee_satisfaction_leads_customer_satisfaction():
    employee, customer = store_month_scores(stores=40, months=12)
    x, y, stores = lagged_pairs(employee, customer)
    pooled = stats.pearsonr(x, y)
    within = stats.pearsonr(demeaned(x, stores), demeaned(y, stores))
    assert 0.35 < pooled.statistic < 0.7 and pooled.pvalue < 1e-6
    assert within.statistic > 0.2 and within.pvalue < 1e-3
    # The chain runs EX → CX: customer satisfaction does not lead employee satisfaction as much.
    reverse_x, reverse_y, reverse_stores = lagged_pairs(customer, employee)
    reverse = stats.pearsonr(
        demeaned(reverse_x, reverse_stores), demeaned(reverse_y, reverse_stores)
    )
    assert reverse.statistic < within.statistic - 0.15


def test_demo_generator_two_small_stores_stay_below_the_threshold():
    plan = plan_stores(40)
    small = [store.employees for store in plan if store.employees < 5]
    assert len(small) == 2 and all(3 <= employees <= 4 for employees in small)
    assert all(8 <= store.employees <= 15 for store in plan if store.employees >= 5)
    assert {store.region for store in plan} == {0, 1, 2}


def test_demo_generator_month_does_not_depend_on_the_range():
    store = plan_stores(3)[:1]
    short = list(simulate(stores=store, period_labels=["2026-05"], customers_per_store=10))
    longer = list(
        simulate(stores=store, period_labels=demo_periods(4, "2026-06"), customers_per_store=10)
    )
    same_month = next(item for item in longer if item.period == "2026-05")
    assert same_month.customers == short[0].customers
    assert same_month.employees == short[0].employees
    assert (same_month.revenue, same_month.retention) == (short[0].revenue, short[0].retention)
