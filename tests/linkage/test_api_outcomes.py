"""POST /api/v1/outcomes/: JSON rows or CSV text, errors by item or line, idempotent."""

import json

import pytest
from rest_framework.test import APIClient

from linkage.models import OutcomeImport
from surveys.models import Metric, MetricValue
from tests.factories import AnalystFactory, LeaderFactory, MetricFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/outcomes/"
HEADER = "unit_code,period,metric_key,value\n"


@pytest.fixture
def revenue(org_tree):
    return MetricFactory(key="outcome.revenue", source=Metric.Source.OUTCOME, aggregation="sum")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_outcome_rows_are_upserted_and_rolled_up(revenue):
    rows = [
        {"unit": "n1", "period": "2026-01", "metric": "outcome.revenue", "value": 100},
        {"unit": "n2", "period": "2026-01", "metric": "outcome.revenue", "value": 50.5},
    ]

    response = client_for(LeaderFactory()).post(URL, {"rows": rows}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "applied"
    assert MetricValue.objects.get(unit__code="north").value == 150.5


def test_outcome_row_errors_are_keyed_by_item(revenue):
    rows = [
        {"unit": "n1", "period": "2026-01", "metric": "outcome.revenue", "value": 1},
        {"unit": "zz", "period": "2026-13", "metric": "outcome.revenue", "value": 1},
    ]

    response = client_for(AnalystFactory()).post(URL, {"rows": rows}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["items"]) == ["1"]
    assert len(error["items"]["1"]["row"]) == 2
    assert not MetricValue.objects.exists()


def test_outcome_csv_text_errors_are_keyed_by_line(revenue, owner):
    text = f"{HEADER}n1,2026-01,outcome.revenue,5\nn2,2026-01,outcome.revenue,x\n"

    response = client_for(owner).post(URL, text, content_type="text/csv")

    assert response.status_code == 400
    assert response.json()["error"]["items"] == {"3": {"row": ["value 'x' is not a number"]}}


def test_outcome_csv_skip_bad_writes_the_good_lines(revenue, owner):
    text = f"{HEADER}n1,2026-01,outcome.revenue,5\nzz,2026-01,outcome.revenue,1\n"

    response = client_for(owner).post(URL + "?skip_bad=1", text, content_type="text/csv")

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["lines_written"]) == ("partial", 1)


def test_outcome_csv_with_a_nul_character_is_refused_by_line(revenue, owner):
    text = f"{HEADER}n1,2026-01,outcome.revenue,5\x00\n"

    response = client_for(owner).post(URL, text, content_type="text/csv")

    assert response.status_code == 400
    assert response.json()["error"]["items"] == {
        "2": {"row": ["the line contains a NUL character"]}
    }
    assert "\x00" not in str(OutcomeImport.objects.get().errors)


def test_outcome_shape_errors_are_400(revenue, owner):
    huge = b'{"rows": [{"unit": "n1", "period": "2026-01", "metric": "m.x", "value": 1e400}]}'
    bodies = [huge, b'{"rows": [], "csv": "x"}', b'{"csv": 5}', b'{"rows": "n1"}', b"[1]"]
    # A JSON string is not CSV text, even when it looks like CSV.
    bodies += [b'"\\u0000"', json.dumps(f"{HEADER}n1,2026-01,outcome.revenue,5").encode()]
    for body in bodies:
        response = client_for(owner).post(URL, body, content_type="application/json")
        assert response.status_code == 400, body
    assert not MetricValue.objects.exists()


def test_outcomes_are_forbidden_to_managers_and_outsiders(revenue, unit_member, outsider):
    rows = [{"unit": "n1", "period": "2026-01", "metric": "outcome.revenue", "value": 1}]
    for user in (unit_member, outsider):
        assert client_for(user).post(URL, {"rows": rows}, format="json").status_code == 403
    assert client_for(None).post(URL, {"rows": rows}, format="json").status_code == 401
    assert not OutcomeImport.objects.exists()


def test_outcome_retry_with_key_imports_once(revenue, owner):
    rows = [{"unit": "n1", "period": "2026-01", "metric": "outcome.revenue", "value": 7}]
    client = client_for(owner)

    for _ in range(2):
        response = client.post(
            URL, {"rows": rows}, format="json", headers={"Idempotency-Key": "o-1"}
        )
        assert response.status_code == 201

    assert OutcomeImport.objects.count() == 1


@pytest.fixture
def retention(org_tree):
    return MetricFactory(
        key="outcome.retention_rate", source=Metric.Source.OUTCOME, aggregation="rate"
    )


def retention_row(unit: str, value: float, denominator) -> dict:
    row = {"unit": unit, "period": "2026-01", "metric": "outcome.retention_rate", "value": value}
    return {**row, "denominator": denominator}


def test_outcome_rows_with_denominators_weight_the_roll_up(retention, owner):
    rows = [retention_row("n1", 80, 1000), retention_row("n2", 70, 3000)]

    response = client_for(owner).post(URL, {"rows": rows}, format="json")

    assert response.status_code == 201, response.content
    north = MetricValue.objects.get(unit__code="north")
    # (80·1000 + 70·3000) / 4000 by hand, not the unit mean 75
    assert north.value == pytest.approx(72.5, rel=1e-12)
    assert north.details["denominator"] == 4000


def test_outcome_csv_text_with_a_denominator_column(retention, owner):
    text = "unit_code,period,metric_key,value,denominator\n"
    text += "n1,2026-01,outcome.retention_rate,80,1000\nn2,2026-01,outcome.retention_rate,70,3000\n"

    response = client_for(owner).post(URL, text, content_type="text/csv")

    assert response.status_code == 201, response.content
    assert MetricValue.objects.get(unit__code="north").value == pytest.approx(72.5, rel=1e-12)


@pytest.mark.parametrize("denominator", [0, -3, "many"])
def test_outcome_row_with_a_bad_denominator_is_400_with_field_errors(retention, owner, denominator):
    rows = [retention_row("n1", 80, 1000), retention_row("n2", 70, denominator)]

    response = client_for(owner).post(URL, {"rows": rows}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["rows.1.denominator"]
    assert not MetricValue.objects.exists()


def test_outcome_rows_mixing_denominators_are_refused_by_item(retention, owner):
    rows = [retention_row("n1", 80, 1000), retention_row("n2", 70, None)]

    response = client_for(owner).post(URL, {"rows": rows}, format="json")

    assert response.status_code == 400
    assert "denominator is missing" in response.json()["error"]["items"]["1"]["row"][0]
    assert not MetricValue.objects.exists()
