"""A real Celery worker on Redis computes a linkage run started through the service."""

import os
import time
from contextlib import contextmanager
from urllib.parse import urlparse

import numpy as np
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from scipy import stats

from cxsurvey.celery import app as celery_app
from linkage.models import LinkageResult, LinkageRun, Metric, MetricValue
from linkage.services.runs import start_linkage_run
from linkage.stats import lagged_pairs
from tests.conftest import service_reachable, skip_or_fail
from tests.factories import MetricFactory, OrgUnitFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/7"
PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]


@contextmanager
def real_delivery(url: str):
    """Send tasks to the broker at `url` instead of running them eagerly; restore afterwards."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    saved_environment = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url  # Celery reads this before its own configuration
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    celery_app._after_fork()  # forget pooled connections to another broker
    try:
        yield
    finally:
        if saved_environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_environment
        celery_app.conf.update(saved)
        celery_app._after_fork()


@pytest.fixture
def worker():
    if connection.vendor != "postgresql":
        skip_or_fail("the linkage worker test needs PostgreSQL (set DATABASE_URL)")
    broker = urlparse(BROKER_URL)
    if not service_reachable(broker.hostname or "127.0.0.1", broker.port or 6379):
        skip_or_fail(f"Redis is not reachable at {BROKER_URL}")
    with real_delivery(BROKER_URL):
        celery_app.control.purge()  # messages left by an interrupted run
        with start_worker(celery_app, pool="solo", perform_ping_check=False):
            yield


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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (LinkageRun.Status.DONE, LinkageRun.Status.FAILED):
            break
        time.sleep(0.1)
    return run.status


def test_worker_computes_a_linkage_run_started_through_the_service(panel, worker):
    run = start_linkage_run(created_by=None, metric_keys=["employee.enps", "customer.nps"])
    assert wait_for_status(run) == LinkageRun.Status.DONE, run.error
    assert run.progress == 100 and run.n_units == 12 and run.started_at is not None
    lag_one = LinkageResult.objects.get(run=run, lag=1)
    x, y, _ = lagged_pairs(*panel, 1)
    assert lag_one.r == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-9)
    assert LinkageResult.objects.filter(run=run).count() == 3
