"""Linkage runs through the API: start (queued on commit), status and results, per role."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linkage.models import LinkageResult, LinkageRun
from tests.factories import AnalystFactory, LeaderFactory, MetricFactory, MetricValueFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/linkage-runs/"


@pytest.fixture
def metrics(org_tree):
    employee = MetricFactory(key="employee.enps", chain_stage=1)
    customer = MetricFactory(key="customer.nps", chain_stage=5)
    for store in org_tree["stores"]:
        for metric in (employee, customer):
            MetricValueFactory(metric=metric, unit=store, period="2026-01")
            MetricValueFactory(metric=metric, unit=store, period="2026-02")
    return employee, customer


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_linkage_run_is_created_and_queued_after_commit(
    metrics, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("linkage.services.runs.run_linkage_task.delay", queued.append)
    body = {"level": "store", "metric_keys": ["customer.nps", "employee.enps"], "max_lag": 1}

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(LeaderFactory()).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    run = LinkageRun.objects.get()
    assert response.json()["id"] == run.pk
    assert run.metric_keys == ["employee.enps", "customer.nps"]  # chain order
    assert (run.first_period, run.last_period) == ("2026-01", "2026-02")
    assert queued == [run.pk]


def test_linkage_run_settings_errors_name_the_field(metrics):
    response = client_for(AnalystFactory()).post(
        URL, {"metric_keys": ["customer.nps", "nope.metric"], "max_lag": 9}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"max_lag"}
    response = client_for(AnalystFactory()).post(
        URL, {"metric_keys": ["customer.nps", "nope.metric"]}, format="json"
    )
    assert response.json()["error"]["fields"]["metric_keys"] == [
        "Unknown metric key(s): nope.metric."
    ]
    assert not LinkageRun.objects.exists()


def test_linkage_run_status_and_results(metrics, owner):
    employee, customer = metrics
    run = LinkageRun.objects.create(
        level="store", first_period="2026-01", last_period="2026-02", status="done"
    )
    LinkageResult.objects.create(
        run=run,
        x_metric=employee,
        y_metric=customer,
        lag=0,
        n_pairs=8,
        n_units=4,
        r=0.5,
        snapshot_at=timezone.now(),
    )
    client = client_for(owner)

    status_response = client.get(f"{URL}{run.pk}/")
    results = client.get(f"{URL}{run.pk}/results/")

    assert status_response.json()["status"] == "done"
    [row] = results.json()["results"]
    assert (row["x_metric"], row["y_metric"], row["r"]) == ("employee.enps", "customer.nps", 0.5)
    assert client.get(f"{URL}999999999/results/").status_code == 404


def test_linkage_runs_are_for_leaders_and_analysts_only(metrics, unit_member, outsider):
    for user in (unit_member, outsider):
        assert client_for(user).get(URL).status_code == 403
        assert client_for(user).post(URL, {}, format="json").status_code == 403
    assert client_for(None).get(URL).status_code == 401
    assert not LinkageRun.objects.exists()


def test_linkage_run_retry_with_key_starts_one_run(metrics, monkeypatch):
    monkeypatch.setattr("linkage.services.runs.run_linkage_task.delay", lambda run_id: None)
    client = client_for(LeaderFactory())

    first = client.post(URL, {}, format="json", headers={"Idempotency-Key": "run-1"})
    again = client.post(URL, {}, format="json", headers={"Idempotency-Key": "run-1"})

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert LinkageRun.objects.count() == 1
