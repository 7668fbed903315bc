"""Real services for integration tests: PostgreSQL, the Redis broker and a Celery worker."""

from urllib.parse import urlparse

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from cxsurvey.celery import app as celery_app
from tests.conftest import service_reachable, skip_or_fail
from tests.integration.services import BROKER_URL, celery_broker


@pytest.fixture
def postgres_and_redis() -> None:
    """Skip (or fail in CI) unless the database is PostgreSQL and the broker answers."""
    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL)")
    broker = urlparse(BROKER_URL)
    if not service_reachable(broker.hostname or "127.0.0.1", broker.port or 6379):
        skip_or_fail(f"Redis is not reachable at {BROKER_URL}")


@pytest.fixture
def worker(postgres_and_redis):
    """A real Celery worker (solo pool) consuming from the real Redis broker."""
    with celery_broker(BROKER_URL):
        celery_app.control.purge()  # leftovers of an earlier run would confuse the wait
        with start_worker(celery_app, pool="solo", perform_ping_check=False):
            yield
