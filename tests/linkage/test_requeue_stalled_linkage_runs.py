"""A run whose task never reached the broker stays pending and is queued again by the sweep."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from linkage.models import LinkageRun
from linkage.services.runs import STALLED_AFTER, requeue_stalled_linkage_runs, start_linkage_run
from surveys.models import Metric
from tests.factories import MetricFactory, MetricValueFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db

DELAY = "linkage.services.runs.run_linkage_task.delay"
KEYS = ["employee.enps", "customer.nps"]


@pytest.fixture
def values():
    enps = MetricFactory(key=KEYS[0], chain_stage=Metric.ChainStage.EMPLOYEE_LOYALTY)
    nps = MetricFactory(key=KEYS[1], chain_stage=Metric.ChainStage.CUSTOMER_LOYALTY)
    for index in range(4):
        unit = OrgUnitFactory()
        for period in ("2026-01", "2026-02"):
            MetricValueFactory(metric=enps, unit=unit, period=period, value=10.0 * index)
            MetricValueFactory(metric=nps, unit=unit, period=period, value=5.0 + index)


def _broker_down(run_id: int) -> None:
    raise BrokerError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


def test_start_linkage_run_with_broker_down_leaves_the_run_pending(
    values, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(DELAY, _broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        run = start_linkage_run(created_by=None, metric_keys=KEYS)
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.PENDING and run.started_at is None


def test_admin_start_with_broker_down_redirects_to_the_pending_run(
    client, owner, values, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(DELAY, _broker_down)
    client.force_login(owner)
    form = {"level": "store", "metric_keys": KEYS, "max_lag": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:linkage_linkagerun_add"), form)
    run = LinkageRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:linkage_linkagerun_change", args=[run.pk])


def test_requeue_stalled_linkage_runs_queues_only_old_unclaimed_pending_runs(monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(DELAY, queued.append)
    settings = {"first_period": "2026-01", "last_period": "2026-02", "metric_keys": KEYS}
    stalled = LinkageRun.objects.create(**settings)
    recent = LinkageRun.objects.create(**settings)
    claimed = LinkageRun.objects.create(
        **settings, status=LinkageRun.Status.RUNNING, started_at=timezone.now()
    )
    finished = LinkageRun.objects.create(**settings, status=LinkageRun.Status.DONE)
    old = timezone.now() - STALLED_AFTER - timedelta(minutes=1)
    LinkageRun.objects.exclude(pk=recent.pk).update(created_at=old)

    assert requeue_stalled_linkage_runs() == 1
    assert queued == [stalled.pk]
    assert {claimed.pk, finished.pk, recent.pk}.isdisjoint(queued)
