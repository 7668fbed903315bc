"""start_linkage_run validates and queues; compute_linkage_run fills results all-or-nothing."""

from unittest import mock

import numpy as np
import pytest
from scipy import stats

from linkage.exceptions import InvalidLinkageRun
from linkage.models import LinkageResult, LinkageRun
from linkage.services.runs import compute_linkage_run, start_linkage_run
from linkage.stats import lagged_pairs
from surveys.models import Metric, MetricValue, OrgUnit
from tests.factories import MetricFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def store_values(metrics, units, periods, values, suppressed=()):
    """One MetricValue per finite cell of `values` (metrics × units × periods).

    `suppressed` lists (metric, unit, period) indexes stored as suppressed (no value).
    """
    rows = []
    for m, metric in enumerate(metrics):
        for u, unit in enumerate(units):
            for t, period in enumerate(periods):
                hidden = (m, u, t) in suppressed
                if hidden or np.isfinite(values[m, u, t]):
                    value = None if hidden else float(values[m, u, t])
                    rows.append(
                        MetricValue(
                            metric=metric, unit=unit, period=period, value=value, suppressed=hidden
                        )
                    )
    MetricValue.objects.bulk_create(rows)


@pytest.fixture
def metrics():
    employee = MetricFactory(
        key="employee.job_satisfaction", chain_stage=Metric.ChainStage.EMPLOYEE_SATISFACTION
    )
    customer = MetricFactory(
        key="customer.csat", chain_stage=Metric.ChainStage.CUSTOMER_SATISFACTION
    )
    return [employee, customer]


@pytest.fixture
def stores():
    return [OrgUnitFactory(code=f"store-{index:02d}") for index in range(20)]


@pytest.fixture
def lagged_panel(metrics, stores):
    """Y(t+1) = X(t) + noise for 20 stores and 6 months (seeded)."""
    rng = np.random.default_rng(7)
    x = rng.normal(60, 10, size=(20, 6))
    y = np.full((20, 6), np.nan)
    y[:, 1:] = x[:, :-1] + rng.normal(0, 4, size=(20, 5))
    y[:, 0] = rng.normal(60, 10, size=20)
    return np.stack([x, y])


def test_start_linkage_run_queues_the_task_after_commit(
    owner, metrics, stores, lagged_panel, django_capture_on_commit_callbacks
):
    store_values(metrics, stores, PERIODS, lagged_panel)
    with mock.patch("linkage.tasks.run_linkage_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = start_linkage_run(
                created_by=owner, metric_keys=["customer.csat", "employee.job_satisfaction"]
            )
        assert delay.call_count == 0
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(run.id)
    assert run.status == LinkageRun.Status.PENDING and run.created_by == owner


def test_start_linkage_run_defaults_to_metrics_and_periods_with_values(
    metrics, stores, lagged_panel, django_capture_on_commit_callbacks
):
    MetricFactory(key="outcome.revenue", chain_stage=Metric.ChainStage.REVENUE_GROWTH)  # no values
    store_values(metrics, stores, PERIODS[1:5], lagged_panel[:, :, 1:5])
    with mock.patch("linkage.tasks.run_linkage_task.delay"):
        run = start_linkage_run(created_by=None)
    assert run.metric_keys == ["employee.job_satisfaction", "customer.csat"]
    assert (run.first_period, run.last_period) == ("2026-02", "2026-05")
    assert run.level == OrgUnit.Level.STORE and run.max_lag == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"metric_keys": ["customer.csat", "no.such", "also.missing"]}, "metric_keys"),
        ({"metric_keys": ["customer.csat"]}, "metric_keys"),
        ({"max_lag": 7}, "max_lag"),
        ({"max_lag": -1}, "max_lag"),
        ({"level": "galaxy"}, "level"),
        ({"first_period": "2026-13"}, "first_period"),
        ({"first_period": "2026-05", "last_period": "2026-02"}, "last_period"),
        ({"first_period": "2026-01", "last_period": "2026-Q2"}, "last_period"),
    ],
)
def test_start_linkage_run_rejects_bad_settings_and_writes_nothing(
    metrics, stores, lagged_panel, arguments, field
):
    store_values(metrics, stores, PERIODS, lagged_panel)
    with pytest.raises(InvalidLinkageRun) as error:
        start_linkage_run(created_by=None, **arguments)
    assert field in error.value.errors
    assert LinkageRun.objects.count() == 0


def test_start_linkage_run_names_every_unknown_metric_key(metrics):
    with pytest.raises(InvalidLinkageRun) as error:
        start_linkage_run(created_by=None, metric_keys=["customer.csat", "no.such", "nor.this"])
    assert "no.such" in error.value.message and "nor.this" in error.value.message


def test_start_linkage_run_refuses_when_no_data(metrics):
    with pytest.raises(InvalidLinkageRun) as error:
        start_linkage_run(
            created_by=None, metric_keys=["employee.job_satisfaction", "customer.csat"]
        )
    assert "first_period" in error.value.errors


def test_start_linkage_run_refuses_a_period_range_without_values(metrics, stores, lagged_panel):
    store_values(metrics, stores, PERIODS, lagged_panel)
    with pytest.raises(InvalidLinkageRun) as error:
        start_linkage_run(created_by=None, first_period="2030-01", last_period="2030-06")
    assert "has values" in error.value.errors["first_period"][0]
    assert LinkageRun.objects.count() == 0


@pytest.fixture
def run_now(django_capture_on_commit_callbacks):
    """Start a run and let its on-commit task run (eager Celery), as after a real commit."""

    def start(**arguments):
        with django_capture_on_commit_callbacks(execute=True):
            run = start_linkage_run(created_by=None, **arguments)
        run.refresh_from_db()
        return run

    return start


def _pairs(panel, lag):
    x, y, units = lagged_pairs(panel[0], panel[1], lag)
    return x, y, np.unique(units).size


def test_compute_linkage_run_matches_pearsonr_on_the_same_pairs(
    run_now, metrics, stores, lagged_panel
):
    store_values(metrics, stores, PERIODS, lagged_panel)
    run = run_now(max_lag=1)
    assert run.status == LinkageRun.Status.DONE and run.progress == 100
    assert run.n_units == 20 and run.excluded_cells == 0
    assert run.data_snapshot_at == max(MetricValue.objects.values_list("computed_at", flat=True))
    results = {row.lag: row for row in LinkageResult.objects.filter(run=run)}
    assert sorted(results) == [-1, 0, 1]
    for lag, row in results.items():
        x, y, units = _pairs(lagged_panel, lag)
        assert row.x_metric == metrics[0] and row.y_metric == metrics[1]
        assert row.n_pairs == x.size and row.n_units == units
        assert row.r == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-9)
        assert row.snapshot_at == run.data_snapshot_at
    assert results[1].r > 0.8 and results[1].q < 0.05
    assert abs(results[-1].r) < 0.5


def test_compute_linkage_run_uses_units_for_the_p_value(run_now, metrics, stores, lagged_panel):
    store_values(metrics, stores, PERIODS, lagged_panel)
    run = run_now(max_lag=1)
    row = LinkageResult.objects.get(run=run, lag=1)
    t = row.r * np.sqrt((row.n_units - 2) / (1 - row.r**2))
    assert row.p == pytest.approx(2 * stats.t.sf(abs(t), row.n_units - 2), rel=1e-6)


def test_compute_linkage_run_leaves_out_and_counts_suppressed_cells(
    run_now, metrics, stores, lagged_panel
):
    hidden = {(0, 0, 0), (0, 3, 2), (1, 5, 4)}
    store_values(metrics, stores, PERIODS, lagged_panel, suppressed=hidden)
    run = run_now(max_lag=1)
    assert run.excluded_cells == 3
    assert any("3 suppressed cell(s)" in warning for warning in run.warnings)
    masked = lagged_panel.copy()
    for cell in hidden:
        masked[cell] = np.nan
    x, y, _ = _pairs(masked, 1)
    row = LinkageResult.objects.get(run=run, lag=1)
    assert row.n_pairs == x.size == 20 * 5 - 3
    assert row.r == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-9)


def test_compute_linkage_run_stores_key_drivers_and_sample_warnings(
    run_now, metrics, stores, lagged_panel
):
    store_values(metrics, stores, PERIODS, lagged_panel)
    run = run_now(max_lag=1)
    drivers = run.key_drivers
    assert drivers["outcome"] == "customer.csat" and drivers["n"] == 20
    assert [row["metric"] for row in drivers["drivers"]] == ["employee.job_satisfaction"]
    # One driver takes all of R²: its Shapley weight is the squared correlation of unit means.
    x_means, y_means = lagged_panel[0, :, :-1].mean(axis=1), lagged_panel[1, :, 1:].mean(axis=1)
    r = stats.pearsonr(x_means, y_means).statistic
    assert drivers["drivers"][0]["shapley"] == pytest.approx(r**2, rel=1e-9)
    assert any("20 units" in warning for warning in run.warnings)


def test_compute_linkage_run_stores_the_error_and_no_results(
    run_now, metrics, stores, lagged_panel
):
    store_values(metrics, stores, PERIODS, lagged_panel)
    with mock.patch("linkage.services.runs.linkage_stats", side_effect=ValueError("panel broke")):
        run = run_now()
    assert run.status == LinkageRun.Status.FAILED
    assert "panel broke" in run.error and run.finished_at is not None
    assert not LinkageResult.objects.filter(run=run).exists()


def test_compute_linkage_run_writes_nothing_when_the_chain_update_fails(
    run_now, metrics, stores, lagged_panel
):
    store_values(metrics, stores, PERIODS, lagged_panel)
    with mock.patch(
        "linkage.services.runs.update_chain_evidence", side_effect=RuntimeError("chain broke")
    ):
        run = run_now()
    assert run.status == LinkageRun.Status.FAILED and "chain broke" in run.error
    assert not LinkageResult.objects.filter(run=run).exists()


def test_compute_linkage_run_ignores_finished_and_missing_runs(
    run_now, metrics, stores, lagged_panel
):
    store_values(metrics, stores, PERIODS, lagged_panel)
    run = run_now()
    count = LinkageResult.objects.filter(run=run).count()
    with mock.patch("linkage.services.runs.linkage_stats") as engine:
        compute_linkage_run(run.id)
        compute_linkage_run(run.id + 1000)
    engine.assert_not_called()
    assert LinkageResult.objects.filter(run=run).count() == count == 3
