"""A real Celery worker on Redis turns submissions into scores for store, region and company."""

import os
import time
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from cxsurvey.celery import app as celery_app
from linkage.models import MetricValue
from surveys.models import DirtyScoreCell
from surveys.services import submit_response
from tests.conftest import service_reachable, skip_or_fail
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/6"


@contextmanager
def celery_broker(url: str):
    """Point the app at `url` with real (non-eager) delivery; restore the config afterwards."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    saved_environment = os.environ.get("CELERY_BROKER_URL")
    # Celery prefers the CELERY_BROKER_URL environment variable over its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    celery_app._after_fork()  # drop pooled connections to the previous broker
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
        skip_or_fail("the worker test needs PostgreSQL (set DATABASE_URL)")
    broker = urlparse(BROKER_URL)
    if not service_reachable(broker.hostname or "127.0.0.1", broker.port or 6379):
        skip_or_fail(f"Redis is not reachable at {BROKER_URL}")
    with celery_broker(BROKER_URL):
        celery_app.control.purge()  # leftovers of an earlier run would confuse the wait
        with start_worker(celery_app, pool="solo", perform_ping_check=False):
            yield


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_worker_turns_submissions_into_scores_at_every_level(org_tree, worker):
    survey = SurveyFactory()
    QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    north_store, south_store = org_tree["stores"][0], org_tree["stores"][2]
    for unit, score in ((north_store, 10), (north_store, 9), (south_store, 2)):
        submit_response(survey=survey, unit=unit, answers={"nps": score})

    def settled() -> bool:
        company = MetricValue.objects.filter(unit=org_tree["company"]).first()
        return company is not None and company.n == 3 and not DirtyScoreCell.objects.exists()

    assert wait_for(settled), "the worker did not compute the scores in time"
    values = {row.unit_id: row for row in MetricValue.objects.filter(metric__key="customer.nps")}
    assert values[north_store.pk].value == 100.0 and values[north_store.pk].n == 2
    assert values[org_tree["north"].pk].value == 100.0
    assert values[south_store.pk].value == -100.0
    assert values[org_tree["company"].pk].value == pytest.approx(100 / 3)
