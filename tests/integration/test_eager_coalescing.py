"""Embedded mode (no broker, tasks run in the request) under concurrent submissions: the
recomputes coalesce — no pass inside another, no request running more than its own pass —
and every answer is scored once the burst is over (PostgreSQL, a threaded live server)."""

import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from cxsurvey.celery import app as celery_app
from surveys.models import DirtyScoreCell, MetricValue, OrgUnit, Response
from surveys.services import scores
from surveys.services.metrics import ensure_metrics_for_questions
from tests.conftest import skip_or_fail
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

THREADS = 8
PER_THREAD = 25


@pytest.fixture(autouse=True)
def embedded_mode(settings):
    if connection.vendor != "postgresql":
        skip_or_fail("concurrent submissions need PostgreSQL (set DATABASE_URL)")
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public_submit": None,
        },
    }
    yield
    celery_app.conf.task_always_eager = previous


class PassRecorder:
    """Wraps the recompute pass: how deep passes nest and how many run per thread (each
    request of the live server runs in a thread of its own)."""

    def __init__(self, original):
        self.original = original
        self.local = threading.local()
        self.lock = threading.Lock()
        self.passes = 0
        self.deepest = 0
        self.most_per_thread = 0

    def __call__(self, **kwargs):
        depth = getattr(self.local, "depth", 0) + 1
        self.local.depth = depth
        self.local.count = getattr(self.local, "count", 0) + 1
        with self.lock:
            self.passes += 1
            self.deepest = max(self.deepest, depth)
            self.most_per_thread = max(self.most_per_thread, self.local.count)
        try:
            return self.original(**kwargs)
        finally:
            self.local.depth = depth - 1


def post(url: str, body: bytes) -> tuple[int, float]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as reply:
        reply.read()
        return reply.status, time.perf_counter() - started


def test_concurrent_submissions_coalesce_recomputes_in_embedded_mode(
    live_server, org_tree, monkeypatch
):
    survey = SurveyFactory(slug="burst")
    QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    ensure_metrics_for_questions()
    recorder = PassRecorder(scores.apply_dirty_cell)
    monkeypatch.setattr(scores, "apply_dirty_cell", recorder)
    stores = [unit.code for unit in org_tree["stores"]]
    bodies = [
        json.dumps(
            {"survey": "burst", "unit": stores[index % len(stores)], "answers": {"nps": index % 11}}
        ).encode()
        for index in range(THREADS * PER_THREAD)
    ]
    url = f"{live_server.url}/api/v1/submissions/"
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(lambda body: post(url, body), bodies))
    assert [status for status, _ in results] == [201] * len(bodies)

    deadline = time.monotonic() + 30
    while DirtyScoreCell.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # the background pass for the burst's last rows
    company = org_tree["company"]
    scored = MetricValue.objects.get(metric__key="customer.nps", unit=company)
    assert scored.n == Response.objects.count() == len(bodies)
    assert recorder.deepest == 1  # no pass inside another (the old RecursionError)
    assert recorder.most_per_thread == 1  # no request runs anyone else's pass
    assert recorder.passes < len(bodies)  # bursts share passes
    assert OrgUnit.objects.count() == 7
    slowest = max(seconds for _, seconds in results)
    print(f"\n{len(bodies)} submissions, {recorder.passes} passes, slowest {slowest:.3f} s")
