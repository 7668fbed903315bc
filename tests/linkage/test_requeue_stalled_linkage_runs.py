"""The stalled-run sweep: a run whose task never reached the broker stays pending and is
queued again; a running run whose worker was lost (retries exhausted, worker killed) is queued
again a bounded number of times, then marked failed with a message a leader can act on."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from linkage.models import LinkageRun
from linkage.services.runs import (
    MAX_REQUEUES,
    RUNNING_LOST_AFTER,
    STALLED_AFTER,
    requeue_stalled_linkage_runs,
    start_linkage_run,
)
from linkage.tasks import run_linkage_task
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


# ------------------------------------------------------------------ runs whose worker was lost


def _lose_for_a_while(run: LinkageRun) -> None:
    """No heartbeat (claim or progress) since RUNNING_LOST_AFTER: the sweep presumes it lost."""
    stale = timezone.now() - RUNNING_LOST_AFTER - timedelta(minutes=1)
    LinkageRun.objects.filter(pk=run.pk).update(updated_at=stale)


def _last_try(run: LinkageRun) -> None:
    """The task's final retry: an error it would retry on now propagates (retries exhausted)."""
    run_linkage_task.apply(args=(run.pk,), retries=run_linkage_task.max_retries, throw=True)


def _database_gone(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def _worker_killed(*args, **kwargs):
    raise SystemExit(-9)  # not an Exception: nothing in the service may catch it


def test_run_linkage_task_with_retries_exhausted_leaves_the_run_running(values, monkeypatch):
    run = start_linkage_run(created_by=None, metric_keys=KEYS, enqueue=False)
    monkeypatch.setattr("linkage.services.runs.metric_values_snapshot_at", _database_gone)

    with pytest.raises(OperationalError):
        _last_try(run)

    run.refresh_from_db()
    assert run.status == LinkageRun.Status.RUNNING  # what the sweep has to pick up


@pytest.mark.parametrize(
    ("target", "failure", "raised"),
    [
        ("linkage.services.runs.metric_values_snapshot_at", _database_gone, OperationalError),
        ("linkage.services.runs._store_results", _worker_killed, SystemExit),
    ],
    ids=["retries exhausted", "worker died mid-run"],
)
def test_requeue_stalled_linkage_runs_queues_a_lost_run_again_and_it_finishes(
    values, monkeypatch, target, failure, raised
):
    run = start_linkage_run(created_by=None, metric_keys=KEYS, enqueue=False)
    with monkeypatch.context() as broken, pytest.raises(raised):
        broken.setattr(target, failure)
        _last_try(run)
    queued: list[int] = []
    monkeypatch.setattr(DELAY, queued.append)

    assert requeue_stalled_linkage_runs() == 0  # recently updated: maybe still working
    _lose_for_a_while(run)
    assert requeue_stalled_linkage_runs() == 1
    assert requeue_stalled_linkage_runs() == 0  # one loss counts once

    assert queued == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.requeues) == (LinkageRun.Status.RUNNING, 1)
    run_linkage_task(run.pk)  # the queued delivery
    run.refresh_from_db()
    assert (run.status, run.error) == (LinkageRun.Status.DONE, "")
    assert run.results.exists()


def test_requeue_stalled_linkage_runs_fails_a_run_lost_too_often_with_a_readable_error(
    values, monkeypatch, client, leader
):
    run = start_linkage_run(created_by=None, metric_keys=KEYS, enqueue=False)
    queued: list[int] = []
    monkeypatch.setattr(DELAY, queued.append)

    for _ in range(MAX_REQUEUES + 1):
        with monkeypatch.context() as broken, pytest.raises(SystemExit):
            broken.setattr("linkage.services.runs._store_results", _worker_killed)
            run_linkage_task(run.pk)
        _lose_for_a_while(run)
        requeue_stalled_linkage_runs()

    run.refresh_from_db()
    assert queued == [run.pk] * MAX_REQUEUES
    assert run.status == LinkageRun.Status.FAILED and run.finished_at is not None
    assert run.error.startswith(f"The computation stopped {MAX_REQUEUES + 1} times")
    assert "Start the run again" in run.error and "Error" not in run.error
    run_linkage_task(run.pk)  # a late duplicate delivery leaves a failed run alone
    assert LinkageRun.objects.get(pk=run.pk).status == LinkageRun.Status.FAILED
    client.force_login(leader)
    page = client.get(reverse("admin:linkage_linkagerun_change", args=[run.pk]))
    assert "The run failed: The computation stopped" in page.content.decode()
