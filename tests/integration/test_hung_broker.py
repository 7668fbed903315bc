"""A broker that accepts connections but never answers (a SIGSTOPped Redis) never fails or
stalls a stored submission: it answers 201 within about a second of its commit, even with a
response.submitted webhook to queue, and the sweeps catch up once the broker answers again.
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

from common.broker import breaker
from cxsurvey import deploy
from cxsurvey.celery import app as celery_app
from surveys.models import DirtyScoreCell, MetricValue, Response, WebhookDelivery
from surveys.services.scores import sweep_dirty_cells
from surveys.tasks import recompute_scores_task
from tests.conftest import service_reachable, skip_or_fail
from tests.factories import QuestionFactory, SurveyFactory, WebhookSubscriptionFactory
from tests.integration.services import celery_broker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PORTS = range(6390, 6400)  # private Redis servers of this test, never the shared one
SUBMISSIONS = 12
# What a client may wait for a stored answer while the broker hangs (the issue: "within a
# second of its commit"); the test prints the measured figures.
BUDGET_SECONDS = 1.5


def _free_port() -> int:
    for port in PORTS:
        if not service_reachable("127.0.0.1", port):
            return port
    pytest.skip("no free port for a private Redis in 6390-6399")


@contextmanager
def private_redis() -> Iterator[tuple[subprocess.Popen, str]]:
    """A throw-away redis-server on 127.0.0.1 (no persistence), stopped and killed after."""
    binary = "/usr/bin/redis-server"
    if not os.path.exists(binary):
        skip_or_fail("redis-server is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not service_reachable("127.0.0.1", port):
            assert time.monotonic() < deadline, "the private Redis did not start"
            time.sleep(0.05)
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait(timeout=10)


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def survey_with_webhook(org_tree):
    survey = SurveyFactory(slug="hung", root_unit=org_tree["company"])
    QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    WebhookSubscriptionFactory(survey=survey, events=["response.submitted"])
    return survey


def _submit(api_client) -> tuple[int, float]:
    started = time.monotonic()
    answer = api_client.post(
        "/api/v1/submissions/",
        {"survey": "hung", "unit": "n1", "answers": {"nps": 9}},
        format="json",
    )
    return answer.status_code, time.monotonic() - started


def test_submissions_answer_201_fast_while_the_broker_hangs(
    postgres, survey_with_webhook, api_client
):
    breaker.reset()
    with private_redis() as (server, url), celery_broker(url):
        # A connection made while the broker was healthy, as in a running web process.
        recompute_scores_task.apply_async((0, "2026-01"), retry=False)
        server.send_signal(signal.SIGSTOP)
        try:
            results = [_submit(api_client) for _ in range(SUBMISSIONS)]
            breaker.reset()  # a new process, or the back-off over: a cold publish
            celery_app._after_fork()  # and no pooled connection either
            results.append(_submit(api_client))
        finally:
            server.send_signal(signal.SIGCONT)
    breaker.reset()
    statuses = [status for status, _ in results]
    times = sorted(seconds for _, seconds in results)
    print(
        f"\nhung broker: {len(results)} submissions, statuses {set(statuses)}, "
        f"slowest {times[-1]:.3f} s, median {times[len(times) // 2]:.3f} s"
    )
    assert statuses == [201] * len(results)
    assert Response.objects.count() == len(results)  # every stored one answered 201
    assert times[-1] < BUDGET_SECONDS, times
    # Nothing was lost: the cell waits for the sweep, the deliveries for theirs.
    assert DirtyScoreCell.objects.filter(survey=survey_with_webhook).exists()
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count() == len(
        results
    )
    celery_app.conf.task_always_eager = True  # the sweep, run here as beat's worker would
    try:
        sweep_dirty_cells()
    finally:
        celery_app.conf.task_always_eager = False
    store_nps = MetricValue.objects.get(metric__key="customer.nps", unit__code="n1", period__gt="")
    assert store_nps.n == len(results)
    assert settings.BROKER_SOCKET_TIMEOUT <= 1.0


def test_cache_that_hangs_does_not_fail_the_public_throttle(
    postgres, survey_with_webhook, api_client
):
    """The throttle counts in Redis; a stopped Redis lets the submission through in time."""
    from django.core.cache import caches
    from django.test import override_settings

    with private_redis() as (server, url):
        timeout = settings.BROKER_SOCKET_TIMEOUT
        caches_setting = {"default": deploy.redis_cache(url, socket_timeout=timeout)}
        with override_settings(CACHES=caches_setting):
            caches["default"].set("warm", 1)
            server.send_signal(signal.SIGSTOP)
            try:
                status, seconds = _submit(api_client)
            finally:
                server.send_signal(signal.SIGCONT)
    print(f"\nhung cache: status {status} in {seconds:.3f} s")
    assert status == 201
    assert seconds < BUDGET_SECONDS + 0.5
