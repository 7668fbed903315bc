"""With the broker down a submission or a linkage run is still saved fast; a sweep finishes it."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from cxsurvey.celery import app as celery_app
from linkage.models import LinkageRun
from linkage.services.runs import STALLED_AFTER, start_linkage_run
from linkage.tasks import requeue_stalled_linkage_runs_task
from surveys.models import DirtyScoreCell, Metric, MetricValue, Response
from surveys.services import submit_response
from surveys.tasks import recompute_dirty_cells_task
from tests.factories import (
    MetricFactory,
    MetricValueFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
)
from tests.integration.services import BROKER_URL, celery_broker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def services(postgres_and_redis):
    """Every test here needs PostgreSQL and the real broker (the worker starts mid-test)."""


def test_submission_with_broker_down_is_saved_and_swept_when_broker_returns(org_tree):
    survey = SurveyFactory()
    QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    store = org_tree["stores"][0]
    with celery_broker(CLOSED_PORT_BROKER):
        started = time.monotonic()
        response = submit_response(survey=survey, unit=store, answers={"nps": 10})
        elapsed = time.monotonic() - started
    assert elapsed < 5.0, f"submission took {elapsed:.1f} s with the broker down"
    assert Response.objects.filter(pk=response.pk).exists()
    assert DirtyScoreCell.objects.filter(survey=survey).count() == 1  # waits for the sweep
    assert not MetricValue.objects.exists()

    with celery_broker(BROKER_URL):
        celery_app.control.purge()
        with start_worker(celery_app, pool="solo", perform_ping_check=False):
            recompute_dirty_cells_task.delay()  # what beat sends every minute
            deadline = time.monotonic() + 20
            while DirtyScoreCell.objects.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
    assert not DirtyScoreCell.objects.exists()
    assert MetricValue.objects.get(unit=store, metric__key="customer.nps").value == 100.0


def test_linkage_run_with_broker_down_stays_pending_and_is_swept_when_broker_returns():
    enps = MetricFactory(key="employee.enps", chain_stage=Metric.ChainStage.EMPLOYEE_LOYALTY)
    nps = MetricFactory(key="customer.nps", chain_stage=Metric.ChainStage.CUSTOMER_LOYALTY)
    for index in range(12):
        unit = OrgUnitFactory()
        for month, period in enumerate(("2026-01", "2026-02", "2026-03")):
            MetricValueFactory(metric=enps, unit=unit, period=period, value=index + month)
            MetricValueFactory(metric=nps, unit=unit, period=period, value=2 * index - month)
    with celery_broker(CLOSED_PORT_BROKER):
        started = time.monotonic()
        run = start_linkage_run(created_by=None, metric_keys=["employee.enps", "customer.nps"])
        elapsed = time.monotonic() - started
    assert elapsed < 5.0, f"starting a run took {elapsed:.1f} s with the broker down"
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.PENDING
    LinkageRun.objects.filter(pk=run.pk).update(
        created_at=run.created_at - STALLED_AFTER - STALLED_AFTER
    )

    with celery_broker(BROKER_URL):
        celery_app.control.purge()
        with start_worker(celery_app, pool="solo", perform_ping_check=False):
            requeue_stalled_linkage_runs_task.delay()  # what beat sends every five minutes
            deadline = time.monotonic() + 20
            while run.status == LinkageRun.Status.PENDING and time.monotonic() < deadline:
                time.sleep(0.1)
                run.refresh_from_db()
            while run.status == LinkageRun.Status.RUNNING and time.monotonic() < deadline:
                time.sleep(0.1)
                run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE, run.error
    assert run.n_units == 12
