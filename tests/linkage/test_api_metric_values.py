"""GET /api/v1/metric-values/ (and its export): filters, unit scope and suppression."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from tests.factories import AnalystFactory, LeaderFactory, MetricFactory, MetricValueFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/metric-values/"


@pytest.fixture
def values(org_tree):
    """customer.nps for every store over three months; one small employee group suppressed."""
    nps = MetricFactory(key="customer.nps", aggregation="nps")
    enps = MetricFactory(key="employee.enps", aggregation="nps")
    for store in org_tree["stores"]:
        for month, value in (("2026-01", 10.0), ("2026-02", 20.0), ("2026-03", 30.0)):
            MetricValueFactory(metric=nps, unit=store, period=month, value=value, n=40)
    n1 = org_tree["stores"][0]
    # Stored as aggregation writes a hidden group; n must still never leave the platform.
    MetricValueFactory(
        metric=enps, unit=n1, period="2026-01", value=None, n=3, ci_low=None, suppressed=True
    )
    MetricValueFactory(metric=enps, unit=org_tree["north"], period="2026-01", value=12.5, n=9)
    return {"nps": nps, "enps": enps}


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_metric_values_filter_by_metric_unit_subtree_and_period(values, owner):
    response = client_for(owner).get(
        URL,
        {
            "metric": "customer.nps",
            "unit": "north",
            "period_from": "2026-02",
            "period_to": "2026-03",
        },
    )

    cells = {(row["unit"], row["period"]) for row in results(response)}
    assert cells == {(store, month) for store in ("n1", "n2") for month in ("2026-02", "2026-03")}


def test_metric_values_without_subtree_give_the_unit_only(values, owner):
    response = client_for(owner).get(
        URL, {"metric": "employee.enps", "unit": "north", "subtree": "0"}
    )

    assert [(row["unit"], row["value"], row["n"]) for row in results(response)] == [
        ("north", 12.5, 9)
    ]


def test_metric_values_filter_by_level(values, owner):
    response = client_for(owner).get(URL, {"metric": "employee.enps", "level": "region"})

    assert [row["unit"] for row in results(response)] == ["north"]


def test_metric_values_suppressed_cells_are_null(values, owner):
    response = client_for(owner).get(URL, {"metric": "employee.enps", "unit": "n1"})

    [cell] = results(response)
    assert cell["suppressed"] is True
    assert (cell["value"], cell["ci_low"], cell["ci_high"], cell["n"]) == (None, None, None, None)


def test_metric_values_are_scoped_to_the_managers_subtree(values, unit_member):
    response = client_for(unit_member).get(URL, {"metric": "customer.nps", "page_size": 1000})

    assert {row["unit"] for row in results(response)} == {"n1", "n2"}
    outside = client_for(unit_member).get(URL, {"unit": "s1"})
    unknown = client_for(unit_member).get(URL, {"unit": "atlantis"})
    assert outside.status_code == unknown.status_code == 400
    assert outside.json()["error"]["message"] == "Unit 's1' is not known."


def test_metric_values_leaders_and_analysts_see_every_unit(values):
    for user in (LeaderFactory(), AnalystFactory()):
        response = client_for(user).get(URL, {"metric": "customer.nps", "page_size": 1000})
        assert len(results(response)) == 12


def test_metric_values_forbid_outsiders_and_anonymous(values, outsider):
    assert client_for(outsider).get(URL).status_code == 403
    assert client_for(None).get(URL).status_code == 401
    assert client_for(outsider).get(URL + "export/").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {"period_from": "2026-13"},
        {"period_from": "2026-03", "period_to": "2026-01"},
        {"period_from": "2026-01", "period_to": "2026-Q2"},
        {"level": "galaxy"},
        {"metric": ",,,"},
        {"metric": "customer.nps,\x00"},
        {"subtree": "maybe"},
        {"unit": "\x00"},
        {"cursor": "cD1hYmM="},  # position "abc"
    ],
)
def test_metric_values_bad_filters_are_client_errors(values, owner, query):
    response = client_for(owner).get(URL, query)

    assert response.status_code in (400, 404)
    assert response.json()["error"]["status"] == response.status_code


def test_metric_values_export_refuses_a_nul_metric_key_before_streaming(values, owner):
    response = client_for(owner).get(URL + "export/", {"metric": "\x00", "format": "csv"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"metric": ["Null characters are not allowed."]}


def test_metric_values_export_csv_hides_suppressed_cells(values, owner):
    response = client_for(owner).get(URL + "export/", {"metric": "employee.enps", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, rows = lines[0], lines[1:]
    row = dict(zip(header, next(line for line in rows if line[1] == "n1"), strict=True))
    assert (row["value"], row["ci_low"], row["ci_high"], row["n"]) == ("", "", "", "")
    assert row["suppressed"] == "True"


def test_metric_values_export_by_suffix_is_xlsx(values, owner):
    from openpyxl import load_workbook

    response = client_for(owner).get(URL + "export.xlsx", {"metric": "employee.enps"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    suppressed = next(row for row in rows[1:] if row[1] == "n1")
    assert suppressed[5:9] == (None, None, None, None)
    visible = next(row for row in rows[1:] if row[1] == "north")
    assert visible[5] == 12.5 and visible[8] == 9


def test_metric_values_show_plausibility_flags_of_visible_cells_only(org_tree, owner):
    csat = MetricFactory(key="customer.csat", aggregation="top_box")
    enps = MetricFactory(key="employee.enps", aggregation="nps")
    store = org_tree["stores"][0]
    flags = ["too_good_to_be_true"]
    MetricValueFactory(metric=csat, unit=store, value=99.0, n=400, details={"flags": flags})
    MetricValueFactory(
        metric=enps, unit=store, value=None, n=0, suppressed=True, details={"threshold": 5}
    )
    rows = {row["metric"]: row for row in results(client_for(owner).get(URL, {"unit": "n1"}))}
    assert rows["customer.csat"]["flags"] == ["too_good_to_be_true"]
    assert rows["employee.enps"]["flags"] == [] and rows["employee.enps"]["n"] is None


def test_metric_values_pages_follow_a_cursor_to_every_row_once(values, owner):
    client = client_for(owner)
    page = client.get(URL, {"page_size": 4}).json()
    seen = list(page["results"])
    assert page["previous"] is None
    while page["next"]:
        page = client.get(page["next"]).json()
        seen.extend(page["results"])
        assert len(page["results"]) <= 4

    everything = client.get(URL, {"page_size": 1000}).json()["results"]
    keys = [(row["metric"], row["unit"], row["period"]) for row in seen]
    assert len(keys) == len(set(keys)) == len(everything) >= 12
    assert seen == everything


def test_metric_values_cursor_keeps_the_filters(values, owner):
    client = client_for(owner)
    first = client.get(URL, {"metric": "customer.nps", "period_from": "2026-02", "page_size": 3})
    second = client.get(first.json()["next"]).json()

    rows = first.json()["results"] + second["results"]
    assert {row["period"] for row in rows} <= {"2026-02", "2026-03"}
    assert {row["metric"] for row in rows} == {"customer.nps"}
    assert second["previous"] is not None
