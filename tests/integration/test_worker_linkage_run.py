"""A real Celery worker on Redis computes a linkage run started through the service."""

import numpy as np
import pytest
from scipy import stats

from linkage.models import LinkageResult, LinkageRun
from linkage.services.runs import start_linkage_run
from linkage.stats import lagged_pairs
from surveys.models import Metric, MetricValue
from tests.factories import MetricFactory, OrgUnitFactory
from tests.integration.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]


@pytest.fixture
def panel():
    """eNPS(t) drives NPS(t+1) in 12 stores, committed so the worker can read it."""
    enps = MetricFactory(key="employee.enps", chain_stage=Metric.ChainStage.EMPLOYEE_LOYALTY)
    nps = MetricFactory(key="customer.nps", chain_stage=Metric.ChainStage.CUSTOMER_LOYALTY)
    rng = np.random.default_rng(21)
    x = rng.normal(20, 15, size=(12, len(PERIODS)))
    y = rng.normal(30, 15, size=x.shape)
    y[:, 1:] = 30 + (x[:, :-1] - 20) + rng.normal(0, 5, size=(12, len(PERIODS) - 1))
    units = [OrgUnitFactory() for _ in range(12)]
    MetricValue.objects.bulk_create(
        MetricValue(metric=metric, unit=unit, period=period, value=float(values[u, t]))
        for metric, values in ((enps, x), (nps, y))
        for u, unit in enumerate(units)
        for t, period in enumerate(PERIODS)
    )
    return x, y


def wait_for_status(run: LinkageRun, timeout: float = 30.0) -> str:
    def finished() -> bool:
        run.refresh_from_db()
        return run.status in (LinkageRun.Status.DONE, LinkageRun.Status.FAILED)

    wait_for(finished, timeout)
    return run.status


def test_worker_computes_a_linkage_run_started_through_the_service(panel, worker):
    run = start_linkage_run(created_by=None, metric_keys=["employee.enps", "customer.nps"])
    assert wait_for_status(run) == LinkageRun.Status.DONE, run.error
    assert run.progress == 100 and run.n_units == 12 and run.started_at is not None
    lag_one = LinkageResult.objects.get(run=run, lag=1)
    x, y, _ = lagged_pairs(*panel, 1)
    assert lag_one.r == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-9)
    assert LinkageResult.objects.filter(run=run).count() == 3
